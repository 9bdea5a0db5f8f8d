"""How `import libvae` finds the shared library, in fresh interpreters."""
import ctypes.util
import os
import subprocess
import sys
import unittest

import libvae

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(
    libvae.__file__)))
LIBRARY = libvae.lib._name
SHOW = "import libvae; print(libvae.lib._name, libvae.version_string())"


def run(env_changes, code=SHOW):
    env = {k: v for k, v in os.environ.items()
           if k not in ("VAE_LIBRARY", "LD_LIBRARY_PATH")}
    env["PYTHONPATH"] = PACKAGE_DIR
    env.update(env_changes)
    return subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=60)


class LoadingTest(unittest.TestCase):
    def test_vae_library_names_the_file(self):
        r = run({"VAE_LIBRARY": LIBRARY})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(),
                         [LIBRARY, libvae.version_string()])

    @unittest.skipUnless(os.path.isabs(LIBRARY),
                         "VAE_LIBRARY is not a path; nothing to hide")
    def test_find_library_fallback(self):
        # Without VAE_LIBRARY, ctypes.util.find_library searches
        # LD_LIBRARY_PATH, and the dynamic linker loads the SONAME there.
        r = run({"LD_LIBRARY_PATH": os.path.dirname(LIBRARY)})
        self.assertEqual(r.returncode, 0, r.stderr)
        name, version = r.stdout.split()
        self.assertEqual(name, f"libvae.so.{libvae.ABI_MAJOR}")
        self.assertEqual(version, libvae.version_string())

    @unittest.skipIf(ctypes.util.find_library("vae"),
                     "a libvae is installed system-wide")
    def test_not_found(self):
        r = run({})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("OSError: libvae not found: set VAE_LIBRARY", r.stderr)

    def test_bad_paths(self):
        r = run({"VAE_LIBRARY": "/nonexistent/libvae.so.0"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("OSError", r.stderr)
        # A real shared library that is not libvae.
        r = run({"VAE_LIBRARY": "libm.so.6"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("libm.so.6 has no vae_", r.stderr)


if __name__ == "__main__":
    unittest.main()
