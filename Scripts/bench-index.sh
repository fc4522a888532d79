#!/usr/bin/env bash
# Vector index benchmark: Tome's HNSW and RoarGraph against hnswlib on the same vectors, one
# thread. Usage: Scripts/bench-index.sh INDEX ID_QUERY_INDEX OOD_QUESTIONS TRAIN_QUESTIONS OUT [M] [EF_CONSTRUCTION]
#   INDEX             an embedded Tome index (the base vectors)
#   ID_QUERY_INDEX    another embedded index whose chunk vectors are in-distribution queries
#   OOD_QUESTIONS     questions, one per line (out-of-distribution queries)
#   TRAIN_QUESTIONS   other questions, one per line, kept as RoarGraph's training queries
# Needs `pip install hnswlib numpy`. Then per fresh process, the time to a first answer.
set -euo pipefail
index=$1 idq=$2 ood=$3 train=$4 out=$5 m=${6:-16} efc=${7:-200}
ef=10,16,24,32,48,64,96,128,192,256,384
tome=${TOME:-.build/release/tome}
export OPENBLAS_NUM_THREADS=1
mkdir -p "$out"
"$tome" bench index --index "$index" --id-queries "$idq" --ood-queries "$ood" --train-queries "$train" \
  --out "$out" --m "$m" --ef-construction "$efc" --ef "$ef" > "$out/tome-stdout.json"
python3 "$(dirname "$0")/bench_index_hnswlib.py" "$out" "$m" "$efc" "$ef"
python3 "$(dirname "$0")/bench_index_summary.py" "$out" 0.95 | tee "$out/summary.txt"
for kind in exact hnsw roar exact hnsw roar; do
  start=$(date +%s%N)
  line=$("$tome" bench index --index "$index" --out "$out" --first-query "$kind")
  end=$(date +%s%N)
  echo "$line process_ms=$(( (end - start) / 1000000 ))" | tee -a "$out/first-query.txt"
done
python3 - "$out" <<'PY'
import sys, json, os
start = __import__("time").perf_counter()
import hnswlib
out = sys.argv[1]
r = json.load(open(os.path.join(out, "hnswlib-results.json")))
import numpy as np
t = __import__("time").perf_counter()
i = hnswlib.Index(space="ip", dim=r["dimension"]); i.load_index(os.path.join(out, "hnswlib.bin"))
q = np.fromfile(os.path.join(out, "base.f32"), dtype="<f4", count=r["dimension"]).reshape(1, -1)
i.knn_query(q, k=10)
print(f"hnswlib load+first query {1000 * (__import__('time').perf_counter() - t):.1f} ms (python imports excluded)")
PY
