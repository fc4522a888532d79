#!/usr/bin/env bash
# Side-by-side speed of Tome's in-process model and llama.cpp on the same GGUF (2 threads).
#
# Runs llama.cpp's python bench and Tome's BenchTests alternately (ROUNDS rounds each, default 2)
# so both see the same machine load, then prints each run and the Tome / llama.cpp ratios of
# the medians. Needs a release test build made with the project's usual flags:
#   swift build --build-tests -c release -Xswiftc -enable-testing
# Environment: ROUNDS, LLAMA_PYTHON (a python with llama_cpp; default /tmp/gg/bin/python, else
# python3), LLAMA_BENCH (default /tmp/llama_bench.py), TOME_MODELS as for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-2}
py=${LLAMA_PYTHON:-}
if [[ -z "$py" ]]; then
  if [[ -x /tmp/gg/bin/python ]]; then py=/tmp/gg/bin/python; else py=python3; fi
fi
bench=${LLAMA_BENCH:-/tmp/llama_bench.py}
[[ -f "$bench" ]] || { echo "llama.cpp bench script not found at $bench (set LLAMA_BENCH)" >&2; exit 2; }
"$py" -c 'import llama_cpp' 2>/dev/null || { echo "$py cannot import llama_cpp (set LLAMA_PYTHON)" >&2; exit 2; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for ((r = 1; r <= rounds; r++)); do
  echo "round $r/$rounds, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
  "$py" "$bench" | tee -a "$log"
  TOME_BENCH=1 swift test -c release -Xswiftc -enable-testing --skip-build \
    --filter TomeModelTests.BenchTests 2>&1 | grep '^\[bench\]' | tee -a "$log"
done

python3 - "$log" <<'PY'
import re, statistics, sys
rows = {"llama.cpp": [], "bench": []}
for line in open(sys.argv[1]):
    m = re.match(r"\[(llama\.cpp|bench)\]", line)
    if not m:
        continue
    v = {k: float(x) for k, x in re.findall(r"(pp2000|tg128|tg33@1000) ([\d.]+) tok/s", line)}
    v["load"] = float(re.search(r"load ([\d.]+) s", line).group(1))
    v["rss"] = float(re.search(r"peak RSS ([\d.]+) MB", line).group(1))
    rows[m.group(1)].append(v)
if not rows["llama.cpp"] or not rows["bench"]:
    sys.exit("missing results")
med = lambda name, key: statistics.median(r[key] for r in rows[name])
print("\nmedians over %d rounds        Tome    llama.cpp   ratio" % len(rows["bench"]))
for key in ("pp2000", "tg128", "tg33@1000"):
    t, l = med("bench", key), med("llama.cpp", key)
    print(f"  {key:<10} tok/s   {t:9.1f}   {l:9.1f}   {t / l:5.2f}x")
# Per round ratios: each Tome run against the llama.cpp run just before it.
for i, (l, t) in enumerate(zip(rows["llama.cpp"], rows["bench"]), 1):
    print(f"  round {i}: tg128 {t['tg128'] / l['tg128']:.2f}x, pp2000 {t['pp2000'] / l['pp2000']:.2f}x")
print(f"  load s     {med('bench', 'load'):9.3f}   {med('llama.cpp', 'load'):9.3f}")
print(f"  peak RSS MB {med('bench', 'rss'):8.0f}   {med('llama.cpp', 'rss'):9.0f}")
PY
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
