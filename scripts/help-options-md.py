#!/usr/bin/env python3
"""The options of `virnucpro <command> --help` as a Markdown table, for the README's option tables.

    virnucpro predict --help | python3 scripts/help-options-md.py

--help is made from the command's option table (src/opt/help.c): each option starts at column 2 ("-o, --output")
or 6 ("--models"), its text at column 28 (on the next line when the option is long), continuation lines indented
to 28, and "-h, --help" closes the list. So the README's tables come from the table that --help and --config use.
"""
import re
import sys

COL = 28
OPT = re.compile(r"^(?:  (-\w), |      )(--[a-z0-9-]+)((?: \S+)?)(?:\s{2,}(.*))?$")
rows = []
for line in sys.stdin.read().splitlines():
    if line.startswith("  -h, --help"):
        break
    m = OPT.match(line) if not line.startswith(" " * COL) else None
    if m:
        spec = (m.group(1) + ", " if m.group(1) else "") + m.group(2) + m.group(3)
        rows.append([spec, (m.group(4) or "").strip()])
    elif rows and line.startswith(" " * COL):
        rows[-1][1] = (rows[-1][1] + " " + line.strip()).strip()
print("| option | meaning |")
print("|---|---|")
for spec, text in rows:
    print("| `%s` | %s |" % (spec.replace("|", "\\|"), text.replace("|", "\\|")))
