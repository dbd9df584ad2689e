"""Pod paths seen inside a test folder, for the unmodified upstream files that hard-code them.

`redirect({"/usr/local/etc/jupyterhub": SANDBOX, ...})` makes the filesystem calls those
files make (`open`, `os.path.exists`, `os.path.isdir`, `glob.glob`) resolve each pod path
prefix inside its folder. Paths outside the prefixes are untouched. Standard library only:
it runs in every test virtual environment.
"""

import builtins
import glob
import os


def redirect(mapping):
    prefixes = sorted(mapping.items(), key=lambda kv: -len(kv[0]))

    def to_test(path):
        if isinstance(path, (str, os.PathLike)):
            p = os.fspath(path)
            for prefix, folder in prefixes:
                if p == prefix or p.startswith(prefix + "/"):
                    return folder + p[len(prefix) :]
        return path

    def to_pod(path):
        for prefix, folder in prefixes:
            if path == folder or path.startswith(folder + "/"):
                return prefix + path[len(folder) :]
        return path

    real_open, real_exists, real_isdir, real_glob = (
        builtins.open,
        os.path.exists,
        os.path.isdir,
        glob.glob,
    )
    builtins.open = lambda file, *a, **k: real_open(to_test(file), *a, **k)
    os.path.exists = lambda p: real_exists(to_test(p))
    os.path.isdir = lambda p: real_isdir(to_test(p))
    glob.glob = lambda pattern, *a, **k: [
        to_pod(hit) for hit in real_glob(to_test(pattern), *a, **k)
    ]
