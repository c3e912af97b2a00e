#!/bin/bash
# Build a vulnerability database from the feeds in samples/vulndata and scan the sample root
# file systems in samples/rootfs with it. Needs only this repository and a release build:
#
#   cargo build --release && scripts/demo.sh
#
# Environment: CORDON (the cordon binary; default: the release build under the cargo target
# directory), DEMO_FAIL_ON (severity threshold, default high), DEMO_MAX_COUNT (count
# threshold, default 50). The scan of the Debian sample applies the Clair-style gate: it fails
# when DEMO_MAX_COUNT or more vulnerabilities are rated DEMO_FAIL_ON or worse. A failed gate
# is a result the demo shows, so this script still exits 0; any other error makes it fail.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

cordon=${CORDON:-${CARGO_TARGET_DIR:-$repo/target}/release/cordon}
if [ ! -x "$cordon" ]; then
  echo "demo: cordon binary not found at $cordon; run 'cargo build --release' or set CORDON" >&2
  exit 1
fi
fail_on=${DEMO_FAIL_ON:-high}
max_count=${DEMO_MAX_COUNT:-50}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Runs a command that may end with the gate's exit code 1 and explains the outcome.
# Exit codes other than 0 and 1 are errors and stop the demo.
run_gate() {
  local status=0
  "$@" || status=$?
  case $status in
    0) echo "demo: exit code 0: the image passed the gate" ;;
    1) echo "demo: exit code 1: the image failed the gate ($max_count or more vulnerabilities rated $fail_on or worse)" ;;
    *)
      echo "demo: '$*' failed with exit code $status" >&2
      exit "$status"
      ;;
  esac
}

echo "== cordon db build"
"$cordon" db build \
  --source debian-tracker=samples/vulndata/debian-tracker-bullseye.json \
  --source osv=samples/vulndata/osv-pypi.zip \
  --source osv=samples/vulndata/osv-npm.zip \
  --source cve5=samples/vulndata/cve5-subset.zip \
  --output "$tmp/cordon.db"

echo
echo "== cordon scan dir:samples/rootfs/debian-bullseye (gate: $max_count or more at $fail_on or worse)"
run_gate "$cordon" scan dir:samples/rootfs/debian-bullseye --db "$tmp/cordon.db" \
  --format table --fail-on "$fail_on" --max-count "$max_count"

for app in python-app node-app; do
  echo
  echo "== cordon scan dir:samples/rootfs/$app (same gate)"
  run_gate "$cordon" scan "dir:samples/rootfs/$app" --db "$tmp/cordon.db" \
    --format table --fail-on "$fail_on" --max-count "$max_count"
done

echo
echo "== SARIF and CycloneDX reports of the Debian sample"
run_gate "$cordon" --quiet scan dir:samples/rootfs/debian-bullseye --db "$tmp/cordon.db" \
  --fail-on "$fail_on" --max-count "$max_count" --format sarif --output "$tmp/debian-bullseye.sarif"
run_gate "$cordon" --quiet scan dir:samples/rootfs/debian-bullseye --db "$tmp/cordon.db" \
  --fail-on "$fail_on" --max-count "$max_count" --format cyclonedx-json --output "$tmp/debian-bullseye.cdx.json"
wc -c "$tmp/debian-bullseye.sarif" "$tmp/debian-bullseye.cdx.json"
