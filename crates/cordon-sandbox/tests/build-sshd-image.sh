#!/bin/bash
# Build cordon-sandbox-test/sshd:1: the corpus Debian slim image plus openssh-server, whose
# entrypoint script (like a backdoor's) starts sshd on port 2222 and then sleeps. The .debs are fetched on the host with
# apt-get download (package registry only); the image build itself runs with --network none.
# Idempotent; needs root, a running dockerd and the corpus image corpus/debian-slim:latest.
set -euo pipefail
image=cordon-sandbox-test/sshd:1
base=corpus/debian-slim:latest
if docker image inspect "$image" >/dev/null 2>&1; then
  exit 0
fi
docker image inspect "$base" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/debs"
docker run --rm --network none --entrypoint dpkg-query "$base" -W -f '${db:Status-Abbrev}${Package}\n' \
  | awk '/^ii/ { print substr($0, 4) }' | sort -u >"$work/installed"
apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances openssh-server | grep -E '^[a-z0-9]' | sort -u >"$work/wanted"
needed=$(comm -23 "$work/wanted" "$work/installed")
(cd "$work/debs" && apt-get download -q $needed >/dev/null)
cat >"$work/Dockerfile" <<'DOCKERFILE'
FROM corpus/debian-slim:latest
COPY debs /tmp/debs
RUN DEBIAN_FRONTEND=noninteractive dpkg -i --force-depends /tmp/debs/*.deb >/dev/null \
 && rm -rf /tmp/debs && mkdir -p /run/sshd \
 && printf '#!/bin/sh\n/usr/sbin/sshd -p 2222\nexec sleep 3600\n' >/usr/local/bin/start \
 && chmod 755 /usr/local/bin/start
ENTRYPOINT ["/usr/local/bin/start"]
DOCKERFILE
docker build -q --network none -t "$image" "$work" >/dev/null
echo "built $image"
