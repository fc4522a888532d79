#!/usr/bin/env python3
"""Connectivity census of a proximity graph's layer 0: out- and in-degrees, and how many nodes a
walk from the entry reaches. Reads Tome's graph file (graph-hnsw.bin, graph-roar.bin) or an
hnswlib index saved by Scripts/bench_index_hnswlib.py.

Usage: Scripts/graph_census.py tome FILE | hnswlib FILE"""
import struct
import sys

import numpy as np


def tome(path):
    b = open(path, "rb").read()
    n, _, entry = struct.unpack_from("<3Q", b, 40)
    offset, length = struct.unpack_from("<QQ", b, 72 + 16 * 4)
    stride = length // 4 // n
    table = np.frombuffer(b, dtype="<u4", count=n * stride, offset=offset).reshape(n, stride)
    return table[:, 0].astype(np.int64), table[:, 1:], entry


def hnswlib(path):
    b = open(path, "rb").read()
    _, capacity, n, size = struct.unpack_from("<4Q", b, 0)
    entry = struct.unpack_from("<I", b, 52)[0]
    degree0 = struct.unpack_from("<Q", b, 64)[0]
    rows = np.frombuffer(b, dtype=np.uint8, count=capacity * size, offset=96).reshape(capacity, size)[:n]
    links = rows[:, : 4 * (1 + degree0)].copy().view("<u4")
    return (links[:, 0] & 0xFFFF).astype(np.int64), links[:, 1:], entry


def census(degree, links, entry):
    n = len(degree)
    valid = np.arange(links.shape[1])[None, :] < degree[:, None]
    indegree = np.bincount(links[valid], minlength=n)
    seen = np.zeros(n, bool)
    seen[entry] = True
    frontier = np.array([entry])
    while len(frontier):
        m = np.arange(links.shape[1])[None, :] < degree[frontier][:, None]
        nxt = np.unique(links[frontier][m])
        nxt = nxt[~seen[nxt]]
        seen[nxt] = True
        frontier = nxt
    print(f"nodes {n}; out-degree mean {degree.mean():.2f}, exactly 1: {(degree == 1).sum()}; "
          f"in-degree 0: {(indegree == 0).sum()}; unreachable from the entry on layer 0: {(~seen).sum()}")


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    census(*(tome(path) if kind == "tome" else hnswlib(path)))
