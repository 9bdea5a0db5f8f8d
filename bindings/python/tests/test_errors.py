"""Failures: the library's status and message reach Python as VaeError;
arrays the library cannot read as they are are refused, not copied; closed
handles are safe."""
import gc
import os
import tempfile
import unittest
import weakref

import numpy as np

import libvae
from vaetest import DATA, LATENT, mlp_graph, prototypes, tiny_model


class LibraryErrorTest(unittest.TestCase):
    def assert_library_message(self, err, status):
        """err carries status and a detailed message, not just the status
        description."""
        self.assertEqual(err.status, status)
        self.assertTrue(err.message)
        self.assertNotEqual(err.message, libvae.status_string(status))
        self.assertIn(err.message, str(err))

    def test_builder_error_is_sticky(self):
        with libvae.Graph() as g:
            x = g.input([DATA])
            with self.assertRaises(libvae.VaeError) as cm:
                g.dense(x, 0)
            first = cm.exception
            self.assertIn(first.status, (libvae.ERR_SHAPE, libvae.ERR_RANGE))
            self.assert_library_message(first, first.status)
            self.assertEqual(first.message, g.last_error)
            self.assertEqual(first.function, "vae_graph_dense")
            # Every later builder call, and the status check, repeat it.
            with self.assertRaises(libvae.VaeError) as cm:
                g.relu(x)
            self.assertEqual((cm.exception.status, cm.exception.message),
                             (first.status, first.message))
            with self.assertRaises(libvae.VaeError) as cm:
                g.check()
            self.assertEqual(cm.exception.status, first.status)

    def test_one_line_names_the_function_once(self):
        # The library starts some messages with the function's own name;
        # the printed line names it once. e.message stays the library's.
        with tiny_model() as m:
            with self.assertRaises(libvae.VaeError) as cm:
                m.reconstruct(np.zeros((0, DATA), np.float32))
            e = cm.exception
            self.assertEqual(e.message, m.last_error)
            self.assertEqual(str(e), "vae_model_reconstruct: " +
                             e.message.removeprefix("reconstruct: ") +
                             " [VAE_ERR_RANGE]")
            with self.assertRaises(libvae.VaeError) as cm:
                m.set_kl_anneal(libvae.ANNEAL_LINEAR, 0)
            self.assertEqual(str(cm.exception),
                             "vae_model_set_kl_anneal: " +
                             m.last_error.removeprefix("kl_anneal: ") +
                             " [VAE_ERR_RANGE]")
        with libvae.Graph() as g:
            x = g.input([DATA])
            with self.assertRaises(libvae.VaeError) as cm:
                g.dense(x, 0)
            first = g.last_error
            self.assertEqual(str(cm.exception), "vae_graph_dense: " +
                             first.removeprefix("dense: ") +
                             " [VAE_ERR_RANGE]")
            # A later call repeats the first error, which names dense:
            # kept, since it is not this call's name.
            with self.assertRaises(libvae.VaeError) as cm:
                g.relu(x)
            self.assertEqual(str(cm.exception),
                             f"vae_graph_relu: {first} [VAE_ERR_RANGE]")

    def test_const_call_does_not_report_a_stale_message(self):
        with libvae.Graph() as g:
            g.input([DATA])
            with self.assertRaises(libvae.VaeError):
                g.dense(0, -1)
            with self.assertRaises(libvae.VaeError) as cm:
                g.node_size(99)
            self.assertEqual(cm.exception.status, libvae.ERR_GRAPH)
            self.assertEqual(cm.exception.message,
                             libvae.status_string(libvae.ERR_GRAPH))

    def test_model_new_error_comes_from_the_error_buffer(self):
        with mlp_graph(DATA, 16) as enc, mlp_graph(LATENT, DATA) as dec:
            with self.assertRaises(libvae.VaeError) as cm:
                libvae.Model(enc, dec, LATENT + 1,
                             libvae.LIKELIHOOD_BERNOULLI, 1)
        self.assert_library_message(cm.exception, libvae.ERR_SHAPE)
        self.assertEqual(cm.exception.function, "vae_model_new")

    def test_load_garbage(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "garbage.vae")
            with open(path, "wb") as f:
                f.write(b"this is not a model file" * 10)
            with self.assertRaises(libvae.VaeError) as cm:
                libvae.Model.load(path)
            self.assert_library_message(cm.exception, libvae.ERR_FORMAT)
            self.assertIn(path, cm.exception.message)
            with self.assertRaises(libvae.VaeError) as cm:
                libvae.Model.load(os.path.join(tmp, "missing.vae"))
            self.assert_library_message(cm.exception, libvae.ERR_IO)
        with self.assertRaises(libvae.VaeError) as cm:
            libvae.Model.load_bytes(b"\x00" * 100, with_optimizer=True)
        self.assert_library_message(cm.exception, libvae.ERR_FORMAT)

    def test_model_errors_carry_the_model_message(self):
        x = prototypes()
        x[0, 0] = 2.0
        with tiny_model() as m:
            with self.assertRaises(libvae.VaeError) as cm:
                m.elbo(x)
            self.assert_library_message(cm.exception, libvae.ERR_RANGE)
            self.assertEqual(cm.exception.message, m.last_error)
            x[0, 0] = np.nan
            with self.assertRaises(libvae.VaeError) as cm:
                m.elbo_grad(x)
            self.assertEqual(cm.exception.status, libvae.ERR_NONFINITE)
            with self.assertRaises(libvae.VaeError) as cm:
                m.set_beta(-1.0)
            self.assert_library_message(cm.exception, libvae.ERR_RANGE)
            with self.assertRaises(libvae.VaeError) as cm:
                m.generate(np.zeros((1, LATENT), np.float32), 5)
            self.assert_library_message(cm.exception, libvae.ERR_UNSUPPORTED)
            with self.assertRaises(libvae.VaeError) as cm:
                m.save(os.path.join("/nonexistent-dir", "m.vae"))
            self.assert_library_message(cm.exception, libvae.ERR_IO)

    def test_optimizer_errors(self):
        with self.assertRaises(libvae.VaeError) as cm, tiny_model() as m:
            libvae.Adam(m, 0.0)
        self.assert_library_message(cm.exception, libvae.ERR_RANGE)
        with tiny_model() as m, tiny_model(data=DATA + 1) as other, \
                libvae.Adam(m, 1e-3) as opt:
            with self.assertRaises(libvae.VaeError) as cm:
                opt.set_lr(-1.0)
            self.assert_library_message(cm.exception, libvae.ERR_RANGE)
            self.assertEqual(cm.exception.message, opt.last_error)
            with self.assertRaises(libvae.VaeError) as cm:
                opt.step(other)
            self.assert_library_message(cm.exception, libvae.ERR_SHAPE)
            with self.assertRaises(libvae.VaeError) as cm:
                opt.set_betas(1.0, 0.999, 1e-8)
            self.assertEqual(cm.exception.status, libvae.ERR_RANGE)
            self.assertEqual(opt.steps, 0)

    def test_thread_count(self):
        n = libvae.num_threads()
        self.assertGreaterEqual(n, 1)
        try:
            libvae.set_num_threads(1)
            self.assertEqual(libvae.num_threads(), 1)
            with self.assertRaises(libvae.VaeError) as cm:
                libvae.set_num_threads(0)
            self.assertEqual(cm.exception.status, libvae.ERR_RANGE)
        finally:
            libvae.set_num_threads(n)


class ArrayCheckTest(unittest.TestCase):
    """Arrays are refused before the library is called."""

    def setUp(self):
        self.model = tiny_model()
        self.opt = libvae.Adam(self.model, 1e-3)
        self.x = prototypes()

    def tearDown(self):
        self.opt.close()
        self.model.close()

    def refused(self, error, x):
        with self.assertRaises(error):
            self.model.train_step(self.opt, x)
        self.assertEqual(self.opt.steps, 0)

    def test_wrong_types(self):
        self.refused(TypeError, self.x.astype(np.float64))
        self.refused(TypeError, self.x.tolist())
        self.refused(TypeError, self.x.astype(">f4"))

    def test_not_c_contiguous(self):
        self.refused(ValueError, np.asfortranarray(self.x))
        wide = np.repeat(self.x, 2, axis=1)
        self.refused(ValueError, wide[:, ::2])

    def test_wrong_shapes(self):
        self.refused(ValueError, self.x[:, :-1].copy())
        self.refused(ValueError, self.x.reshape(-1))
        with self.assertRaises(ValueError):
            self.model.decode(np.zeros((3, LATENT + 1), np.float32))
        with self.assertRaises(ValueError):
            self.model.log_likelihood(np.zeros((3, LATENT), np.float32),
                                      self.x)

    def shape_error(self, call, *args):
        """The message of the ShapeError call(*args) raises (a VaeError
        and a ValueError), checked to have reached no library call."""
        with self.assertRaises(libvae.ShapeError) as cm:
            call(*args)
        self.assertIsInstance(cm.exception, ValueError)
        self.assertEqual(cm.exception.status, libvae.ERR_SHAPE)
        self.assertEqual(self.opt.steps, 0)
        return cm.exception.function, cm.exception.message

    def test_shapes_are_strict(self):
        # The right number of floats in the wrong shape: refused, as
        # docs/ffi/python.md says, with the shapes the model takes.
        self.assertEqual(
            self.shape_error(self.model.elbo, self.x.reshape(-1, 2, 4)),
            ("vae_model_elbo", "x has shape (16, 2, 4); this model takes "
             "(batch, 8): one example per row"))
        self.assertEqual(
            self.shape_error(self.model.train_step, self.opt,
                             self.x.reshape(-1)),
            ("vae_model_train_step", "x has shape (128,); this model takes "
             "(batch, 8): one example per row"))
        self.assertEqual(
            self.shape_error(self.model.decode,
                             np.zeros((2, 3, LATENT), np.float32)),
            ("vae_model_decode", "z has shape (2, 3, 2); this model takes "
             "(batch, 2): one example per row"))
        self.assertEqual(
            self.shape_error(self.model.log_likelihood,
                             np.zeros((3, LATENT), np.float32), self.x),
            ("vae_model_log_likelihood",
             "z: 6 floats, not the 32 this call needs"))
        # Not whole examples: the wording every binding uses.
        self.assertEqual(
            self.shape_error(self.model.elbo, self.x.reshape(-1)[:-1]),
            ("vae_model_elbo", "x: 127 floats are not a whole number of "
             "examples of 8 floats"))

    def test_images_take_either_shape(self):
        with libvae.Graph() as enc, libvae.Graph() as dec:
            enc.set_output(enc.flatten(enc.input([1, 2, 3])))
            dec.set_output(dec.dense(dec.input([LATENT]), 6))
            m = libvae.Model(enc, dec, LATENT, libvae.LIKELIHOOD_BERNOULLI, 1)
        with m:
            x = np.zeros((4, 1, 2, 3), np.float32)
            m.elbo(x)
            m.elbo(x.reshape(4, 6))
            with self.assertRaises(libvae.ShapeError) as cm:
                m.elbo(x.reshape(4, 2, 3))
            self.assertEqual(cm.exception.message,
                             "x has shape (4, 2, 3); this model takes "
                             "(batch, 6) or (batch, 1, 2, 3): one example "
                             "per row")

    def test_accepted_shapes(self):
        self.model.elbo(self.x)
        self.model.elbo(self.x[2:6])
        ro = self.x.copy()
        ro.flags.writeable = False
        self.model.elbo(ro)


class LifetimeTest(unittest.TestCase):
    def test_close_twice_and_with(self):
        g = libvae.Graph()
        g.close()
        g.close()
        self.assertTrue(g.closed)
        with self.assertRaises(ValueError):
            g.input([3])
        with tiny_model() as m:
            opt = libvae.Adam(m, 1e-3)
            with opt:
                self.assertFalse(opt.closed)
            self.assertTrue(opt.closed)
            opt.close()
            with self.assertRaises(ValueError):
                m.train_step(opt, prototypes())
        self.assertTrue(m.closed)
        with self.assertRaises(ValueError):
            m.elbo(prototypes())
        m.close()

    def test_model_outlives_its_graphs(self):
        m = tiny_model()
        gc.collect()
        self.assertEqual(m.data_shape, (DATA,))
        m.elbo(prototypes())
        m.close()

    def test_views_keep_the_model_memory(self):
        m = tiny_model()
        handle = weakref.ref(m._own)
        params = m.params
        before = params.copy()
        m.close()
        # Closed for every call, but the memory stays until the view goes.
        self.assertIsNotNone(handle())
        np.testing.assert_array_equal(params, before)
        del params
        gc.collect()
        self.assertIsNone(handle())

    def test_close_frees_at_once_without_views(self):
        m = tiny_model()
        handle = weakref.ref(m._own)
        m.close()
        self.assertIsNone(handle())


if __name__ == "__main__":
    unittest.main()
