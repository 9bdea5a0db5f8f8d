"""The build backend of the libvae Python package (PEP 517 and PEP 660).

The package is two pure-Python modules and a marker file, so a build only
zips them with their metadata. This backend does that with the standard
library alone, which is why pyproject.toml's [build-system] requires
nothing: pip's isolated build environment (its default) then has nothing to
fetch, and `python3 -m pip install ./bindings/python` works offline. With
setuptools as the backend, pip would have to download it into that
environment.

The metadata comes from pyproject.toml's [project] table. Only the fields
that table uses are known here; any other field is an error, so that one
added later cannot be dropped from the wheel without a word. Nothing is
written into the source tree.
"""
from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import os
import re
import sys
import tarfile
import time
import zipfile
from typing import Any, Dict, List, Mapping, Optional, Tuple

# The project: the directory that holds pyproject.toml, this file's parent's
# parent (the hooks also run with it as the working directory).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What an sdist holds besides PKG-INFO: enough to build the wheel again
# (pyproject.toml, this backend, the package) and the tests and examples.
SDIST_CONTENTS = ("pyproject.toml", "backend", "libvae", "tests", "examples")
KNOWN_FIELDS = {"name", "version", "description", "license",
                "requires-python", "dependencies", "optional-dependencies",
                "classifiers", "urls"}
# Archive entries need a time; SOURCE_DATE_EPOCH makes builds reproducible.
# Zip files cannot record times before 1980.
BUILD_TIME = max(int(os.environ.get("SOURCE_DATE_EPOCH", time.time())),
                 315532800)


def _project() -> Mapping[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # get_requires_for_build_* asks for tomli on these
        import tomli as tomllib
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project: Mapping[str, Any] = tomllib.load(f)["project"]
    unknown = sorted(set(project) - KNOWN_FIELDS)
    if unknown:
        raise ValueError("pyproject.toml: the libvae backend does not handle "
                         f"[project] field(s) {', '.join(unknown)}; teach "
                         "backend/libvae_backend.py about them")
    return project


def _names() -> Tuple[str, str, str]:
    """(package, file name stem "name-version", dist-info directory). The
    package's directory has the project's name."""
    project = _project()
    name, version = project["name"], project["version"]
    # Wheel and sdist file names spell the name in lower case with "_"
    # (PEP 427, PEP 625).
    stem = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}"
    return name, stem, f"{stem}.dist-info"


def _metadata() -> str:
    """The core metadata (version 2.1) of [project], as METADATA and
    PKG-INFO hold it."""
    p = _project()
    lines = ["Metadata-Version: 2.1", f"Name: {p['name']}",
             f"Version: {p['version']}"]
    if "description" in p:
        lines.append(f"Summary: {p['description']}")
    if "license" in p:
        lines.append(f"License: {p['license']['text']}")
    lines += [f"Project-URL: {label}, {url}"
              for label, url in p.get("urls", {}).items()]
    lines += [f"Classifier: {c}" for c in p.get("classifiers", [])]
    if "requires-python" in p:
        lines.append(f"Requires-Python: {p['requires-python']}")
    lines += [f"Requires-Dist: {r}" for r in p.get("dependencies", [])]
    for extra, reqs in p.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        for req in reqs:
            # An extra's requirement applies only when the extra is asked
            # for; a marker of its own must hold as well.
            req, _, marker = req.partition(";")
            cond = f'extra == "{extra}"'
            if marker.strip():
                cond = f"({marker.strip()}) and {cond}"
            lines.append(f"Requires-Dist: {req.strip()}; {cond}")
    return "\n".join(lines) + "\n"


WHEEL = ("Wheel-Version: 1.0\nGenerator: libvae_backend\n"
         "Root-Is-Purelib: true\nTag: py3-none-any\n")


def _package_files(package: str) -> List[str]:
    """The package's files relative to ROOT: its modules (subpackages
    included) and py.typed."""
    files = []
    for top, dirs, names in os.walk(os.path.join(ROOT, package)):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        rel = os.path.relpath(top, ROOT).replace(os.sep, "/")
        files += [f"{rel}/{name}" for name in sorted(names)
                  if name.endswith(".py") or name == "py.typed"]
    if f"{package}/py.typed" not in files:
        raise FileNotFoundError(f"{package}/py.typed is missing: without it "
                                "type checkers ignore the package's hints")
    return files


def _write_wheel(directory: str, files: Dict[str, bytes]) -> str:
    """A wheel of files (archive name -> bytes) plus the dist-info files,
    RECORD last with every other file's sha256 and size."""
    _, stem, dist_info = _names()
    files = {**files, f"{dist_info}/METADATA": _metadata().encode(),
             f"{dist_info}/WHEEL": WHEEL.encode()}
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
        writer.writerow([name, "sha256=" + digest.rstrip(b"=").decode(),
                         len(data)])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    files[f"{dist_info}/RECORD"] = record.getvalue().encode()
    wheel = f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, wheel), "w") as z:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, time.gmtime(BUILD_TIME)[:6])
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return wheel


def _read(path: str) -> bytes:
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


# ---- PEP 517 hooks ----------------------------------------------------------

def get_requires_for_build_wheel(
        config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    # tomllib is in the standard library from Python 3.11 on; tomli is the
    # same parser for older ones.
    return [] if sys.version_info >= (3, 11) else ["tomli>=1.1"]


get_requires_for_build_sdist = get_requires_for_build_wheel
get_requires_for_build_editable = get_requires_for_build_wheel


def prepare_metadata_for_build_wheel(
        metadata_directory: str,
        config_settings: Optional[Dict[str, Any]] = None) -> str:
    _, _, dist_info = _names()
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    for name, text in (("METADATA", _metadata()), ("WHEEL", WHEEL)):
        with open(os.path.join(metadata_directory, dist_info, name), "w",
                  encoding="utf-8") as f:
            f.write(text)
    return dist_info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(wheel_directory: str,
                config_settings: Optional[Dict[str, Any]] = None,
                metadata_directory: Optional[str] = None) -> str:
    package, _, _ = _names()
    return _write_wheel(wheel_directory, {
        path: _read(path) for path in _package_files(package)})


def build_editable(wheel_directory: str,
                   config_settings: Optional[Dict[str, Any]] = None,
                   metadata_directory: Optional[str] = None) -> str:
    # A .pth file puts this directory on sys.path, so that the package is
    # imported from the source tree and edits take effect at once.
    package, _, _ = _names()
    return _write_wheel(wheel_directory, {
        f"{package}.pth": (ROOT + "\n").encode()})


def build_sdist(sdist_directory: str,
                config_settings: Optional[Dict[str, Any]] = None) -> str:
    _, stem, _ = _names()

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        # Owners and times are the builder's, not the project's.
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = BUILD_TIME
        info.mode = 0o755 if info.isdir() or info.mode & 0o111 else 0o644
        return info

    def project_file(info: tarfile.TarInfo) -> Optional[tarfile.TarInfo]:
        # Bytecode caches are the builder's too.
        if "__pycache__" in info.name.split("/"):
            return None
        return normalise(info)

    sdist = f"{stem}.tar.gz"
    pkg_info = tarfile.TarInfo(f"{stem}/PKG-INFO")
    metadata = _metadata().encode()
    pkg_info.size = len(metadata)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w",
                      format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(normalise(pkg_info), io.BytesIO(metadata))
        for path in SDIST_CONTENTS:
            tar.add(os.path.join(ROOT, path), f"{stem}/{path}",
                    filter=project_file)
    with open(os.path.join(sdist_directory, sdist), "wb") as f:
        # gzip's header has a time of its own.
        f.write(gzip.compress(archive.getvalue(), mtime=BUILD_TIME))
    return sdist
