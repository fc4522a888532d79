#!/bin/bash
# TTFT with KV pages vs full prefill: the same 20 SQuAD questions, -k 12, alternating per question.
B=${TOME:-/tmp/tome-kv2}
grep -m1 "model name" /proc/cpuinfo
i=0
python3 -c "
import json
for l in open('/tmp/sq/q20.jsonl'): print(json.loads(l)['question'])" | while read -r q; do
  for mode in pages read; do
    flag=""; [ $mode = read ] && flag="--no-kv-pages"
    $B ask --index /tmp/sq.index -k 12 --max-tokens 16 --json --no-record --prompts /work/main/Prompts $flag "$q" 2>/dev/null \
      | python3 -c "
import json,sys
r=json.load(sys.stdin); t=r['timings']
note=[s['detail'] for s in r['trace'] if s.get('label')=='kv pages']
print('$mode', t.get('first_token'), r['tokens']['prompt'], note[0] if note else '')"
  done
done
