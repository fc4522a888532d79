#!/usr/bin/env bash
# The test command: installs what the tests need (system packages, model weights), then runs
# the whole suite in a release build (tests run the real encoder and model, which a debug
# build makes 10-100x slower).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh --no-build
swift test -c release -Xswiftc -enable-testing "$@"
