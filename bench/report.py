#!/usr/bin/env python3
"""Turns bench/run.sh's hyperfine JSON into bench/results/<name>.{md,json}: medians,
tarn/peer and tarn/floor ratios, peak RSS of a cold run, and the machine's details."""
import json, os, platform, subprocess, sys

work, out, fixture, drop = sys.argv[1:5]
SCENARIOS = [("cold", "cold"), ("hot", "hot"), ("utd", "up-to-date")]
rss = {}
if os.path.exists(f"{work}/rss.txt"):
    for line in open(f"{work}/rss.txt"):
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            rss[parts[0]] = int(parts[1])

rows = []
for key, name in SCENARIOS:
    for r in json.load(open(f"{work}/{key}.json"))["results"]:
        tool = r["command"].split()[0] if not r["command"].startswith("floor") else r["command"]
        rows.append({"scenario": name, "command": r["command"], "tool": tool, "median_s": r["median"],
                     "mean_s": r["mean"], "stddev_s": r.get("stddev"), "runs": len(r["times"]),
                     "cold_peak_rss_kb": rss.get(tool) if name == "cold" else None})


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()


machine = {"fixture": fixture, "cpus": os.cpu_count(), "cpu": sh("lscpu | sed -n 's/^Model name: *//p'"),
           "memory": sh("free -h | awk '/Mem:/ {print $2}'"), "kernel": platform.release(),
           "filesystem": sh(f"findmnt -no FSTYPE,OPTIONS -T {work}"), "page_cache_dropped_before_cold": drop != ":",
           "date": sh("date -u +%Y-%m-%dT%H:%MZ"), "tarn": sh("git rev-parse --short HEAD")}
json.dump({"machine": machine, "results": rows}, open(out + ".json", "w"), indent=2)

with open(out + ".md", "w") as f:
    f.write(f"# {fixture}: tarn vs pnpm 12.21.0, pacquet 0.11.11, bun 1.4.5\n\n")
    f.write(f"{machine['cpus']} cores ({machine['cpu']}), {machine['memory']} RAM, {machine['filesystem']}, "
            f"kernel {machine['kernel']}, {machine['date']}, tarn {machine['tarn']}. ")
    f.write(f"Medians of {rows[0]['runs']}+ hyperfine runs; ratios are tarn's median over the row's, same run.\n\n")
    f.write("| scenario | command | median | tarn / this | cold peak RSS |\n|---|---|---|---|---|\n")
    for _, name in SCENARIOS:
        sc = [r for r in rows if r["scenario"] == name]
        tarn = next(r["median_s"] for r in sc if r["tool"] == "tarn")
        for r in sc:
            med = r["median_s"]
            shown = f"{med * 1000:.0f} ms" if med < 10 else f"{med:.2f} s"
            mem = f"{r['cold_peak_rss_kb'] / 1024:.0f} MB" if r["cold_peak_rss_kb"] else ""
            ratio = "1" if r["tool"] == "tarn" else f"{tarn / med:.2f}" if med > 1e-4 else "–"
            f.write(f"| {name} | {r['command']} | {shown} | {ratio} | {mem} |\n")
print(open(out + ".md").read())
