#!/usr/bin/env python3
"""Regenerates docs/errors.md from the code table in libs/core/src/error.cpp."""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent.parent
src = (root / "libs/core/src/error.cpp").read_text()
table = src[src.index("kCodes{{"):src.index("}};")]
rows = re.findall(r'\{Code::\w+,\s*"([^"]+)",\s*(\d+),\s*"((?:[^"\\]|\\.)*)"\}', table, re.S)
doc = root / "docs/errors.md"
text = doc.read_text()
head = text[:text.index("| code | exit | meaning |")]
body = "| code | exit | meaning |\n|---|---|---|\n" + "".join(f"| `{n}` | {e} | {m} |\n" for n, e, m in rows)
tail_at = text.find("\n\n", text.index("| code | exit | meaning |"))
tail = text[tail_at + 1:] if tail_at != -1 else ""
doc.write_text(head + body + tail)
print(f"{len(rows)} codes")
