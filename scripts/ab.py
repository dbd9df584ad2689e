#!/usr/bin/env python3
"""Times command lines against each other on a busy machine: every round runs each command
once, in a random order, so whatever else the machine does falls on all of them alike; then
prints the median and minimum wall time and CPU time (user + system of the child) of each.

    scripts/ab.py --runs 100 \\
        'old/casa-build build --site /tmp/site --out /tmp/out-old --schemas ../shared/schemas' \\
        'target/release/casa-build build --site /tmp/site --out /tmp/out-new'

Each command runs three times first, unmeasured (page cache, a first write of its out/).
A command that fails stops the script: a comparison of failures means nothing.
"""

import argparse
import random
import resource
import shlex
import statistics
import subprocess
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60, help="measured rounds (default 60)")
    parser.add_argument("commands", nargs="+", help="command lines, each one argument")
    args = parser.parse_args()
    commands = [shlex.split(c) for c in args.commands]
    wall = [[] for _ in commands]
    cpu = [[] for _ in commands]

    def run(i):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(commands[i], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        took = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            sys.exit(f"exit {done.returncode}: {args.commands[i]}\n{done.stderr.decode(errors='replace')}")
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return took * 1000, used * 1000

    for i in range(len(commands)):
        for _ in range(3):
            run(i)
    for _ in range(args.runs):
        order = list(range(len(commands)))
        random.shuffle(order)
        for i in order:
            w, c = run(i)
            wall[i].append(w)
            cpu[i].append(c)
    for i, line in enumerate(args.commands):
        print(
            f"wall {statistics.median(wall[i]):6.1f} ms (min {min(wall[i]):5.1f})  "
            f"cpu {statistics.median(cpu[i]):6.1f} ms (min {min(cpu[i]):5.1f})  {line}"
        )


if __name__ == "__main__":
    main()
