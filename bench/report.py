#!/usr/bin/env python3
"""Turns bench/run.sh's hyperfine JSON into bench/results/<name>.{md,json}: medians over the
rounds, tarn/peer and tarn/floor ratios, peak RSS of a cold run, and the machine's details."""
import glob, json, os, platform, statistics, subprocess, sys

work, out, fixture, drop = sys.argv[1:5]
PEERS = ["tarn", "pnpm", "pacquet", "bun"]
# (scenario, files, label suffix of the tools' commands, floor label)
SCENARIOS = [("cold", "cold-*.json", " cold", "floor: curl download"),
             ("cold, fresh machine", "fresh-*.json", " cold, fresh machine", "floor: curl download, fresh machine"),
             ("hot", "hot-*.json", " hot", ["floor: minimal layout", "floor: cp -al"]),
             ("up-to-date", "utd.json", " up-to-date", None),
             ("clean (no lockfile)", "clean-*.json", " clean", None),
             ("up-to-date, no shell", "utd-floor.json", None, "floor: process start")]
rss = {}
if os.path.exists(f"{work}/rss.txt"):
    for line in open(f"{work}/rss.txt"):
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            rss[parts[0]] = int(parts[1])

rss_clean = {}
if os.path.exists(f"{work}/rss-clean.txt"):
    for line in open(f"{work}/rss-clean.txt"):
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            rss_clean[parts[0]] = int(parts[1])

rows = []
for name, pattern, _, _ in SCENARIOS:
    times = {}
    for f in sorted(glob.glob(f"{work}/{pattern}")):
        for r in json.load(open(f))["results"]:
            times.setdefault(r["command"], []).extend(r["times"])
    for command, ts in times.items():
        tool = command.split()[0] if not command.startswith("floor") else command
        rows.append({"scenario": name, "command": command, "tool": tool, "median_s": statistics.median(ts),
                     "min_s": min(ts), "max_s": max(ts), "runs": len(ts), "times_s": ts,
                     "cold_peak_rss_kb": rss.get(tool) if name == "cold" else None,
                     "clean_peak_rss_kb": rss_clean.get(tool) if name.startswith("clean") else None})


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()


def show(s):
    return f"{s * 1000:.1f} ms" if s < 0.1 else f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


machine = {"fixture": fixture, "cpus": os.cpu_count(), "cpu": sh("lscpu | sed -n 's/^Model name: *//p'"),
           "memory": sh("free -h | awk '/Mem:/ {print $2}'"), "kernel": platform.release(),
           "filesystem": sh(f"findmnt -no FSTYPE,OPTIONS -T {work}"), "page_cache_drop_in_fresh_rows": drop != ":",
           "date": sh("date -u +%Y-%m-%dT%H:%MZ"), "tarn": sh("git rev-parse --short HEAD"),
           "load_average_at_end": sh("cut -d' ' -f1-3 /proc/loadavg")}
# Tools bench/run.sh left out (a workspace they cannot install from the lockfile).
notes = [l.strip() for l in open(f"{work}/notes.txt") if l.strip()] if os.path.exists(f"{work}/notes.txt") else []
json.dump({"machine": machine, "notes": notes, "results": rows}, open(out + ".json", "w"), indent=2)

with open(out + ".md", "w") as f:
    f.write(f"# {fixture}: tarn vs pnpm 12.21.0, pacquet 0.11.11, bun 1.4.5\n\n")
    f.write(f"{machine['cpus']} cores ({machine['cpu']}), {machine['memory']} RAM, {machine['filesystem']}, "
            f"kernel {machine['kernel']}, {machine['date']}, tarn {machine['tarn']}, load average at the end "
            f"{machine['load_average_at_end']}. Cold and hot: rounds of one run per tool in rotated order; "
            "wipes are `rm -rf ... && sync`, and only the fresh-machine row also drops the page cache. "
            "Ratios are tarn's median over the row's, same run.\n\n")
    f.write("| scenario | tarn | pnpm 12.21 | pacquet 0.11 | bun 1.4.5 | floor | tarn / best peer | tarn / floor |\n")
    f.write("|---|---|---|---|---|---|---|---|\n")
    for name, _, suffix, floor in SCENARIOS:
        sc = {r["command"]: r for r in rows if r["scenario"] == name}
        if not sc:
            continue
        if suffix is None:  # the no-shell up-to-date row: tarn, its --version, and the bare process
            t, v, fl = sc.get("tarn up-to-date, no shell"), sc.get("tarn --version"), sc.get(floor)
            if t and fl:
                f.write(f"| {name} | **{show(t['median_s'])}** (--version {show(v['median_s'])}) | | | | "
                        f"/bin/true {show(fl['median_s'])} | | {t['median_s'] / fl['median_s']:.1f} "
                        f"(--version {v['median_s'] / fl['median_s']:.1f}) |\n")
            continue
        med = {p: sc[p + suffix]["median_s"] for p in PEERS if p + suffix in sc}
        if "tarn" not in med:
            continue
        best = min((p for p in PEERS[1:] if p in med), key=lambda p: med[p])
        # The first floor the run measured (hot: the equal-work program, else cp -al).
        fl = next((sc[x] for x in ([floor] if isinstance(floor, str) else floor or []) if x in sc), None)
        cells = [f"**{show(med['tarn'])}**"] + [show(med[p]) if p in med else "–" for p in PEERS[1:]]
        f.write(f"| {name} | " + " | ".join(cells) + f" | {show(fl['median_s']) if fl else '–'} | "
                f"{med['tarn'] / med[best]:.2f} ({best}) | {med['tarn'] / fl['median_s']:.2f} |\n" if fl else
                f"| {name} | " + " | ".join(cells) + f" | – | {med['tarn'] / med[best]:.2f} ({best}) | – |\n")
    if rss:
        f.write("| cold peak RSS | " + " | ".join(f"{rss[p] / 1024:.0f} MB" if p in rss else "–" for p in PEERS)
                + " | | | |\n")
    if rss_clean:
        f.write("| clean peak RSS | " + " | ".join(f"{rss_clean[p] / 1024:.0f} MB" if p in rss_clean else "–"
                                                  for p in PEERS) + " | | | |\n")
    for n in notes:
        f.write(f"\n– {n}\n")
    f.write("\nEvery command, with its runs:\n\n| scenario | command | median | min | max | runs |\n|---|---|---|---|---|---|\n")
    for r in rows:
        f.write(f"| {r['scenario']} | {r['command']} | {show(r['median_s'])} | {show(r['min_s'])} | "
                f"{show(r['max_s'])} | {r['runs']} |\n")
print(open(out + ".md").read())
