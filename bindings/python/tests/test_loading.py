"""How `import libvae` finds the shared library, in fresh interpreters:
$VAE_LIBRARY, else vae.pc through pkg-config, else the dynamic loader."""
import os
import subprocess
import sys
import unittest

import libvae

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(
    libvae.__file__)))
LIBRARY = libvae.lib._name
LIBDIR = os.path.dirname(LIBRARY)
SHOW = "import libvae; print(libvae.lib._name, libvae.version())"
# A pkg-config that finds nothing, and one that does not exist.
NO_PC = {"PKG_CONFIG_PATH": "", "PKG_CONFIG_LIBDIR": "/nonexistent"}
NO_PKG_CONFIG = {"PKG_CONFIG": "/nonexistent/pkg-config"}


def run(env_changes, code=SHOW):
    env = {k: v for k, v in os.environ.items()
           if k not in ("VAE_LIBRARY", "LD_LIBRARY_PATH", "PKG_CONFIG_PATH",
                        "PKG_CONFIG_LIBDIR", "PKG_CONFIG")}
    env["PYTHONPATH"] = PACKAGE_DIR
    env.update(env_changes)
    return subprocess.run([sys.executable, "-c", code], env=env,
                          capture_output=True, text=True, timeout=60)


def loader_finds_libvae():
    """Whether libvae.so.0 is in a system library directory already."""
    return run(dict(NO_PKG_CONFIG)).returncode == 0


@unittest.skipUnless(os.path.isabs(LIBRARY),
                     "the tests' library is not a path; nothing to hide")
class LoadingTest(unittest.TestCase):
    def test_vae_library_names_the_file(self):
        r = run({"VAE_LIBRARY": LIBRARY, **NO_PKG_CONFIG})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), [LIBRARY, libvae.version()])

    def test_vae_pc_through_pkg_config(self):
        r = run({"PKG_CONFIG_PATH": os.path.join(LIBDIR, "pkgconfig")})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(),
                         [os.path.join(LIBDIR, libvae._capi.SONAME),
                          libvae.version()])

    def test_dynamic_loader(self):
        # With no pkg-config at all the soname goes to the dynamic loader,
        # which searches LD_LIBRARY_PATH.
        r = run({"LD_LIBRARY_PATH": LIBDIR, **NO_PKG_CONFIG})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(),
                         [f"libvae.so.{libvae.ABI_MAJOR}", libvae.version()])

    @unittest.skipIf(loader_finds_libvae(),
                     "a libvae is installed system-wide")
    def test_not_found_names_what_was_tried(self):
        r = run({**NO_PC})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("OSError: libvae not found. Tried:", r.stderr)
        self.assertIn("$VAE_LIBRARY: not set", r.stderr)
        self.assertIn("pkg-config vae: no vae.pc", r.stderr)
        self.assertIn("libvae.so.0 through the dynamic loader", r.stderr)
        self.assertIn("Set VAE_LIBRARY", r.stderr)
        r = run({**NO_PKG_CONFIG})
        self.assertIn("pkg-config vae: cannot run /nonexistent/pkg-config",
                      r.stderr)

    def test_bad_paths(self):
        r = run({"VAE_LIBRARY": "/nonexistent/libvae.so.0"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("OSError: VAE_LIBRARY=/nonexistent/libvae.so.0:",
                      r.stderr)
        # A real shared library that is not libvae.
        r = run({"VAE_LIBRARY": "libm.so.6"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("libm.so.6 has no vae_", r.stderr)


if __name__ == "__main__":
    unittest.main()
