#!/usr/bin/env python3
"""How much of the relevant part of a collection a whole-collection answer cites.

Usage: coverage.py RESULTS.jsonl --essays DIR --keywords k1,k2,... [--min-hits 3] [--id ID] [--verified-only] [--list]

An essay (a file in DIR) is relevant when the keywords occur in it at least --min-hits times
in all (case-insensitive, whole words: "angel" does not count "angels"; list both to count
both; a keyword may be a phrase). An essay is cited by a result line when any path in the
line's `citations` (the model's [n] markers, resolved) or `attributions` (Tome's support for
unmarked sentences) ends with the essay's file name.

For each line: relevant essays, relevant essays cited, essays cited in all, and
coverage = cited relevant / relevant. Needs only the Python standard library.
"""

import argparse
import json
import os
import re
import sys


def relevant_essays(folder, keywords, min_hits):
    """{file name: keyword hits} of the essays with at least min_hits hits, and the total count."""
    patterns = [re.compile(r"(?<!\w)" + re.escape(k) + r"(?!\w)", re.IGNORECASE) for k in keywords]
    try:
        names = sorted(n for n in os.listdir(folder) if os.path.isfile(os.path.join(folder, n)))
    except OSError as error:
        sys.exit(f"coverage.py: cannot read --essays {folder}: {error.strerror}")
    relevant = {}
    for name in names:
        with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
            text = f.read()
        hits = sum(len(p.findall(text)) for p in patterns)
        if hits >= min_hits:
            relevant[name] = hits
    return relevant, len(names)


def cited_paths(record, verified_only):
    """Every path the line's citations and attributions name."""
    paths = []
    for citation in record.get("citations") or []:
        if citation.get("path") and (citation.get("verified") or not verified_only):
            paths.append(citation["path"])
    for attribution in record.get("attributions") or []:
        if attribution.get("path"):
            paths.append(attribution["path"])
    return paths


def cited_essays(paths, names):
    """The essay names some path ends with (as a whole path component)."""
    return {name for name in names if any(p == name or p.endswith("/" + name) for p in paths)}


def read_records(path):
    """The answer records of a JSONL file, or of one JSON object (`tome ask --json` output)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as error:
        sys.exit(f"coverage.py: cannot read {path}: {error.strerror}")
    try:
        whole = json.loads(text)
        if isinstance(whole, dict):
            return [whole]
    except json.JSONDecodeError:
        pass
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            sys.exit(f"{path}:{number}: not JSON ({error})")
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="tome batch result file (JSONL), or tome ask --json output")
    parser.add_argument("--essays", required=True, help="folder of the essays (one file each)")
    parser.add_argument("--keywords", required=True, help="comma-separated keywords or phrases")
    parser.add_argument("--min-hits", type=int, default=3, help="keyword occurrences that make an essay relevant (default 3)")
    parser.add_argument("--verified-only", action="store_true", help="count only verified [n] citations (attributions always count)")
    parser.add_argument("--id", action="append", help="only the line with this id (repeatable); keywords fit one question")
    parser.add_argument("--list", action="store_true", help="also list the relevant essays and which were cited")
    args = parser.parse_args()

    keywords = [k.strip() for k in args.keywords.split(",") if k.strip()]
    if not keywords:
        sys.exit("coverage.py: --keywords is empty")
    if args.min_hits < 1:
        sys.exit("coverage.py: --min-hits must be at least 1")
    relevant, total = relevant_essays(args.essays, keywords, args.min_hits)
    print(f"{len(relevant)} of {total} essays relevant (>= {args.min_hits} hits of {', '.join(keywords)})")
    if args.list:
        for name, hits in sorted(relevant.items(), key=lambda item: -item[1]):
            print(f"  {hits:4d}  {name}")

    records = read_records(args.results)
    if args.id:
        records = [r for r in records if str(r.get("id")) in set(args.id)]
        if not records:
            sys.exit(f"coverage.py: no line of {args.results} has id {', '.join(args.id)}")
    names = set(os.listdir(args.essays))
    print(f"{'id':<16} {'relevant':>8} {'cited rel':>9} {'cited':>6} {'coverage':>8}  question")
    coverages = []
    for number, record in enumerate(records, 1):
        cited = cited_essays(cited_paths(record, args.verified_only), names)
        hit = cited & relevant.keys()
        coverage = len(hit) / len(relevant) if relevant else None
        if coverage is not None:
            coverages.append(coverage)
        question = (record.get("question") or "")[:60]
        ident = str(record.get("id", number))[:16]
        shown = "-" if coverage is None else f"{coverage:.3f}"
        print(f"{ident:<16} {len(relevant):>8} {len(hit):>9} {len(cited):>6} {shown:>8}  {question}")
        if args.list and cited:
            print(f"{'':<16} cited: {', '.join(sorted(cited))}")
    if len(coverages) > 1:
        print(f"mean coverage over {len(coverages)} answers: {sum(coverages) / len(coverages):.3f}")


if __name__ == "__main__":
    main()
