#!/bin/bash
# Register the `cordon-runsc` Docker runtime that `cordon sandbox --runtime runsc` uses.
#
# It is runsc with the ptrace platform (the KVM platform fails inside virtual machines) and
# gVisor's syscall trace for process, file and socket syscalls, written by the sandbox's `boot`
# process into /var/log/cordon-runsc/. Docker passes runtime flags only from daemon.json, so the
# trace needs its own runtime entry. The script merges the entry into /etc/docker/daemon.json,
# keeps every other setting and sends dockerd SIGHUP, which reloads the runtimes without a
# restart. Idempotent; needs root, python3 and a running dockerd.
set -euo pipefail
command -v runsc >/dev/null || { echo "runsc is not installed (apt-get install runsc)" >&2; exit 1; }
mkdir -p /etc/docker /var/log/cordon-runsc
python3 - <<'PY'
import json, os
path = "/etc/docker/daemon.json"
config = {}
if os.path.exists(path) and os.path.getsize(path) > 0:
    with open(path) as f:
        config = json.load(f)
syscalls = ",".join([
    "execve", "execveat", "exit_group", "clone", "fork", "vfork",
    "open", "openat", "creat", "unlink", "unlinkat", "rename", "renameat", "renameat2",
    "chmod", "fchmod", "fchmodat", "memfd_create", "connect", "bind", "listen",
    "dup2", "dup3", "mount", "ptrace", "chdir", "fchdir", "setuid", "setresuid", "setreuid",
])
entry = {
    "path": "/usr/bin/runsc",
    "runtimeArgs": [
        "--platform=ptrace",
        "--network=host",
        "--debug",
        "--debug-log=/var/log/cordon-runsc/",
        "--debug-command=boot",
        "--strace",
        "--strace-syscalls=" + syscalls,
        "--strace-log-size=256",
    ],
}
runtimes = config.setdefault("runtimes", {})
if runtimes.get("cordon-runsc") != entry:
    runtimes["cordon-runsc"] = entry
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(config, f, indent=2)
    os.replace(tmp, path)
PY
pid=$(pidof dockerd || true)
if [ -z "$pid" ]; then
  echo "dockerd is not running; the runtime is registered for its next start" >&2
  exit 0
fi
kill -HUP "$pid"
for _ in $(seq 20); do
  if docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q cordon-runsc; then
    exit 0
  fi
  sleep 0.5
done
echo "dockerd did not load the cordon-runsc runtime; see its log" >&2
exit 1
