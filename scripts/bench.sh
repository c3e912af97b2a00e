#!/bin/bash
# Benchmark cordon against syft and trivy on every corpus docker-archive, with no network,
# and print a markdown table of median wall-clock times and peak resident memory.
#
# Usage: scripts/bench.sh [CORDON_BINARY] >bench.md
#
# Needs: hyperfine and /usr/bin/time (Debian packages hyperfine and time), the corpus from
# scripts/ci-setup.sh, the peers from scripts/install-peers.sh, root for `unshare -n`.
#
# Environment:
#   CORDON_CORPUS_DIR  corpus folder (default /var/cache/cordon/images/corpus)
#   PEERS              peer tools folder (default /opt/cordon-peers)
#   BENCH_DB           cordon database for `cordon scan` (default: built into a temporary
#                      folder from samples/vulndata and, when present, the shared OSV feeds)
#   BENCH_IMAGES       image names to run (default: every *.docker.tar in the corpus)
#   BENCH_TOOLS        commands to run (default: "floor floor-gzip cordon-sbom cordon-scan syft trivy")
#   BENCH_RUNS         timed runs per command (default 5, after one warm-up run)
#
# Commands, each run as `unshare -n CMD >/dev/null` with the archive in the page cache:
#   floor        cat IMAGE.docker.tar reads every byte of the archive once. Docker-archive
#                layers are uncompressed, so this is the least work any scanner can do.
#   floor-gzip   zcat of every gzip layer blob of the same image's OCI layout, which is the
#                decompression cost that a scanner reading the OCI or registry form pays.
#                NOTE: gzip(1) inflates slower than zlib-ng or libdeflate, so a scanner
#                using those can beat this floor.
#   cordon-sbom  cordon sbom docker-archive:IMAGE --format cyclonedx-json
#   cordon-scan  cordon scan docker-archive:IMAGE --db DB --format json --fail-on Defcon1 (the gate
#                never fails, so the exit code is 0; the scan does the same work)
#   syft         syft docker-archive:IMAGE -o cyclonedx-json
#   trivy        trivy image --input IMAGE --format cyclonedx (package inventory only, because
#                trivy downloads its vulnerability database and so cannot scan offline)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${CORDON_SHARED_DIR:-$repo/../shared}
cordon=${1:-${CARGO_TARGET_DIR:-$repo/target}/release/cordon}
corpus=${CORDON_CORPUS_DIR:-/var/cache/cordon/images/corpus}
peers=${PEERS:-/opt/cordon-peers}
runs=${BENCH_RUNS:-5}
tools=${BENCH_TOOLS:-floor floor-gzip cordon-sbom cordon-scan syft trivy}

fail() {
  echo "bench: $*" >&2
  exit 1
}

uses() { [[ " $tools " == *" $1 "* ]]; }

command -v hyperfine >/dev/null || fail "hyperfine not found; apt-get install hyperfine"
[ -x /usr/bin/time ] || fail "/usr/bin/time not found; apt-get install time"
[ -d "$corpus" ] || fail "corpus not found at $corpus; run scripts/ci-setup.sh"
if uses cordon-sbom || uses cordon-scan; then
  [ -x "$cordon" ] || fail "cordon binary not found at $cordon; run 'cargo build --release'"
fi
if uses syft || uses trivy; then
  if [ ! -x "$peers/bin/syft" ] || [ ! -x "$peers/bin/trivy" ]; then
    fail "syft or trivy not found in $peers/bin; run scripts/install-peers.sh"
  fi
fi

# Peer runs must not reach the network, so unshare -n gives each command an empty network
# namespace. Every command gets the same wrapper so that its cost is the same for all.
offline=()
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
  offline=(unshare -n)
else
  echo "bench: not root or unshare -n unavailable; running without a network namespace" >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SYFT_CHECK_FOR_APP_UPDATE=false
trivy_flags="--format cyclonedx --offline-scan --skip-db-update --skip-java-db-update \
--skip-version-check --disable-telemetry --cache-backend memory --cache-dir $peers/trivy-cache"

db=${BENCH_DB:-}
if uses cordon-scan && [ -z "$db" ]; then
  db=$tmp/cordon.db
  sources=(
    --source debian-tracker="$repo/samples/vulndata/debian-tracker-bullseye.json"
    --source cve5="$repo/samples/vulndata/cve5-subset.zip"
  )
  for ecosystem in PyPI npm Maven Go crates.io; do
    if [ -s "$shared/vulndata/osv/$ecosystem/all.zip" ]; then
      sources+=(--source osv="$shared/vulndata/osv/$ecosystem/all.zip")
    fi
  done
  "$cordon" db build "${sources[@]}" --output "$db" >&2
fi

# Prints the shell command that runs TOOL on image NAME.
command_for() {
  local tool=$1 name=$2
  local archive=$corpus/$name.docker.tar
  case $tool in
    floor) echo "cat '$archive'" ;;
    floor-gzip)
      local layout=$corpus/oci-single/$name
      [ -s "$layout/index.json" ] || fail "OCI layout $layout not found; rebuild the corpus with OCI_PER_IMAGE=1"
      # Every blob that starts with the gzip magic bytes is a layer.
      echo "for blob in '$layout'/blobs/sha256/*; do if [ \"\$(head -c2 \"\$blob\" | od -An -tx1 | tr -d ' ')\" = 1f8b ]; then zcat \"\$blob\"; fi; done"
      ;;
    cordon-sbom) echo "'$cordon' sbom 'docker-archive:$archive' --format cyclonedx-json" ;;
    cordon-scan) echo "'$cordon' scan 'docker-archive:$archive' --db '$db' --format json --fail-on Defcon1" ;;
    syft) echo "'$peers/bin/syft' 'docker-archive:$archive' -o cyclonedx-json -q" ;;
    trivy) echo "'$peers/bin/trivy' image --input '$archive' $trivy_flags --quiet" ;;
    *) fail "unknown tool '$tool' in BENCH_TOOLS" ;;
  esac
}

# Writes the command that runs TOOL on image NAME into a script file and prints its path.
# hyperfine and /usr/bin/time then run the same file.
write_command() {
  local tool=$1 name=$2
  local script=$tmp/$name.$tool.sh
  command_for "$tool" "$name" >"$script"
  echo "$script"
}

# Prints the peak resident set size of one run of a script file, in MiB.
# GNU time reports the maximum over the process and its waited-for children.
peak_rss_mib() {
  local script=$1 report=$tmp/time.txt
  /usr/bin/time -v -o "$report" "${offline[@]}" bash "$script" >/dev/null 2>&1 ||
    fail "'$(cat "$script")' failed; run it by hand to see why"
  awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$report"
}

if [ -n "${BENCH_IMAGES:-}" ]; then
  read -r -a images <<<"$BENCH_IMAGES"
else
  images=()
  for archive in "$corpus"/*.docker.tar; do
    images+=("$(basename "$archive" .docker.tar)")
  done
fi
read -r -a tool_list <<<"$tools"

header="| image | MB |"
rule="|---|---:|"
for tool in "${tool_list[@]}"; do
  header+=" $tool s (MiB) |"
  rule+="---:|"
done
rows=()

for name in "${images[@]}"; do
  archive=$corpus/$name.docker.tar
  [ -s "$archive" ] || fail "image archive $archive not found"
  size_mb=$(($(stat -c %s "$archive") / 1000000))
  row="| $name | $size_mb |"

  hyperfine_args=()
  for tool in "${tool_list[@]}"; do
    script=$(write_command "$tool" "$name")
    hyperfine_args+=(--command-name "$tool" "${offline[*]} bash $script >/dev/null")
  done
  echo "bench: $name" >&2
  hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$tmp/$name.json" \
    "${hyperfine_args[@]}" >&2

  for tool in "${tool_list[@]}"; do
    median=$(python3 -c '
import json, sys
results = json.load(open(sys.argv[1]))["results"]
print(next("%.2f" % r["median"] for r in results if r["command"] == sys.argv[2]))
' "$tmp/$name.json" "$tool")
    rss=$(peak_rss_mib "$tmp/$name.$tool.sh")
    row+=" $median ($rss) |"
  done
  rows+=("$row")
done

echo "Median wall-clock seconds of $runs runs after one warm-up (peak RSS in MiB of one more run),"
echo "$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) memory, $(date -u +%F)."
if uses cordon-sbom || uses cordon-scan; then
  echo "cordon: $("$cordon" --version)"
fi
if uses syft; then
  echo "syft: $("$peers/bin/syft" version | sed -n 's/^Version: *//p')"
fi
if uses trivy; then
  echo "trivy: $("$peers/bin/trivy" --version | sed -n '1s/^Version: *//p')"
fi
echo
echo "$header"
echo "$rule"
printf '%s\n' "${rows[@]}"
