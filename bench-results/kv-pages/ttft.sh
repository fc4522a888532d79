#!/bin/bash
# TTFT with KV pages vs full prefill: the first N SQuAD questions of /tmp/sq, -k 12, alternating
# per question (same load for both). Usage: ttft.sh [N] (default 10); TOME=binary.
B=${TOME:-.build/release/tome}
N=${1:-10}
grep -m1 "model name" /proc/cpuinfo
python3 -c "
import json
for l in list(open('/tmp/sq/questions.jsonl'))[:$N]: print(json.loads(l)['question'])" | while read -r q; do
  for mode in pages read; do
    flag=""; [ $mode = read ] && flag="--no-kv-pages"
    $B ask --index /tmp/sq.index -k 12 --max-tokens 16 --json --no-record --prompts Prompts $flag "$q" 2>/dev/null \
      | python3 -c "
import json,sys
r=json.load(sys.stdin); t=r['timings']
note=[s['detail'] for s in r['trace'] if s.get('label')=='kv pages']
print('$mode', t.get('first_token'), r['tokens']['prompt'], note[0] if note else '')"
  done
done
