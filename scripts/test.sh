#!/bin/bash
# Run Cordon's checks and tests: rustfmt, clippy, a build of every target, the doc tests and
# the test suite (cargo-nextest when installed, otherwise cargo test).
#
# Usage: scripts/test.sh [extra arguments for the test runner]
#
# Tests that need the image cache read CORDON_CORPUS_DIR and CORDON_BULLSEYE_IMAGE. When these
# are unset and scripts/ci-setup.sh has built the cache at its default place, this script
# points them there. With CORDON_REQUIRE_E2E=1 those tests fail instead of skipping when an
# image is missing.
#
# Every step runs even when an earlier one fails; the exit code is 1 if any step failed.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo" || exit 1

images=${CORDON_IMAGES_DIR:-/var/cache/cordon/images}
if [ -z "${CORDON_CORPUS_DIR:-}" ] && [ -s "$images/corpus/inventory.tsv" ]; then
  export CORDON_CORPUS_DIR=$images/corpus
fi
bullseye=$images/bullseye/debian-bullseye-main.docker.tar
if [ -z "${CORDON_BULLSEYE_IMAGE:-}" ] && [ -s "$bullseye" ]; then
  export CORDON_BULLSEYE_IMAGE=$bullseye
fi
echo "test.sh: CORDON_CORPUS_DIR=${CORDON_CORPUS_DIR:-<unset>}"
echo "test.sh: CORDON_BULLSEYE_IMAGE=${CORDON_BULLSEYE_IMAGE:-<unset>}"
echo "test.sh: CORDON_REQUIRE_E2E=${CORDON_REQUIRE_E2E:-<unset>}"
echo "test.sh: CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-<unset>}"

failed=()
timings=()

# Runs one named step and records its duration and any failure.
step() {
  local name=$1
  shift
  local start=$SECONDS status=0
  echo "==> test.sh: $name: $*"
  "$@" || status=$?
  local elapsed=$((SECONDS - start))
  timings+=("$(printf '%6d s  %s (exit %d)' "$elapsed" "$name" "$status")")
  if [ "$status" -ne 0 ]; then
    echo "test.sh: step '$name' failed with exit code $status" >&2
    failed+=("$name")
  fi
}

# The quick checks run first so that the test runner's summary closes the log.
step "rustfmt" cargo fmt --all --check
step "clippy" cargo clippy --workspace --all-targets -- -D warnings
step "build" cargo build --workspace --all-targets
step "doc tests" cargo test --workspace --doc

echo "test.sh: timings so far:"
printf '%s\n' "${timings[@]}"

if cargo nextest --version >/dev/null 2>&1; then
  step "tests" cargo nextest run --workspace --no-fail-fast "$@"
else
  step "tests" cargo test --workspace --no-fail-fast "$@"
fi

if [ "${#failed[@]}" -ne 0 ]; then
  echo "test.sh: failed steps: ${failed[*]}" >&2
  exit 1
fi
