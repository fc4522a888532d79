import json,sys
for f in sys.argv[1:]:
    rows=[json.loads(l) for l in open(f)]
    for kind in ['general','specific']:
        r=[x for x in rows if x.get('kind')==kind]
        if not r: continue
        n=len(r)
        calls=sum(x['tokens']['calls'] for x in r)/n
        prompt=sum(x['tokens']['prompt'] for x in r)/n
        secs=sum(x['timings']['total'] for x in r)/n
        peak=[max([s.get('prompt_tokens') or 0 for s in x['trace'] if s['kind']=='model_call'] or [0]) for x in r]
        print(f"{f:24s} {kind:9s} n={n:2d} calls {calls:5.1f} prompt {prompt:7.0f} peak {max(peak):5d} s/q {secs:6.1f}")
