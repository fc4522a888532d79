#!/usr/bin/env bash
# The test command: installs what the tests need (system packages, model weights), then runs
# the whole suite in a release build (tests run the real encoder and model, which a debug
# build makes 10-100x slower). The suite takes minutes; the time limit turns a hang into a
# failure that names itself instead of a CI run that never ends.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh --no-build
status=0
timeout --kill-after=30s "${TOME_TEST_TIMEOUT:-45m}" swift test -c release -Xswiftc -enable-testing "$@" || status=$?
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
  echo "error: the test suite ran past ${TOME_TEST_TIMEOUT:-45m} and was stopped; the tests above that started and never passed or failed are the ones that hung" >&2
fi
exit "$status"
