#!/bin/bash
# NIAH at 4k…1M tokens: rag and attend on the same indexes, passkey and fact needles, depths 0/50/100.
# Haystack: the Paul Graham essays continued with /tmp/corpora (shared/data/corpora/fetch.sh /tmp/corpora).
B=${TOME:-.build/release/tome}
OUT=bench-results/niah-attend
grep -m1 "model name" /proc/cpuinfo
for s in rag attend; do
  /usr/bin/time -v $B bench niah --lengths 4k,16k,64k,256k,1m --depths 0,50,100 --kinds passkey,fact \
    --work /tmp/niah-work --strategy $s --prompts Prompts --json $OUT/$s.json > $OUT/$s.txt 2> $OUT/$s.stderr.txt
  echo "$s rc=$?"
done
