"""numpy is optional: without it `import libvae` and every call without
arrays work, and a call with arrays raises an ImportError that says how to
install numpy. A fresh interpreter stands for one without numpy: setting
sys.modules["numpy"] to None makes `import numpy` fail as if it were
missing. (bindings/python/test.sh also runs an interpreter that really has
no numpy, when there is one.)"""
import os
import subprocess
import sys
import textwrap
import unittest

import libvae

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(
    libvae.__file__)))

WITHOUT_NUMPY = textwrap.dedent("""
    import sys
    sys.modules["numpy"] = None
    import libvae
    print("version", libvae.version(), libvae.version_number())
    print("status", libvae.status_string(libvae.ERR_SHAPE))
    libvae.set_num_threads(1)
    print("threads", libvae.num_threads())
    with libvae.Graph() as enc, libvae.Graph() as dec:
        enc.set_output(enc.relu(enc.dense(enc.input([8]), 16)))
        dec.set_output(dec.dense(dec.relu(dec.dense(dec.input([2]), 16)), 8))
        model = libvae.Model(enc, dec, 2, libvae.LIKELIHOOD_BERNOULLI, 1)
    opt = libvae.Adam(model, 1e-3)
    model.set_beta(0.5)
    model.metadata = b"meta"
    with libvae.Model.load_bytes(model.save_bytes(opt),
                                 with_optimizer=True) as (copy, _):
        print("model", copy.num_params, copy.data_shape, copy.latent_dim,
              copy.metadata.decode())
    try:
        libvae.Graph().dense(99, 4)
    except libvae.VaeError as e:
        print("error", e.name)
    calls = {
        "params": lambda: model.params,
        "sample": lambda: model.sample(2),
        "elbo": lambda: model.elbo([[0.0] * 8]),
        "decode": lambda: model.decode([[0.0, 0.0]]),
        "random_uniform": lambda: model.random_uniform(3),
    }
    calls["F32Array"] = lambda: libvae.F32Array
    for name, call in calls.items():
        try:
            call()
            print("no error", name)
        except ImportError as e:
            print("ImportError", name, e)
    """)


class WithoutNumpyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        env = dict(os.environ, PYTHONPATH=PACKAGE_DIR)
        cls.run_ = subprocess.run([sys.executable, "-c", WITHOUT_NUMPY],
                                  env=env, capture_output=True, text=True,
                                  timeout=60)
        cls.lines = cls.run_.stdout.splitlines()

    def test_calls_without_arrays_work(self):
        self.assertEqual(self.run_.returncode, 0, self.run_.stderr)
        self.assertIn(f"version {libvae.version()} "
                      f"{libvae.version_number()}", self.lines)
        self.assertIn(f"status {libvae.status_string(libvae.ERR_SHAPE)}",
                      self.lines)
        self.assertIn("threads 1", self.lines)
        self.assertRegex(self.run_.stdout,
                         r"(?m)^model [1-9][0-9]* \(8,\) 2 meta$")
        self.assertIn("error ERR_GRAPH", self.lines)

    def test_array_calls_say_how_to_install_numpy(self):
        failed = [line for line in self.lines
                  if line.startswith("ImportError ")]
        self.assertEqual(len(failed), 6, self.run_.stdout + self.run_.stderr)
        for line in failed:
            with self.subTest(line.split()[1]):
                self.assertIn("takes or returns numpy arrays", line)
                self.assertIn(sys.executable, line)
                self.assertIn("apt-get install python3-numpy", line)
                self.assertIn("pip install numpy", line)
                self.assertIn("libvae[numpy]", line)


class WithNumpyTest(unittest.TestCase):
    def test_array_types_at_run_time(self):
        import numpy as np
        import numpy.typing as npt
        self.assertEqual(libvae.F32Array, npt.NDArray[np.float32])
        self.assertEqual(libvae.F64Array, npt.NDArray[np.float64])
        with self.assertRaises(AttributeError):
            libvae.F16Array


if __name__ == "__main__":
    unittest.main()
