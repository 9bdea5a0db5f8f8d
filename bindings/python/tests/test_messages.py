"""The same mistakes read the same in every language: what this binding
prints for each mistake of docs/ffi.md's error table is the table's line
(tests/docs/error_table.py checks the languages' lines agree)."""
import os
import sys
import tempfile
import unittest

import numpy as np

import libvae
from vaetest import DATA, tiny_model

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "docs"))
import error_table  # noqa: E402  (found through the path above)


def printed(call):
    """str() of the VaeError call raises."""
    try:
        call()
    except libvae.VaeError as e:
        return str(e)
    raise AssertionError("the mistake went unnoticed")


class ErrorTableTest(unittest.TestCase):
    def test_python_prints_the_table(self):
        want = {mistake: lines["Python"] for mistake, lines in
                error_table.messages(os.path.join(ROOT, "docs",
                                                  "ffi.md")).items()}
        nan = np.zeros((2, DATA), np.float32)
        nan[0, 3] = np.nan
        with tiny_model() as m, tempfile.TemporaryDirectory() as tmp:
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                with open("bad.vae", "w") as f:
                    f.write("not a libvae model\n" * 4)
                got = {
                    "wrong size": printed(
                        lambda: m.elbo(np.zeros(2 * DATA - 1, np.float32))),
                    "NaN input": printed(lambda: m.elbo(nan)),
                    "bad file": printed(lambda: libvae.Model.load("bad.vae")),
                }
            finally:
                os.chdir(cwd)
        self.assertEqual(got, want)


if __name__ == "__main__":
    unittest.main()
