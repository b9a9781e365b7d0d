#!/usr/bin/env python3
"""Rewrites the README's generated tables (between <!-- NAME --> markers) from `twi docs`.
Usage: scripts/update-readme-tables.py [BUILD_DIR]"""
import re
import subprocess
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
build = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "build"
out = subprocess.run([str(build / "bin" / "twi"), "docs"], check=True, capture_output=True, text=True).stdout
readme = (root / "README.md").read_text()
for m in re.finditer(r"<!-- (\S+) -->\n(.*?)<!-- /\1 -->", out, re.S):
    name, body = m.group(1), m.group(2)
    pattern = re.compile(r"(<!-- %s -->\n).*?(<!-- /%s -->)" % (re.escape(name), re.escape(name)), re.S)
    readme, n = pattern.subn(lambda mm: mm.group(1) + body + mm.group(2), readme)
    if n != 1:
        sys.exit(f"README has no table {name}")
(root / "README.md").write_text(readme)
