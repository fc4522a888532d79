#!/usr/bin/env bash
# Before/after speed of two Tome builds on this CPU, interleaved so both see the same load.
#   Scripts/bench-kernels.sh OLD_DIR NEW_DIR
# Each DIR holds a `tome` and its `TomePackageTests.xctest` (release, -enable-testing), e.g. a
# copy of .build/release from the landed commit and this one. Runs ROUNDS rounds (default 2) of:
#   - the SIMD kernels alone (MicroBench/kernels, CPU µs per call, one thread),
#   - `tome bench speed` on FOLDER (default: 25 Paul Graham essays) with each build's defaults in
#     this environment, and the new build again with TOME_BLAS=keep (OpenBLAS's kernels as the
#     old build loads them, so only Tome's own kernels differ),
# then ingests CORPUS (default /tmp/py1m: ~1M tokens of the Python docs) once with each build.
set -euo pipefail
old=${1:?usage: bench-kernels.sh OLD_DIR NEW_DIR}
new=${2:?usage: bench-kernels.sh OLD_DIR NEW_DIR}
rounds=${ROUNDS:-2}
corpus=${CORPUS:-/tmp/py1m}
out=${OUT:-$(mktemp -d)}
folder=${FOLDER:-}
if [[ -z "$folder" ]]; then
  folder=$out/essays
  mkdir -p "$folder"
  ls "$(dirname "$0")/../../shared/data/paul_graham_essays/essays"/* | head -25 | xargs -I{} cp {} "$folder/"
fi
echo "output in $out; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}"
"$new/tome" doctor --sgemm-seconds 1 | tee "$out/doctor.txt"

for ((r = 1; r <= rounds; r++)); do
  echo "round $r/$rounds, loadavg $(cut -d' ' -f1-3 /proc/loadavg)"
  for side in old new; do
    dir=$old; [[ $side == new ]] && dir=$new
    TOME_MICRO=1 "$dir/TomePackageTests.xctest" --testing-library swift-testing --filter 'MicroBench/kernels' 2>&1 \
      | grep '^\[micro\]' | sed "s/^/[$side] /" | tee -a "$out/micro.log"
  done
  for side in old new new-oldcore; do
    dir=$old; env=()
    [[ $side == new* ]] && dir=$new
    [[ $side == new-oldcore ]] && env=(TOME_BLAS=keep)
    env "${env[@]}" "$dir/tome" bench speed "$folder" --queries 100 --prefill 1000 --decode 128 \
      --json "$out/speed-$side-$r.json" > "$out/speed-$side-$r.txt" 2> /dev/null
    echo "[$side] $(grep -m1 kernels "$out/speed-$side-$r.txt")"
  done
done
for side in old new; do
  dir=$old; [[ $side == new ]] && dir=$new
  rm -rf "$out/ingest-$side"
  start=$(date +%s.%N)
  "$dir/tome" ingest "$corpus" --index "$out/ingest-$side" > /dev/null 2>&1
  end=$(date +%s.%N)
  tokens=$(sqlite3 "$out/ingest-$side/tome.sqlite" 'select sum(token_count) from chunks' 2>/dev/null || echo '?')
  echo "ingest $side: $(python3 -c "print(round($end - $start, 1))") s for $tokens tokens" | tee -a "$out/ingest.log"
done

python3 - "$out" <<'PY'
import glob, json, re, statistics, sys
out = sys.argv[1]
micro = {}
for line in open(f"{out}/micro.log"):
    m = re.match(r"\[(\w+)\] \[micro\] (.+?): wall [\d.]+ µs, cpu ([\d.]+) µs", line)
    if m:
        micro.setdefault(m.group(2), {}).setdefault(m.group(1), []).append(float(m.group(3)))
print("\nSIMD kernels, CPU µs per call (median)      old      new   new/old")
for label, sides in micro.items():
    if "old" in sides and "new" in sides:
        o, n = statistics.median(sides["old"]), statistics.median(sides["new"])
        print(f"  {label[:40]:<40} {o:8.1f} {n:8.1f}   {n / o:5.2f}")
rates = {}
for path in glob.glob(f"{out}/speed-*.json"):
    side = re.search(r"speed-(.+)-\d+\.json", path).group(1)
    j = json.load(open(path))
    r = j["rates"]
    dense = [s["p50Milliseconds"] for s in j["search"] if s["mode"] == "dense"][0]
    hybrid = [s["p50Milliseconds"] for s in j["search"] if s["mode"] == "hybrid"][0]
    for k, v in [("embedding tok/s", r["embeddingTokensPerSecond"]), ("prefill tok/s", r["prefillTokensPerSecond"]),
                 ("decode tok/s", r["decodeTokensPerSecond"]), ("dense query p50 ms", dense), ("hybrid query p50 ms", hybrid)]:
        rates.setdefault(k, {}).setdefault(side, []).append(v)
print("\ntome bench speed (median)          old        new  new-oldcore   new/old")
for k, sides in rates.items():
    o = statistics.median(sides.get("old", [float("nan")]))
    n = statistics.median(sides.get("new", [float("nan")]))
    c = statistics.median(sides.get("new-oldcore", [float("nan")]))
    print(f"  {k:<24} {o:10.1f} {n:10.1f} {c:12.1f}   {n / o:6.2f}")
PY
cat "$out/ingest.log"
