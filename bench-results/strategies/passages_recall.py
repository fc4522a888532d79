# Supporting-file recall of the passages the final answer read (record-format result lines).
# Usage: python3 passages_recall.py INDEX/tome.sqlite RESULTS.jsonl ...
import json,sys,sqlite3
db=sqlite3.connect(sys.argv[1])
path={cid:p for cid,p in db.execute("select c.id, d.path from chunks c join documents d on d.id=c.document_id")}
for f in sys.argv[2:]:
    rows=[json.loads(l) for l in open(f)]
    rec=[];both=0
    for r in rows:
        gold={c['path'].split('/')[-1] for c in r.get('gold_citations',[])}
        shown={path[i].split('/')[-1] for p in r['passages'] for i in p['chunk_ids'] if i in path}
        rec.append(len(gold&shown)/len(gold)); both+= gold<=shown
    print(f"{f}: supporting recall of passages shown to the final answer {sum(rec)/len(rec):.2f}, both {both}/{len(rows)}")
