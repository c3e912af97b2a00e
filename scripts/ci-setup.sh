#!/bin/bash
# Prepare a Debian 12 machine for Cordon's full test suite: install the Debian packages listed
# in scripts/ci-packages.txt, start the Docker Engine and build the test images into a cache.
# Idempotent: a second run installs nothing and reuses the images (a few seconds).
#
# Usage: scripts/ci-setup.sh            (as root; reaches only Debian, PyPI and npm)
#
# Environment:
#   CORDON_IMAGES_DIR   image cache (default /var/cache/cordon/images)
#   CORDON_SHARED_DIR   the shared data folder (default: the `shared` folder next to the clone)
#   CORDON_SKIP_IMAGES  set to 1 to install packages and start Docker only
#   CORDON_MOTO_DIR     virtualenv for the S3 test server (default /opt/cordon-moto)
#
# Outputs:
#   $CORDON_IMAGES_DIR/corpus/<name>.docker.tar        ten corpus images (docker-archive)
#   $CORDON_IMAGES_DIR/corpus/oci/                     the same images in one OCI layout
#   $CORDON_IMAGES_DIR/corpus/oci-single/<name>/       one OCI layout per image
#   $CORDON_IMAGES_DIR/bullseye/debian-bullseye-main.docker.tar   Debian 11 image
#   $CORDON_MOTO_DIR/bin/moto_server                   S3-compatible server for upload tests
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${CORDON_SHARED_DIR:-$repo/../shared}
images=${CORDON_IMAGES_DIR:-/var/cache/cordon/images}
moto_dir=${CORDON_MOTO_DIR:-/opt/cordon-moto}
# moto in server mode is the S3 API that the `--upload` tests start on loopback.
moto_version=5.2.6
package_list=$repo/scripts/ci-packages.txt
export DEBIAN_FRONTEND=noninteractive

summary=()

# Runs one named step, prints its duration and stops the script with the step name on failure.
step() {
  local name=$1
  shift
  local start=$SECONDS status=0
  echo "==> ci-setup: $name"
  # Daemons that a step starts (dockerd) must not inherit the lock, or they hold it forever.
  "$@" 9>&- || status=$?
  local elapsed=$((SECONDS - start))
  if [ "$status" -ne 0 ]; then
    echo "ci-setup: step '$name' failed with exit code $status after ${elapsed} s" >&2
    exit "$status"
  fi
  echo "==> ci-setup: $name done in ${elapsed} s"
  summary+=("$(printf '%6d s  %s' "$elapsed" "$name")")
}

# Prints the packages of the list file that dpkg does not report as installed.
missing_packages() {
  local wanted
  wanted=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$package_list")
  if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    wanted+=$'\npython3\npython3-venv'
  fi
  if ! command -v npm >/dev/null; then
    wanted+=$'\nnodejs\nnpm'
  fi
  local package
  for package in $wanted; do
    if ! dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
      echo "$package"
    fi
  done
}

install_packages() {
  local missing
  missing=$(missing_packages)
  if [ -z "$missing" ]; then
    echo "all Debian packages from $package_list are installed"
    return 0
  fi
  echo "installing: $(tr '\n' ' ' <<<"$missing")"

  # The ClamAV signature updater would try to reach its own servers, so it is set to manual.
  echo 'clamav-freshclam clamav-freshclam/autoupdate_freshclam select manual' | debconf-set-selections

  # Stop package scripts from starting daemons (freshclam, clamd, dockerd), because the tests
  # start what they need themselves. A policy-rc.d that was already there stays untouched.
  local own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  local status=0
  apt-get update -q || status=$?
  if [ "$status" -eq 0 ]; then
    # shellcheck disable=SC2086 # one package per word
    apt-get install -y -q --no-install-recommends $missing || status=$?
  fi
  if [ "$own_policy" = 1 ]; then
    rm -f /usr/sbin/policy-rc.d
  fi
  return "$status"
}

start_docker() {
  bash "$shared/ci/start-docker.sh"
  # The sandbox's traced gVisor runtime needs its own daemon.json entry.
  bash "$repo/crates/cordon-sandbox/tests/register-runsc-runtime.sh"
  docker info --format 'runtimes: {{range $name, $_ := .Runtimes}}{{$name}} {{end}}'
}

build_corpus() {
  OCI_PER_IMAGE=1 bash "$shared/corpus/build-corpus.sh" "$images/corpus"
}

# build-image.sh repeats its docker import and save on every run, so a finished archive
# is marked with a stamp file and reused.
build_bullseye() {
  local out=$images/bullseye
  local stamp=$out/.debian-bullseye-main.done
  if [ -e "$stamp" ] && [ -s "$out/debian-bullseye-main.docker.tar" ]; then
    echo "reusing $out/debian-bullseye-main.docker.tar"
    # A new Docker Engine state lacks the image that the archive holds.
    if ! docker image inspect cordon-corpus/debian-bullseye-main:derived >/dev/null 2>&1; then
      docker load -i "$out/debian-bullseye-main.docker.tar"
    fi
    return 0
  fi
  rm -f "$stamp"
  bash "$shared/vulndata/debian-derived/build-image.sh" "$out"
  touch "$stamp"
}

# The virtualenv is reused while it contains the pinned moto version.
install_moto() {
  local python=$moto_dir/bin/python
  if [ -x "$moto_dir/bin/moto_server" ] &&
    [ "$("$python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" = "$moto_version" ]; then
    echo "reusing moto $moto_version in $moto_dir"
    return 0
  fi
  python3 -m venv "$moto_dir"
  "$python" -m pip install --quiet --disable-pip-version-check "moto[server]==$moto_version"
  "$moto_dir/bin/moto_server" --help >/dev/null
}

list_images() {
  find "$images/corpus" "$images/bullseye" -maxdepth 1 -name '*.docker.tar' -printf '%10s  %p\n' | sort -k2
  du -sh "$images"
}

if [ "$(id -u)" -ne 0 ]; then
  echo "ci-setup: must run as root (it installs Debian packages and starts dockerd)" >&2
  exit 1
fi
if [ ! -d "$shared/corpus" ]; then
  echo "ci-setup: shared data folder not found at $shared; set CORDON_SHARED_DIR" >&2
  exit 1
fi
mkdir -p "$images"

# Two concurrent runs would build the same images into the same folders.
lock=/run/lock/cordon-ci-setup.lock
mkdir -p /run/lock
exec 9>"$lock"
if ! flock -n 9; then
  echo "ci-setup: another ci-setup.sh holds $lock, waiting for it"
  flock 9
fi

total_start=$SECONDS
step "install Debian packages" install_packages
step "start Docker Engine" start_docker
step "install moto S3 server" install_moto
if [ "${CORDON_SKIP_IMAGES:-0}" != 1 ]; then
  step "build corpus images" build_corpus
  step "build Debian 11 image" build_bullseye
  step "list images" list_images
fi

echo "==> ci-setup: finished in $((SECONDS - total_start)) s"
printf '%s\n' "${summary[@]}"
