#!/usr/bin/env python3
"""Summary of Scripts/bench-index.sh: queries/s of each index at a recall@10 target, read off
each curve by interpolating log(queries/s) linearly in recall between the two beam widths
around the target, and the ratios the issue asks for.

Usage: bench_index_summary.py DIR [TARGET]   (DIR holds tome-results.json, hnswlib-results.json)"""
import json, math, os, sys

out = sys.argv[1]
target = float(sys.argv[2]) if len(sys.argv) > 2 else 0.95
curves = json.load(open(os.path.join(out, "tome-results.json")))["curves"]
curves += json.load(open(os.path.join(out, "hnswlib-results.json")))["curves"]


def rate(index, queries):
    points = sorted((c["recall"], c["queriesPerSecond"]) for c in curves if c["index"] == index and c["queries"] == queries)
    for (r0, q0), (r1, q1) in zip(points, points[1:]):
        if r0 <= target <= r1 and r1 > r0:
            f = (target - r0) / (r1 - r0)
            return math.exp(math.log(q0) + f * (math.log(q1) - math.log(q0)))
    return None


for queries in ("id", "ood"):
    rates = {index: rate(index, queries) for index in ("hnsw", "roar", "hnswlib")}
    shown = ", ".join(f"{i} {r:.0f}" if r else f"{i} n/a" for i, r in rates.items())
    print(f"{queries}: queries/s at recall@10 {target}: {shown}")
    if rates["hnsw"] and rates["hnswlib"]:
        print(f"{queries}: Tome HNSW / hnswlib {rates['hnsw'] / rates['hnswlib']:.2f}x")
    if rates["roar"] and rates["hnsw"]:
        print(f"{queries}: RoarGraph / Tome HNSW {rates['roar'] / rates['hnsw']:.2f}x")
