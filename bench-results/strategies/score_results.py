# Scores `tome batch` / `bench qa` result lines: answer contains gold (SQuAD-normalised), answers citing
# anything, supporting-file recall of the citations (verified [n] paths and attributions), model calls,
# tokens and wall p50/p95. Usage: python3 score_results.py RESULTS.jsonl ...
import json,sys,re,string,statistics
def norm(s):
    s=s.lower(); s=''.join(c for c in s if c not in string.punctuation); s=re.sub(r'\b(a|an|the)\b',' ',s); return ' '.join(s.split())
for f in sys.argv[1:]:
    rows=[json.loads(l) for l in open(f)]
    n=len(rows); cont=0; rec=[]; cited_any=0; calls=[]; ptok=[]; gtok=[]; wall=[]
    for r in rows:
        a=norm(r.get('answer',''))
        if any(norm(g) and norm(g) in a for g in r['gold']): cont+=1
        gold={c['path'].split('/')[-1] for c in r.get('gold_citations',[])}
        cited=set()
        for c in r.get('citations',[]):
            if c.get('path') and c.get('verified',True): cited.add(c['path'].split('/')[-1])
        for c in r.get('attributions',[]): cited.add(c['path'].split('/')[-1])
        if cited: cited_any+=1
        if gold: rec.append(len(gold&cited)/len(gold))
        t=r.get('tokens',{}); 
        calls.append(t.get('calls',0)); ptok.append(t.get('prompt',t.get('in',0))); gtok.append(t.get('answer',t.get('out',0)))
        wall.append(r.get('timings',{}).get('total',0))
    wall.sort()
    p=lambda q: wall[min(len(wall)-1,int(q*len(wall)))]
    print(f"{f}: n={n} contains-gold={cont/n:.3f} cited-any={cited_any/n:.2f} support-recall={sum(rec)/max(1,len(rec)):.3f} calls={statistics.mean(calls):.1f} prompt-tok={statistics.mean(ptok):.0f} gen-tok={statistics.mean(gtok):.0f} wall p50={p(.5):.1f}s p95={p(.95):.1f}s")
