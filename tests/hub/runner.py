"""Runs one of the start scripts in its virtual environment and returns its report."""

import json
import os
import subprocess

from conftest import HERE

MARK = "@@REPORT@@"


class StartFailed(AssertionError):
    def __init__(self, what, report, output):
        self.report = report
        tail = (report.get("traceback") or output)[-4000:]
        super().__init__(f"{what}: {report.get('error')} (stage {report.get('stage')})\n{tail}")


def run_start(python, script, sandbox, env, what, timeout=300):
    """`python script sandbox` with exactly `env` (plus PATH); the parsed report, or
    StartFailed naming `what` and the exception."""
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    full_env.update(env)
    done = subprocess.run(
        [python, str(HERE / script), str(sandbox)],
        check=False,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = done.stdout + done.stderr
    if MARK not in done.stdout:
        raise StartFailed(what, {"error": f"exit {done.returncode}, no report"}, output)
    report = json.loads(done.stdout.rsplit(MARK, 1)[1])
    if not report["ok"]:
        raise StartFailed(what, report, output)
    # what the hub printed, without the report (which holds what the test asked for)
    report["output"] = done.stdout.rsplit(MARK, 1)[0] + done.stderr
    return report
