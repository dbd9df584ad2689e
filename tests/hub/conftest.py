"""The generated trees the tests read, the site files behind them, and the test virtual
environments.

Trees: the committed `out/` of the reference site; fresh builds (the repository's own
`casa-build build`, through cargo) of the example sites (`examples/small-site`,
`tenant-site` with its CILogon hub, `bare-metal` with its direct OIDC hub) and of the reference site with
every instance pinned to z2jh 3.1.0 (`hub_chart = "3.1.0"`), so both hub generations the
templates know are started with their own packages. Builds happen once, when the tests are
collected, into a temporary folder.

Virtual environments (made by `tests/hub/setup-venvs.sh`) live in `$CASA_HUB_VENVS`,
default `<repo>/.hub-venvs`: `z2jh-<chart version>` (the hub image's requirements),
`dask-gateway-<chart version>` (the server image's), `tools` (pytest, ruff, PyYAML,
jsonschema: this process).
"""

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

REPO = HERE.parents[1]
SHARED = REPO.parent / "shared"
SCHEMAS = SHARED / "schemas"
Z2JH_FIXTURES = SHARED / "fixtures" / "z2jh"
VENVS = Path(os.environ.get("CASA_HUB_VENVS", REPO / ".hub-venvs"))
REFERENCE_FILES = ("site.toml", "instances", "kubeseal-flatiron.pem")


class Tree:
    """A generated tree and the site folder it was built from."""

    def __init__(self, name, out, site):
        self.name, self.out, self.site = name, Path(out), Path(site)

    def objects(self):
        """(path relative to out/, object) for every YAML object of the tree."""
        for path in sorted(self.out.rglob("*.yaml")):
            with open(path) as f:
                for doc in yaml.safe_load_all(f):
                    if isinstance(doc, dict):
                        yield path.relative_to(self.out).as_posix(), doc

    def helm_releases(self, chart=None):
        for rel, obj in self.objects():
            if obj.get("kind") != "HelmRelease":
                continue
            if chart is None or obj["spec"]["chart"]["spec"]["chart"] == chart:
                yield rel, obj

    def site_toml(self):
        with open(self.site / "site.toml", "rb") as f:
            return tomllib.load(f)

    def instance_for(self, namespace):
        """The instance file whose hub lives in `namespace`."""
        for path in sorted((self.site / "instances").glob("*.toml")):
            with open(path, "rb") as f:
                spec = tomllib.load(f)
            if spec["instance"]["namespace"] == namespace:
                return spec
        raise LookupError(f"no instance of {self.site} has namespace {namespace}")


def casa_build(site, out):
    cmd = [
        "cargo", "run", "--quiet", "--",
        "build", "--site", str(site), "--out", str(out), "--schemas", str(SCHEMAS),
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"casa-build build --site {site} failed:\n{done.stderr}")


def copy_reference_site(into):
    into.mkdir(parents=True)
    for name in REFERENCE_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, into / name)
        else:
            shutil.copyfile(src, into / name)


def pin_hub_chart(site, version):
    """Adds `hub_chart = VERSION` to every instance file (a top-level key, so before the
    first table)."""
    for path in (site / "instances").glob("*.toml"):
        lines = path.read_text().splitlines(keepends=True)
        first_table = next(i for i, line in enumerate(lines) if line.startswith("["))
        lines.insert(first_table, f'hub_chart = "{version}"\n\n')
        path.write_text("".join(lines))


@functools.cache
def trees():
    scratch = Path(tempfile.mkdtemp(prefix="casa-hub-trees-"))
    built = [Tree("reference", REPO / "out", REPO)]

    for example in ("small-site", "tenant-site", "bare-metal"):
        site = REPO / "examples" / example
        casa_build(site, scratch / f"{example}-out")
        built.append(Tree(example, scratch / f"{example}-out", site))

    pinned = scratch / "reference-3.1.0"
    copy_reference_site(pinned)
    pin_hub_chart(pinned, "3.1.0")
    casa_build(pinned, pinned / "out")
    built.append(Tree("reference-z2jh-3.1.0", pinned / "out", pinned))
    return built


def releases(chart):
    """(id, tree, path, HelmRelease) for every release of `chart` in every tree."""
    found = []
    for tree in trees():
        for rel, obj in tree.helm_releases(chart):
            found.append((f"{tree.name}:{rel}", tree, rel, obj))
    return found


def venv_python(name):
    python = VENVS / name / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(
            f"no virtual environment {python.parent.parent}: run tests/hub/setup-venvs.sh"
        )
    return str(python)
