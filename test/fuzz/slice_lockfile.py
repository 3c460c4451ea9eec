#!/usr/bin/env python3
"""Cuts a small, self-consistent pnpm-lock.yaml out of a fixture's, for the lockfile fuzz
corpus: some of the root importer's dependencies and the closure of their snapshots, in
pnpm's own formatting (which the parallel chunked reader depends on).
  slice_lockfile.py FIXTURE_LOCK FIRST_DEP MAX_BYTES > out.yaml"""
import re, sys

def blocks(lines, start, end, indent):
    """Entry blocks of a section: (key, lines) at the given indentation."""
    out, cur = [], None
    for l in lines[start:end]:
        if l.startswith(" " * indent) and not l.startswith(" " * (indent + 1)) and l.strip():
            cur = [re.match(r"^\s*'?(.+?)'?:( \{\})?$", l).group(1), [l]]
            out.append(cur)
        elif cur is not None and (not l.strip() or l.startswith(" " * (indent + 1))):
            cur[1].append(l)
    return out

def target(name, ver):
    if re.match(r"^@?[^@(:]+@", ver) and not ver.startswith("link:"):
        return ver
    return f"{name}@{ver}"

def without_peers(key):
    return key.split("(", 1)[0]

def main():
    path, first, max_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    lines = open(path).read().split("\n")
    top = {l.rstrip(":"): i for i, l in enumerate(lines) if re.match(r"^[a-z]", l)}
    imp_start, pkg_start, snap_start = top["importers"], top["packages"], top["snapshots"]
    root_deps = [b for b in blocks(lines, imp_start + 3, pkg_start, 6)]
    pkgs = dict((k, ls) for k, ls in blocks(lines, pkg_start + 1, snap_start, 2))
    snaps = dict((k, ls) for k, ls in blocks(lines, snap_start + 1, len(lines), 2))
    chosen, keys = [], set()
    for name, ls in root_deps[first:]:
        ver = next(l.split("version: ", 1)[1] for l in ls if "version: " in l)
        todo, seen = [target(name, ver)], set(keys)
        while todo:
            k = todo.pop()
            if k in seen or k not in snaps:
                continue
            seen.add(k)
            for l in snaps[k][1:]:
                m = re.match(r"^      ('?[^:']+'?): (.+)$", l)
                if m:
                    todo.append(target(m.group(1).strip("'"), m.group(2).strip("'")))
        size = sum(len("\n".join(snaps[k])) + len("\n".join(pkgs[without_peers(k)])) for k in seen)
        if size > max_bytes and chosen:
            break
        chosen.append(ls)
        keys = seen
    out = lines[:imp_start + 1] + ["", "  .:", "    dependencies:"]
    for ls in chosen:
        out += ls
    out += ["", "packages:", ""]
    for k in sorted({without_peers(k) for k in keys}):
        out += pkgs[k]
    out += ["snapshots:", ""]
    for k in sorted(keys):
        out += snaps[k]
    print("\n".join(out).rstrip("\n"))

main()
