"""Conditional models: a condition node in both graphs, the rows given with
set_condition before each call, refused when missing or mis-sized."""
import unittest

import numpy as np

import libvae

D, L, C, N = 6, 2, 3, 8


def conditional_model(seed):
    with libvae.Graph() as enc, libvae.Graph() as dec:
        x = enc.input([D])
        h = enc.tanh(enc.dense(enc.concat(x, enc.condition(C)), 16))
        enc.set_output(h)
        z = dec.input([L])
        h = dec.tanh(dec.dense(dec.concat(z, dec.condition(C)), 16))
        dec.set_output(dec.dense(h, D))
        return libvae.Model(enc, dec, L, libvae.LIKELIHOOD_BERNOULLI, seed)


def one_hot(labels):
    return np.eye(C, dtype=np.float32)[labels]


class ConditionalTest(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(0)
        self.x = (rng.random((N, D)) < 0.5).astype(np.float32)
        self.eps = rng.standard_normal((N, L)).astype(np.float32)
        self.model = conditional_model(3)

    def tearDown(self):
        self.model.close()

    def test_the_condition_is_read(self):
        self.assertEqual(self.model.condition_size, C)
        self.model.set_condition(one_hot(np.arange(N) % C))
        a = self.model.elbo_noise(self.x, self.eps).elbo
        self.model.set_condition(one_hot((np.arange(N) + 1) % C))
        b = self.model.elbo_noise(self.x, self.eps).elbo
        self.assertNotEqual(a, b)

    def test_missing_or_mis_sized(self):
        with self.assertRaises(libvae.VaeError) as cm:
            self.model.elbo(self.x)
        self.assertEqual(cm.exception.status, libvae.ERR_INVALID_ARG)
        self.assertIn("set_condition", cm.exception.message)
        self.model.set_condition(one_hot(np.arange(N - 1) % C))
        with self.assertRaises(libvae.VaeError) as cm:
            self.model.elbo(self.x)
        self.assertEqual(cm.exception.status, libvae.ERR_SHAPE)
        self.model.set_condition(None)
        with self.assertRaises(libvae.VaeError):
            self.model.sample(N)

    def test_unconditional_model_refuses_rows(self):
        with libvae.Graph() as enc, libvae.Graph() as dec:
            enc.set_output(enc.dense(enc.input([D]), 4))
            dec.set_output(dec.dense(dec.input([L]), D))
            with libvae.Model(enc, dec, L, libvae.LIKELIHOOD_BERNOULLI,
                              1) as plain:
                self.assertEqual(plain.condition_size, 0)
                plain.set_condition(None)
                with self.assertRaises(libvae.VaeError) as cm:
                    plain.set_condition(one_hot(np.zeros(2, dtype=int)))
                self.assertEqual(cm.exception.status, libvae.ERR_INVALID_ARG)

    def test_saved_and_loaded(self):
        cond = one_hot(np.arange(N) % C)
        self.model.set_condition(cond)
        want = self.model.elbo_noise(self.x, self.eps).elbo
        with libvae.Model.load_bytes(self.model.save_bytes()) as copy:
            self.assertEqual(copy.condition_size, C)
            copy.set_condition(cond)
            self.assertEqual(copy.elbo_noise(self.x, self.eps).elbo, want)


if __name__ == "__main__":
    unittest.main()
