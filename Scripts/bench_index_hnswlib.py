#!/usr/bin/env python3
"""hnswlib side of Scripts/bench-index.sh: the same vectors, queries and ground truth that
`tome bench index --out DIR` wrote, the same M and efConstruction, one thread.

Usage: bench_index_hnswlib.py DIR M EF_CONSTRUCTION EF_LIST [REPEATS]
Writes DIR/hnswlib-results.json and prints one line per point."""
import json, os, sys, time
import numpy as np
import hnswlib

out, m, efc, efs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), [int(x) for x in sys.argv[4].split(",")]
repeats = int(sys.argv[5]) if len(sys.argv) > 5 else 3
base = np.fromfile(os.path.join(out, "base.f32"), dtype="<f4")
ids = np.fromfile(os.path.join(out, "base.ids"), dtype="<i8")
d = base.size // ids.size
base = base.reshape(ids.size, d)
index = hnswlib.Index(space="ip", dim=d)
index.set_num_threads(1)
index.init_index(max_elements=ids.size, M=m, ef_construction=efc, random_seed=100)
t = time.perf_counter()
index.add_items(base, ids, num_threads=1)
build = time.perf_counter() - t
path = os.path.join(out, "hnswlib.bin")
index.save_index(path)
result = {"vectors": int(ids.size), "dimension": d, "m": m, "efConstruction": efc, "buildSeconds": build,
          "fileBytes": os.path.getsize(path), "bytesPerVector": os.path.getsize(path) / ids.size, "curves": []}
print(f"hnswlib build {build:.1f}s, {result['bytesPerVector']:.0f} bytes/vector", flush=True)
for name in ("id", "ood"):
    qf = os.path.join(out, f"{name}-queries.f32")
    if not os.path.exists(qf):
        continue
    q = np.fromfile(qf, dtype="<f4").reshape(-1, d)
    truth = np.fromfile(os.path.join(out, f"{name}-truth.i64"), dtype="<i8").reshape(-1, 10)
    for ef in efs:
        index.set_ef(max(ef, 10))
        # All queries in one call on one thread: hnswlib loops over them in C++, one search at a
        # time, as Tome's benchmark loops in Swift (a Python call per query would charge hnswlib
        # for Python). The fastest of REPEATS passes counts, as in Tome's.
        s = float("inf")
        for _ in range(repeats):
            t = time.perf_counter()
            labels = index.knn_query(q, k=10, num_threads=1)[0]
            s = min(s, time.perf_counter() - t)
        found = list(labels)
        hit = sum(len(set(f.tolist()) & set(t_.tolist())) for f, t_ in zip(found, truth))
        recall = hit / truth.size
        result["curves"].append({"index": "hnswlib", "queries": name, "ef": ef, "recall": recall, "queriesPerSecond": q.shape[0] / s})
        print(f"hnswlib {name} ef {ef}: recall@10 {recall:.4f}, {q.shape[0] / s:.0f} q/s", flush=True)
json.dump(result, open(os.path.join(out, "hnswlib-results.json"), "w"), indent=1)
