#!/usr/bin/env bash
# Builds and runs the Examples/ package against Tome as a downstream package sees it: a
# dependency by version (`from: "0.1.0"`) on a git repository, not a path. The repository is
# a clone of this checkout's HEAD (committed work only) tagged 0.1.0, kept in
# .build/examples/ with the example's build folder, so a re-run rebuilds only what changed.
# The example ingests three essays, asks a question and must print a cited answer.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work="$root/.build/examples"
clone="$work/tome"
say() { printf 'examples: %s\n' "$*" >&2; }

mkdir -p "$work"
if [[ ! -d "$clone/.git" ]]; then
  git clone --quiet --no-checkout "$root" "$clone"
fi
head=$(git rev-parse HEAD)
git -C "$clone" fetch --quiet --force "$root" "$head"
git -C "$clone" tag --list | xargs -r git -C "$clone" tag --delete >/dev/null
version="0.1.$(date +%s)"
git -C "$clone" tag "$version" "$head"
say "Tome $head tagged $version in $clone"

docs="$work/docs"
rm -rf "$docs" && mkdir -p "$docs"
essays="${TOME_SHARED:-$root/../shared}/data/paul_graham_essays/essays"
cp "$essays/superangels.txt" "$essays/vcsqueeze.txt" "$essays/founders.txt" "$docs/"

export TOME_PACKAGE_URL="file://$clone"
cd Examples
started=$(date +%s)
# Resolve to the new tag (the example's pins are not committed).
swift package --scratch-path "$work/build" update >/dev/null
swift build -c release --scratch-path "$work/build"
built=$(date +%s)
say "built in $((built - started))s"
output=$(swift run -c release --skip-build --scratch-path "$work/build" AskFolder "$docs" "What is a super-angel?" --prompts "$root/Prompts")
printf '%s\n' "$output"
say "ran in $(($(date +%s) - built))s"
grep -q '^A: .' <<<"$output" || { say "no answer printed"; exit 1; }
grep -Eq '(\[[0-9]+\]|source [0-9]+:) .*\.txt:[0-9]+-[0-9]+' <<<"$output" || { say "no cited source printed"; exit 1; }
