#!/usr/bin/env python3
"""Side-by-side NIAH table of rag and attend from rag.json and attend.json (this folder)."""
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
runs = {s: json.load(open(os.path.join(here, f"{s}.json")))["report"] for s in ("rag", "attend") if os.path.exists(os.path.join(here, f"{s}.json"))}
label = lambda n: f"{n // 1024}k" if n < 1 << 20 else f"{n >> 20}m"
lengths = sorted({c["length"] for r in runs.values() for c in r["cells"]})
for kind in ("passkey", "fact"):
    print(f"\n{kind}: answer contains the needle (rag / attend)")
    print("depth  " + "".join(f"{label(n):>12}" for n in lengths))
    for depth in (0, 50, 100):
        row = []
        for n in lengths:
            marks = []
            for s, r in runs.items():
                cell = next((c for c in r["cells"] if c["kind"] == kind and c["depth"] == depth and c["length"] == n), None)
                marks.append("-" if cell is None else ("✓" if cell["correct"] else "✗"))
            row.append(" / ".join(marks))
        print(f"{depth:>4}%  " + "".join(f"{x:>12}" for x in row))
print("\ncorrect (both kinds, 3 depths) and model tokens processed per question (mean)")
print("length " + "".join(f"{s:>24}" for s in runs))
for n in lengths:
    parts = []
    for s, r in runs.items():
        cells = [c for c in r["cells"] if c["length"] == n]
        if not cells:
            parts.append("-")
            continue
        ok = sum(c["correct"] for c in cells)
        tokens = sum(c["promptTokens"] for c in cells) / len(cells)
        secs = sum(c["answerSeconds"] for c in cells) / len(cells)
        parts.append(f"{ok}/{len(cells)}, {tokens:,.0f} tok, {secs:.0f} s")
    print(f"{label(n):>6} " + "".join(f"{p:>24}" for p in parts))
