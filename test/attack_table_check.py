#!/usr/bin/env python3
"""Keeps docs/attacks.md and the tests in step.

Usage: attack_table_check.py TABLE TEST_BIN_DIR

Every `Suite.Name` in the table's Test column must be a test of one of the GoogleTest binaries
in TEST_BIN_DIR (as --gtest_list_tests lists it); every test of a suite whose name starts with
"Attack" must be named in the table; the table needs at least 40 distinct attacks, numbered
1..N without gaps.
"""

import os
import re
import subprocess
import sys


def listed_tests(bin_dir):
    tests = set()
    for name in sorted(os.listdir(bin_dir)):
        path = os.path.join(bin_dir, name)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            continue
        out = subprocess.run([path, "--gtest_list_tests"], capture_output=True, text=True,
                             timeout=120).stdout
        suite = None
        for line in out.splitlines():
            if not line.strip() or line.startswith("Running main()"):
                continue
            if not line.startswith(" "):
                suite = line.split("#")[0].strip().rstrip(".")
            elif suite:
                tests.add(suite + "." + line.split("#")[0].strip())
    return tests


def main():
    table, bin_dir = sys.argv[1], sys.argv[2]
    rows, named = [], set()
    for line in open(table, encoding="utf-8"):
        m = re.match(r"^\| (\d+) \| (.+?) \| (.+?) \| (.+) \|$", line.rstrip("\n"))
        if not m:
            continue
        rows.append((int(m.group(1)), m.group(2).strip()))
        cited = re.findall(r"`([A-Za-z_0-9]+\.[A-Za-z_0-9]+)`", m.group(4))
        if not cited:
            print(f"row {m.group(1)} names no test")
            return 1
        named.update(cited)
    problems = []
    numbers = [n for n, _ in rows]
    if numbers != list(range(1, len(rows) + 1)):
        problems.append(f"rows are not numbered 1..{len(rows)}: {numbers}")
    attacks = [a for _, a in rows]
    if len(set(attacks)) != len(attacks):
        problems.append("an attack is listed twice")
    if len(rows) < 40:
        problems.append(f"{len(rows)} attacks; want at least 40")
    tests = listed_tests(bin_dir)
    for t in sorted(named - tests):
        problems.append(f"the table names {t}, which no test binary lists")
    for t in sorted(t for t in tests if t.startswith("Attack") and t not in named):
        problems.append(f"{t} is an attack test the table does not name")
    for p in problems:
        print(p)
    if not problems:
        print(f"{len(rows)} attacks, {len(named)} tests named, all present")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
