#!/usr/bin/env python3
"""ROUGE-1/2/L F1 of `tome batch` result lines against their reference summaries.

Usage: rouge.py RESULTS.jsonl [RESULTS.jsonl ...] [--json]

Each line is one answer record (`tome batch` output): the answer is `answer`, the gold is
`gold` (a list of strings; the first is the reference summary). Scores use Google's
`rouge-score` package, `RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=True)`, as
the GoR paper's evaluation code does; F1 is reported x100.

For each file one table, split by the pass-through field `kind` (QMSum: general | specific;
"-" when absent) plus an "all" row: n, R-1, R-2, R-L, mean answer words, and, when the lines
carry them, mean model calls and mean prompt tokens per answer (from `tokens`, else counted
from the `model_call` steps of `trace`). Lines without gold are counted apart and skipped.
"""

import argparse
import json
import re
import sys
from collections import OrderedDict

try:
    from rouge_score import rouge_scorer
except ImportError:  # pragma: no cover - explained to the user
    sys.exit(
        "rouge.py needs the rouge-score package: "
        "python3 -m venv /work/venv-bench && /work/venv-bench/bin/pip install rouge-score, "
        "then run it with /work/venv-bench/bin/python"
    )

# Tome's citation markers ("[1]", "[2, 3]") are not words of the summary.
MARKER = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")


def read_lines(path):
    """The JSON objects of a JSONL file, with the line number of any line that does not parse."""
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as error:
                sys.exit(f"{path}:{number}: not JSON ({error})")


def model_calls(record):
    """(calls, prompt tokens) of one answer, or (None, None) when the line has neither."""
    tokens = record.get("tokens")
    if isinstance(tokens, dict) and tokens.get("calls") is not None:
        return tokens.get("calls"), tokens.get("prompt")
    trace = record.get("trace")
    if isinstance(trace, list):
        steps = [s for s in trace if isinstance(s, dict) and s.get("kind") == "model_call"]
        return len(steps), sum(s.get("prompt_tokens") or 0 for s in steps)
    return None, None


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def score_file(path, scorer):
    """Per-kind rows of scores for one results file, and the count of lines without gold."""
    groups = OrderedDict()
    skipped = 0
    for record in read_lines(path):
        gold = record.get("gold")
        if not gold or not isinstance(gold, list) or not isinstance(gold[0], str):
            skipped += 1
            continue
        answer = MARKER.sub("", record.get("answer") or "")
        s = scorer.score(gold[0], answer)
        calls, prompt = model_calls(record)
        row = {
            "r1": s["rouge1"].fmeasure,
            "r2": s["rouge2"].fmeasure,
            "rl": s["rougeL"].fmeasure,
            "words": len(answer.split()),
            "calls": calls,
            "prompt": prompt,
        }
        kind = record.get("kind") or "-"
        groups.setdefault(kind, []).append(row)
    summary = OrderedDict()
    everything = [row for rows in groups.values() for row in rows]
    for kind, rows in list(sorted(groups.items())) + ([("all", everything)] if len(groups) > 1 else []):
        summary[kind] = {
            "n": len(rows),
            "rouge1": 100 * mean(r["r1"] for r in rows),
            "rouge2": 100 * mean(r["r2"] for r in rows),
            "rougeL": 100 * mean(r["rl"] for r in rows),
            "answer_words": mean(r["words"] for r in rows),
            "model_calls": mean(r["calls"] for r in rows),
            "prompt_tokens": mean(r["prompt"] for r in rows),
        }
    return summary, skipped


def fmt(value, digits=1):
    return "-" if value is None else f"{value:.{digits}f}"


def print_table(path, summary, skipped):
    print(path)
    print(f"  {'kind':<10} {'n':>4} {'R-1':>6} {'R-2':>6} {'R-L':>6} {'words':>7} {'calls':>6} {'prompt tok':>10}")
    for kind, r in summary.items():
        print(
            f"  {kind:<10} {r['n']:>4} {fmt(r['rouge1']):>6} {fmt(r['rouge2']):>6} {fmt(r['rougeL']):>6} "
            f"{fmt(r['answer_words']):>7} {fmt(r['model_calls']):>6} {fmt(r['prompt_tokens'], 0):>10}"
        )
    if not summary:
        print("  (no lines with gold)")
    if skipped:
        print(f"  {skipped} line(s) without gold skipped")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", help="tome batch result files (JSONL)")
    parser.add_argument("--json", action="store_true", help="print the tables as one JSON object keyed by file")
    args = parser.parse_args()

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    out = OrderedDict()
    for i, path in enumerate(args.results):
        try:
            summary, skipped = score_file(path, scorer)
        except OSError as error:
            sys.exit(f"rouge.py: cannot read {path}: {error.strerror}")
        if args.json:
            out[path] = {"kinds": summary, "skipped": skipped}
        else:
            if i:
                print()
            print_table(path, summary, skipped)
    if args.json:
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
