#!/usr/bin/env python3
"""Alternating whole-process runs: each round runs every command once, in order; medians per command.
Usage: alternate.py ROUNDS -- NAME=COMMAND ... (COMMAND run by /bin/sh, output discarded)."""
import statistics, subprocess, sys, time
rounds = int(sys.argv[1]); cmds = [a.split("=", 1) for a in sys.argv[3:]]
t = {n: [] for n, _ in cmds}
for _ in range(rounds):
    for n, c in cmds:
        s = time.perf_counter(); subprocess.run(c, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True); t[n].append(time.perf_counter() - s)
for n, v in t.items():
    print(f"{n:>14}: median {statistics.median(v)*1000:8.1f} ms  min {min(v)*1000:8.1f}  max {max(v)*1000:8.1f}  (n={len(v)})")
