#!/bin/bash
# Benchmark cordon against syft and trivy on every corpus image, with no network. Prints
# markdown tables of median wall-clock time and CPU time, of cordon's time as a ratio to the
# floor (the least work that reads the same layers), and of peak resident memory.
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
#   BENCH_TOOLS        commands to run (default: every command below)
#   BENCH_RUNS         timed runs per command (default 5, after one warm-up run)
#
# Commands, each run as `unshare -n CMD >/dev/null` with the input in the page cache:
#   floor            cat IMAGE.docker.tar reads every byte of the archive once. Docker-archive
#                    layers are uncompressed, so this is the least work any scanner can do.
#   floor-sha256     openssl dgst -sha256 IMAGE.docker.tar reads and hashes every byte once
#                    on one core: the least work of a reader that checks layer digests, as
#                    Cordon does (it hashes each layer, so with two cores it can beat this).
#   floor-gzip       zcat of every gzip layer blob of the same image's OCI layout, which is
#                    the decompression cost that a scanner reading the OCI or registry form
#                    pays. NOTE: gzip(1) inflates slower than zlib-ng or zlib-rs, so a
#                    scanner using those can beat this floor.
#   cordon-sbom      cordon sbom docker-archive:IMAGE --format cyclonedx-json
#   cordon-sbom-oci  cordon sbom oci-dir:LAYOUT --format cyclonedx-json, on the same image's
#                    OCI layout with gzip layers (compare with floor-gzip)
#   cordon-scan      cordon scan docker-archive:IMAGE --scanners vuln --db DB --format json
#                    --fail-on Defcon1 (the gate never fails, so the exit code is 0; the scan
#                    does the same work)
#   cordon-scan-all  the same with the default scanners, vulnerabilities and malware, which
#                    reads every layer a second time for the malware rules
#   syft             syft docker-archive:IMAGE -o cyclonedx-json
#   trivy            trivy image --input IMAGE --format cyclonedx (package inventory only,
#                    because trivy downloads its vulnerability database and so cannot scan
#                    offline)
#
# Cordon's columns are also given as a ratio to a floor measured in the same run:
# cordon-sbom, cordon-scan and cordon-scan-all to floor, cordon-sbom-oci to floor-gzip.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${CORDON_SHARED_DIR:-$repo/../shared}
cordon=${1:-${CARGO_TARGET_DIR:-$repo/target}/release/cordon}
corpus=${CORDON_CORPUS_DIR:-/var/cache/cordon/images/corpus}
peers=${PEERS:-/opt/cordon-peers}
runs=${BENCH_RUNS:-5}
tools=${BENCH_TOOLS:-floor floor-sha256 floor-gzip cordon-sbom cordon-sbom-oci cordon-scan cordon-scan-all syft trivy}

fail() {
  echo "bench: $*" >&2
  exit 1
}

uses() { [[ " $tools " == *" $1 "* ]]; }

command -v hyperfine >/dev/null || fail "hyperfine not found; apt-get install hyperfine"
[ -x /usr/bin/time ] || fail "/usr/bin/time not found; apt-get install time"
[ -d "$corpus" ] || fail "corpus not found at $corpus; run scripts/ci-setup.sh"
if uses cordon-sbom || uses cordon-sbom-oci || uses cordon-scan || uses cordon-scan-all; then
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
if { uses cordon-scan || uses cordon-scan-all; } && [ -z "$db" ]; then
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

# Prints the OCI layout folder of image NAME, or fails when the corpus has none.
oci_layout() {
  local layout=$corpus/oci-single/$1
  [ -s "$layout/index.json" ] || fail "OCI layout $layout not found; rebuild the corpus with OCI_PER_IMAGE=1"
  echo "$layout"
}

# Prints the shell command that runs TOOL on image NAME.
command_for() {
  local tool=$1 name=$2
  local archive=$corpus/$name.docker.tar
  case $tool in
    floor) echo "cat '$archive'" ;;
    floor-sha256) echo "openssl dgst -sha256 '$archive'" ;;
    floor-gzip)
      local layout
      layout=$(oci_layout "$name")
      # Every blob that starts with the gzip magic bytes is a layer.
      echo "for blob in '$layout'/blobs/sha256/*; do if [ \"\$(head -c2 \"\$blob\" | od -An -tx1 | tr -d ' ')\" = 1f8b ]; then zcat \"\$blob\"; fi; done"
      ;;
    cordon-sbom) echo "'$cordon' sbom 'docker-archive:$archive' --format cyclonedx-json" ;;
    cordon-sbom-oci) echo "'$cordon' sbom 'oci-dir:$(oci_layout "$name")' --format cyclonedx-json" ;;
    cordon-scan) echo "'$cordon' scan 'docker-archive:$archive' --scanners vuln --db '$db' --format json --fail-on Defcon1" ;;
    cordon-scan-all) echo "'$cordon' scan 'docker-archive:$archive' --db '$db' --format json --fail-on Defcon1" ;;
    syft) echo "'$peers/bin/syft' 'docker-archive:$archive' -o cyclonedx-json -q" ;;
    trivy) echo "'$peers/bin/trivy' image --input '$archive' $trivy_flags --quiet" ;;
    *) fail "unknown tool '$tool' in BENCH_TOOLS" ;;
  esac
}

# Prints the floor that TOOL is compared with, or nothing.
floor_for() {
  case $1 in
    cordon-sbom | cordon-scan | cordon-scan-all) echo floor ;;
    cordon-sbom-oci) echo floor-gzip ;;
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

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rss_file=$tmp/rss.tsv
: >"$rss_file"
for name in "${images[@]}"; do
  archive=$corpus/$name.docker.tar
  [ -s "$archive" ] || fail "image archive $archive not found"

  hyperfine_args=()
  for tool in "${tool_list[@]}"; do
    script=$(write_command "$tool" "$name")
    hyperfine_args+=(--command-name "$tool" "${offline[*]} bash $script >/dev/null")
  done
  echo "bench: $name" >&2
  hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$tmp/$name.json" \
    "${hyperfine_args[@]}" >&2

  for tool in "${tool_list[@]}"; do
    printf '%s\t%s\t%s\n' "$name" "$tool" "$(peak_rss_mib "$tmp/$name.$tool.sh")" >>"$rss_file"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo "Median wall-clock seconds and mean user+system CPU seconds of $runs runs after one warm-up;"
echo "peak RSS in MiB of one more run. $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) memory, $(date -u +%F)."
echo "Load average (1, 5, 15 min): $load_before before the run, $load_after after it."
if uses cordon-sbom || uses cordon-sbom-oci || uses cordon-scan || uses cordon-scan-all; then
  echo "cordon: $("$cordon" --version)"
fi
if uses syft; then
  echo "syft: $("$peers/bin/syft" version | sed -n 's/^Version: *//p')"
fi
if uses trivy; then
  echo "trivy: $("$peers/bin/trivy" --version | sed -n '1s/^Version: *//p')"
fi
echo

floors=()
for tool in "${tool_list[@]}"; do
  floor=$(floor_for "$tool")
  if [ -n "$floor" ] && uses "$floor"; then
    floors+=("$tool:$floor")
  fi
done

python3 - "$tmp" "$corpus" "$rss_file" "${floors[*]}" "${tool_list[@]}" "--" "${images[@]}" <<'PYTHON'
import json
import os
import sys

tmp, corpus, rss_file, floor_pairs = sys.argv[1:5]
rest = sys.argv[5:]
split = rest.index("--")
tools, images = rest[:split], rest[split + 1 :]
floors = [pair.split(":") for pair in floor_pairs.split()]
rss = {}
with open(rss_file) as lines:
    for line in lines:
        name, tool, mib = line.rstrip("\n").split("\t")
        rss[(name, tool)] = mib


def times(name):
    results = json.load(open(os.path.join(tmp, name + ".json")))["results"]
    return {r["command"]: (r["median"], r["user"] + r["system"]) for r in results}


def size_mb(name):
    return os.path.getsize(os.path.join(corpus, name + ".docker.tar")) // 1000000


print("Seconds, wall-clock / user+system CPU:")
print()
print("| image | MB | " + " | ".join(tools) + " |")
print("|---|---:|" + "---:|" * len(tools))
for name in images:
    measured = times(name)
    cells = ["%.2f / %.2f" % measured[tool] for tool in tools]
    print("| %s | %d | %s |" % (name, size_mb(name), " | ".join(cells)))

if floors:
    print()
    print("Ratio of cordon's time to the floor measured in the same run, wall-clock (CPU):")
    print()
    print("| image | " + " | ".join("%s / %s" % (tool, floor) for tool, floor in floors) + " |")
    print("|---|" + "---:|" * len(floors))
    for name in images:
        measured = times(name)
        cells = []
        for tool, floor in floors:
            wall, cpu = measured[tool]
            floor_wall, floor_cpu = measured[floor]
            cells.append("%.1f (%.1f)" % (wall / floor_wall, cpu / max(floor_cpu, 1e-3)))
        print("| %s | %s |" % (name, " | ".join(cells)))

print()
print("Peak RSS, MiB:")
print()
print("| image | " + " | ".join(tools) + " |")
print("|---|" + "---:|" * len(tools))
for name in images:
    print("| %s | %s |" % (name, " | ".join(rss[(name, tool)] for tool in tools)))
PYTHON
