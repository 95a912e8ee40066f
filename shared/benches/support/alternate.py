#!/usr/bin/env python3
"""Alternating whole-process runs: each round runs every command once, in order; medians per command.
Usage: alternate.py ROUNDS -- NAME=COMMAND ... (COMMAND run by /bin/sh, output discarded).

Reports, per command, the wall time and the CPU time (user + system of the command's processes,
from getrusage): on a shared machine the wall time includes waiting for a core, the CPU time much
less so. Ratios against the first command (the floor) are printed for both. The load average is
printed before and after."""
import os, resource, statistics, subprocess, sys, time

rounds = int(sys.argv[1]); cmds = [a.split("=", 1) for a in sys.argv[3:]]
wall = {n: [] for n, _ in cmds}; cpu = {n: [] for n, _ in cmds}
def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
print("load average before: %.2f %.2f %.2f" % os.getloadavg())
for _ in range(rounds):
    for n, c in cmds:
        c0 = children_cpu(); s = time.perf_counter()
        subprocess.run(c, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        wall[n].append(time.perf_counter() - s); cpu[n].append(children_cpu() - c0)
print("load average after:  %.2f %.2f %.2f" % os.getloadavg())
floor = cmds[0][0]
fw, fc = statistics.median(wall[floor]), statistics.median(cpu[floor])
for n, _ in cmds:
    w, c = statistics.median(wall[n]), statistics.median(cpu[n])
    print(f"{n:>14}: wall median {w*1000:8.1f} ms (min {min(wall[n])*1000:8.1f}, max {max(wall[n])*1000:8.1f}) {w/fw:5.2f}x"
          f" | cpu median {c*1000:8.1f} ms (min {min(cpu[n])*1000:8.1f}) {c/fc:5.2f}x  (n={len(wall[n])})")
