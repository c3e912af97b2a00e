#!/usr/bin/env python3
"""Regenerate samples/ from the shared data folder and the corpus images.

Usage: scripts/make-samples.py [--shared DIR] [--corpus DIR]

  --shared  the shared data folder (default: the `shared` folder next to the clone)
  --corpus  the built corpus (default /var/cache/cordon/images/corpus); the python-app and
            node-app sample files are copied out of its docker-archives

Every JSON record is copied byte for byte: the zips keep each member's upstream bytes, name,
timestamp and compression method, so a sample zip is a subset of its upstream zip.
"""

import argparse
import json
import re
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"

# Python distributions shipped in samples/rootfs/python-app, as paths inside the corpus image.
SITE_PACKAGES = "opt/app/venv/lib/python3.11/site-packages"
PYTHON_APP_FILES = [
    "usr/lib/os-release",
    f"{SITE_PACKAGES}/PyYAML-5.3.egg-info/PKG-INFO",
    f"{SITE_PACKAGES}/urllib3-1.23.dist-info/METADATA",
    f"{SITE_PACKAGES}/Jinja2-2.10.dist-info/METADATA",
    f"{SITE_PACKAGES}/requests-2.19.1.dist-info/METADATA",
]
NODE_APP_FILES = [
    "usr/lib/os-release",
    "srv/app/package.json",
    "srv/app/package-lock.json",
]

# PyPI projects of the sample Python app, in PEP 503 normalised form.
PYPI_PROJECTS = {"pyyaml", "urllib3", "jinja2", "requests"}


def normalise_pypi_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def copy_members(source: Path, target: Path, names: list[str]) -> None:
    """Write the named members of `source` into a new zip `target`, bytes and metadata unchanged."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as upstream, zipfile.ZipFile(target, "w") as subset:
        for name in sorted(names):
            info = upstream.getinfo(name)
            subset.writestr(info, upstream.read(name), compress_type=info.compress_type)
    print(f"wrote {target.relative_to(REPO)}: {len(names)} records from {source}")


def osv_aliases(archive: Path) -> set[str]:
    aliases = set()
    with zipfile.ZipFile(archive) as records:
        for name in records.namelist():
            record = json.loads(records.read(name))
            aliases.update(alias for alias in record.get("aliases", []) if alias.startswith("CVE-"))
    return aliases


def select_pypi_records(archive: Path) -> list[str]:
    selected = []
    with zipfile.ZipFile(archive) as records:
        for name in records.namelist():
            record = json.loads(records.read(name))
            projects = {normalise_pypi_name(a["package"]["name"]) for a in record.get("affected", [])}
            if projects & PYPI_PROJECTS:
                selected.append(name)
    return selected


def select_cve5_records(archive: Path, cve_ids: set[str]) -> list[str]:
    with zipfile.ZipFile(archive) as records:
        return [n for n in records.namelist() if n.endswith(".json") and Path(n).stem in cve_ids]


def debian_cve_ids(tracker_json: Path) -> set[str]:
    tracker = json.loads(tracker_json.read_bytes())
    return {cve for source in tracker.values() for cve in source if cve.startswith("CVE-")}


def copy_from_docker_archive(archive: Path, paths: list[str], root: Path) -> None:
    """Copy files out of a docker-archive, taking each path from the topmost layer that has it."""
    with tarfile.open(archive) as image:
        manifest = json.loads(image.extractfile("manifest.json").read())
        found = {}
        for layer_name in manifest[0]["Layers"]:
            with tarfile.open(fileobj=image.extractfile(layer_name)) as layer:
                for member in layer.getmembers():
                    path = member.name.removeprefix("./")
                    if path in paths and member.isfile():
                        found[path] = layer.extractfile(member).read()
    missing = sorted(set(paths) - set(found))
    if missing:
        sys.exit(f"make-samples: {archive} has no file {', '.join(missing)}")
    for path, data in found.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    # Debian's /etc/os-release is a relative symlink to the copy under /usr/lib.
    os_release = root / "etc/os-release"
    os_release.parent.mkdir(parents=True, exist_ok=True)
    os_release.unlink(missing_ok=True)
    os_release.symlink_to("../usr/lib/os-release")
    print(f"wrote {root.relative_to(REPO)}: {len(found)} files from {archive}")


def copy_tree(source: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=True)
    for path in target.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    target.chmod(0o755)
    # The shared copy stores the image's /etc/os-release symlink as a file holding the link
    # target; the sample restores the symlink.
    os_release = target / "etc/os-release"
    if not os_release.is_symlink() and os_release.read_text().strip() == "../usr/lib/os-release":
        os_release.unlink()
        os_release.symlink_to("../usr/lib/os-release")
    print(f"wrote {target.relative_to(REPO)} from {source}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--corpus", type=Path, default=Path("/var/cache/cordon/images/corpus"))
    args = parser.parse_args()
    vulndata = args.shared / "vulndata"

    copy_tree(vulndata / "debian-derived/fixtures/bullseye-main", SAMPLES / "rootfs/debian-bullseye")
    tracker = SAMPLES / "vulndata/debian-tracker-bullseye.json"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(vulndata / "debian-derived/debian-tracker-derived.json", tracker)
    print(f"wrote {tracker.relative_to(REPO)}")

    for name, files in (("python-app", PYTHON_APP_FILES), ("node-app", NODE_APP_FILES)):
        root = SAMPLES / "rootfs" / name
        if root.exists():
            shutil.rmtree(root)
        copy_from_docker_archive(args.corpus / f"{name}.docker.tar", files, root)

    pypi = vulndata / "osv/PyPI/all.zip"
    npm = vulndata / "osv/npm/all.zip"
    copy_members(pypi, SAMPLES / "vulndata/osv-pypi.zip", select_pypi_records(pypi))
    with zipfile.ZipFile(npm) as records:
        copy_members(npm, SAMPLES / "vulndata/osv-npm.zip", records.namelist())

    cve_ids = osv_aliases(SAMPLES / "vulndata/osv-pypi.zip") | osv_aliases(SAMPLES / "vulndata/osv-npm.zip")
    cve_ids |= debian_cve_ids(tracker)
    cve5 = vulndata / "cve5/vulnrichment-subset.zip"
    copy_members(cve5, SAMPLES / "vulndata/cve5-subset.zip", select_cve5_records(cve5, cve_ids))


if __name__ == "__main__":
    main()
