#!/usr/bin/env python3
"""Sorted listing of every node_modules under a project, in the format of the pnpm
reference listings kept as fixtures/*/pnpm-layout.txt.gz:
  d PATH | l PATH -> TARGET (project-relative, /abs... outside) | f PATH MODE SHA256[:16]
  | b PATH MODE (inside .bin, where shims embed absolute paths)
Installer bookkeeping (.modules.yaml, .pnpm/lock.yaml, workspace state) is left out."""
import hashlib, os, sys

BOOKKEEPING = {".modules.yaml", "lock.yaml", ".pnpm-workspace-state.json", ".pnpm-workspace-state-v1.json"}
IGNORED_DIRS = {".ignored", ".cache", ".tmp"}


def target_of(root, link):
    full = os.path.normpath(os.path.join(os.path.dirname(link), os.readlink(link)))
    rel = os.path.relpath(full, root)
    return "/abs" + full if rel.startswith("..") else rel


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def list_node_modules(root, nm, out):
    for here, dirs, files in os.walk(nm):
        dirs[:] = [d for d in dirs if d not in IGNORED_DIRS]
        rel_here = os.path.relpath(here, root)
        in_bin = ".bin" in rel_here.split(os.sep)
        for d in list(dirs):
            full, rel = os.path.join(here, d), os.path.join(rel_here, d)
            if os.path.islink(full):
                out.append(f"l {rel} -> {target_of(root, full)}")
                dirs.remove(d)
            else:
                out.append(f"d {rel}")
        for f in files:
            full, rel = os.path.join(here, f), os.path.join(rel_here, f)
            if f in BOOKKEEPING and (rel_here.endswith("node_modules") or rel_here.endswith(".pnpm")):
                continue
            if os.path.islink(full):
                out.append(f"l {rel} -> {target_of(root, full)}")
                continue
            mode = "x" if os.stat(full).st_mode & 0o111 else "-"
            out.append(f"b {rel} {mode}" if in_bin else f"f {rel} {mode} {digest(full)}")


def listing(root):
    root = os.path.abspath(root)
    out = []
    for here, dirs, _ in os.walk(root):
        if "node_modules" in dirs:
            nm = os.path.join(here, "node_modules")
            out.append(f"d {os.path.relpath(nm, root)}")
            list_node_modules(root, nm, out)
        dirs[:] = [d for d in dirs if d != "node_modules" and not d.startswith(".")]
    return sorted(out)


if __name__ == "__main__":
    sys.stdout.write("\n".join(listing(sys.argv[1])) + "\n")
