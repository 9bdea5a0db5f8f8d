"""The build backend (backend/libvae_backend.py) called as pip calls it, in
fresh interpreters: a wheel that installers can trust (every file in RECORD
with its sha256 and size), the metadata of pyproject.toml's [project], an
sdist that builds the same wheel again, an editable wheel, and a source
tree left as it was."""
import base64
import csv
import email.parser
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import unittest
import zipfile

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def hook(source, name, *args):
    """Runs one hook of the backend in source, as pip's subprocess does:
    a fresh interpreter whose working directory is the project."""
    code = ("import json, sys\n"
            "sys.path.insert(0, 'backend')\n"
            "import libvae_backend\n"
            f"print(json.dumps(libvae_backend.{name}(*sys.argv[1:])))\n")
    run = subprocess.run([sys.executable, "-c", code, *args], cwd=source,
                         capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    if run.returncode != 0:
        raise AssertionError(f"{name} failed:\n{run.stderr}")
    return json.loads(run.stdout)


def listing(top):
    return sorted(os.path.relpath(os.path.join(d, f), top)
                  for d, _, files in os.walk(top) for f in files)


def record_errors(wheel):
    """What is wrong with the wheel's RECORD, as a list of strings."""
    errors = []
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        record = [n for n in names if n.endswith(".dist-info/RECORD")]
        if len(record) != 1:
            return [f"want one RECORD, have {record}"]
        rows = list(csv.reader(io.StringIO(z.read(record[0]).decode())))
        listed = [row[0] for row in rows]
        if sorted(listed) != sorted(names) or len(set(listed)) != len(names):
            errors.append(f"RECORD lists {listed}, the wheel holds {names}")
        for path, digest, size in rows:
            if path == record[0]:
                if digest or size:
                    errors.append("RECORD has a hash of itself")
                continue
            data = z.read(path)
            want = base64.urlsafe_b64encode(
                hashlib.sha256(data).digest()).rstrip(b"=").decode()
            if digest != f"sha256={want}" or size != str(len(data)):
                errors.append(f"{path}: RECORD says {digest},{size}")
    return errors


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.before = listing(SOURCE)
        cls.tmp = tempfile.TemporaryDirectory()
        cls.out = cls.tmp.name
        with open(os.path.join(SOURCE, "pyproject.toml"), "rb") as f:
            cls.project = tomllib.load(f)["project"]
        cls.stem = f"{cls.project['name']}-{cls.project['version']}"
        cls.dist_info = f"{cls.stem}.dist-info"
        for kind in ("wheel", "editable", "metadata", "sdist"):
            os.mkdir(os.path.join(cls.out, kind))
        cls.wheel = os.path.join(cls.out, "wheel", hook(
            SOURCE, "build_wheel", os.path.join(cls.out, "wheel")))
        cls.editable = os.path.join(cls.out, "editable", hook(
            SOURCE, "build_editable", os.path.join(cls.out, "editable")))
        cls.metadata_dir = os.path.join(cls.out, "metadata", hook(
            SOURCE, "prepare_metadata_for_build_wheel",
            os.path.join(cls.out, "metadata")))
        cls.sdist = os.path.join(cls.out, "sdist", hook(
            SOURCE, "build_sdist", os.path.join(cls.out, "sdist")))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def read(self, archive, name):
        with zipfile.ZipFile(archive) as z:
            return z.read(name)

    def test_no_build_requirements(self):
        with open(os.path.join(SOURCE, "pyproject.toml"), "rb") as f:
            system = tomllib.load(f)["build-system"]
        self.assertEqual(system["requires"], [])
        for kind in ("wheel", "sdist", "editable"):
            self.assertEqual(hook(SOURCE, f"get_requires_for_build_{kind}"),
                             [])

    def test_wheel_files(self):
        self.assertEqual(os.path.basename(self.wheel),
                         f"{self.stem}-py3-none-any.whl")
        with zipfile.ZipFile(self.wheel) as z:
            names = z.namelist()
        package = sorted(n for n in names if not n.startswith(self.dist_info))
        self.assertEqual(package, ["libvae/__init__.py", "libvae/_capi.py",
                                   "libvae/py.typed"])
        for name in package:
            with open(os.path.join(SOURCE, name), "rb") as f:
                self.assertEqual(self.read(self.wheel, name), f.read(), name)
        self.assertEqual(record_errors(self.wheel), [])
        wheel = self.read(self.wheel, f"{self.dist_info}/WHEEL").decode()
        self.assertIn("Root-Is-Purelib: true\n", wheel)
        self.assertIn("Tag: py3-none-any\n", wheel)

    def test_metadata_is_pyprojects(self):
        text = self.read(self.wheel, f"{self.dist_info}/METADATA").decode()
        meta = email.parser.Parser().parsestr(text)
        p = self.project
        self.assertEqual(meta["Metadata-Version"], "2.1")
        self.assertEqual(meta["Name"], p["name"])
        self.assertEqual(meta["Version"], p["version"])
        self.assertEqual(meta["Summary"], p["description"])
        self.assertEqual(meta["License"], p["license"]["text"])
        self.assertEqual(meta["Requires-Python"], p["requires-python"])
        self.assertEqual(meta.get_all("Classifier"), p["classifiers"])
        self.assertEqual(meta.get_all("Project-URL"),
                         [f"{k}, {v}" for k, v in p["urls"].items()])
        # numpy is an extra, never a plain requirement.
        self.assertEqual(p["dependencies"], [])
        self.assertEqual(meta.get_all("Provides-Extra"), ["numpy"])
        self.assertEqual(meta.get_all("Requires-Dist"),
                         ['numpy; extra == "numpy"'])
        # What pip reads before the build is what the wheel says.
        with open(os.path.join(self.metadata_dir, "METADATA")) as f:
            self.assertEqual(f.read(), text)

    def test_editable_wheel_points_at_the_source(self):
        self.assertEqual(self.read(self.editable, "libvae.pth").decode(),
                         SOURCE + "\n")
        self.assertEqual(record_errors(self.editable), [])

    def test_sdist_builds_the_same_wheel(self):
        stem = self.stem
        self.assertEqual(os.path.basename(self.sdist), f"{stem}.tar.gz")
        unpacked = os.path.join(self.out, "unpacked")
        with tarfile.open(self.sdist) as tar:
            names = tar.getnames()
            self.assertTrue(all(n.startswith(f"{stem}/") for n in names))
            self.assertFalse([n for n in names if "__pycache__" in n])
            # The "data" filter where there is one (Python 3.12 warns
            # without it).
            if hasattr(tarfile, "data_filter"):
                tar.extraction_filter = tarfile.data_filter
            tar.extractall(unpacked)
        tree = os.path.join(unpacked, stem)
        with open(os.path.join(tree, "PKG-INFO"), "rb") as f:
            self.assertEqual(f.read(), self.read(
                self.wheel, f"{self.dist_info}/METADATA"))
        again = os.path.join(self.out, "again")
        os.mkdir(again)
        wheel = os.path.join(again, hook(tree, "build_wheel", again))
        with zipfile.ZipFile(wheel) as a, zipfile.ZipFile(self.wheel) as b:
            self.assertEqual(
                {n: a.read(n) for n in a.namelist()},
                {n: b.read(n) for n in b.namelist()})

    def test_source_tree_untouched(self):
        self.assertEqual(listing(SOURCE), self.before)


if __name__ == "__main__":
    unittest.main()
