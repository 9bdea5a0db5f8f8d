"""Training, saving and running an MLP VAE through the binding."""
import math
import os
import tempfile
import threading
import unittest

import numpy as np

import libvae
from vaetest import BATCH, DATA, LATENT, eval_elbo, prototypes, tiny_model


class TrainTest(unittest.TestCase):
    def test_training_improves_the_elbo(self):
        x = prototypes()
        with tiny_model() as m, libvae.Adam(m, 1e-2) as opt:
            before = eval_elbo(m, x)
            for _ in range(200):
                e = m.train_step(opt, x)
                self.assertAlmostEqual(e.elbo, e.recon - e.kl, places=9)
                self.assertGreaterEqual(e.kl, 0.0)
            after = eval_elbo(m, x)
            self.assertEqual(opt.steps, 200)
        # Knowing nothing costs DATA * ln 2 nats per example; telling the
        # two prototypes apart costs about ln 2 plus the KL.
        self.assertLess(before, -0.5 * DATA * math.log(2))
        self.assertGreater(after, before + 2.0)
        self.assertGreater(after, -3.0)

    def test_train_step_is_zero_grad_elbo_grad_and_step(self):
        x = prototypes()
        with tiny_model(seed=5) as a, tiny_model(seed=5) as b, \
                libvae.Adam(a, 1e-2) as opt_a, libvae.Adam(b, 1e-2) as opt_b:
            np.testing.assert_array_equal(a.params, b.params)
            for _ in range(3):
                ea = a.train_step(opt_a, x)
                b.zero_grad()
                eb = b.elbo_grad(x)
                opt_b.step(b)
                self.assertEqual(ea, eb)
            np.testing.assert_array_equal(a.params, b.params)

    def test_settings_reach_the_library(self):
        x = prototypes()
        with tiny_model() as m, libvae.Adam(m, 1e-2) as opt:
            m.set_beta(0.5)
            m.set_free_bits(0.1)
            m.set_kl_anneal(libvae.ANNEAL_LINEAR, 10)
            opt.set_betas(0.8, 0.99, 1e-7)
            opt.set_clip_norm(1.0)
            opt.set_lr(1e-3)
            self.assertTrue(math.isfinite(m.train_step(opt, x).elbo))
            # Free bits do not apply to the k-sample bound: the library says so.
            m.set_train_samples(3)
            with self.assertRaises(libvae.VaeError):
                m.train_step(opt, x)
            m.set_free_bits(0.0)
            self.assertTrue(math.isfinite(m.train_step(opt, x).elbo))

        # A fresh optimizer with zero gradients moves nothing, so what
        # remains of its step is AdamW's decay p -= lr * wd * p.
        with tiny_model() as m, libvae.Adam(m, 1e-3) as opt:
            opt.set_weight_decay(0.5, decoupled=True)
            before = m.params.copy()
            m.zero_grad()
            opt.step(m)
            np.testing.assert_allclose(m.params, before * (1 - 1e-3 * 0.5),
                                       rtol=1e-6)
            self.assertFalse(np.array_equal(m.params, before))

    def test_obs_logvar(self):
        # Gaussian recon = -1/2 (S exp(-lv) + D (lv + log 2 pi)), S the
        # squared error: two evaluations with the same z give S, which
        # predicts a third.
        x = prototypes()
        d = DATA
        with tiny_model(likelihood=libvae.LIKELIHOOD_GAUSSIAN_FIXED) as m:
            m.set_seed(3)
            r0 = m.elbo(x).recon
            s = -2 * r0 - d * math.log(2 * math.pi)
            lv = math.log(4.0)
            m.set_obs_logvar(lv)
            m.set_seed(3)
            r1 = m.elbo(x).recon
        self.assertAlmostEqual(
            r1, -0.5 * (s * math.exp(-lv) + d * (lv + math.log(2 * math.pi))),
            places=4)


class SaveLoadTest(unittest.TestCase):
    def setUp(self):
        self.x = prototypes()
        self.model = tiny_model(seed=9)
        self.opt = libvae.Adam(self.model, 1e-2)
        for _ in range(5):
            self.model.train_step(self.opt, self.x)
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "tiny.vae")

    def tearDown(self):
        self.opt.close()
        self.model.close()
        self.tmp.cleanup()

    def assert_same_model(self, copy):
        self.assertEqual(copy.num_params, self.model.num_params)
        self.assertEqual(copy.params.tobytes(), self.model.params.tobytes())
        self.assertEqual(copy.data_shape, (DATA,))
        self.assertEqual(copy.latent_dim, LATENT)
        self.assertEqual(eval_elbo(copy, self.x),
                         eval_elbo(self.model, self.x))

    def test_file_round_trip(self):
        self.model.metadata = b"vocab\x00\xffbytes"
        self.model.save(self.path)
        with libvae.Model.load(self.path) as copy:
            self.assert_same_model(copy)
            self.assertEqual(copy.metadata, b"vocab\x00\xffbytes")

    def test_resume_with_optimizer(self):
        self.model.save(self.path, self.opt)
        with libvae.Model.load(self.path, with_optimizer=True) as (copy, opt):
            self.assertIsNotNone(opt)
            self.assertEqual(opt.steps, self.opt.steps)
            self.model.train_step(self.opt, self.x)
            copy.train_step(opt, self.x)
            self.assert_same_model(copy)

    def test_file_without_optimizer_state(self):
        self.model.save(self.path)
        loaded = libvae.Model.load(self.path, with_optimizer=True)
        with loaded as (copy, opt):
            self.assertIsNone(opt)
            self.assertIs(loaded.optimizer, None)
            self.assert_same_model(copy)
        self.assertTrue(copy.closed)

    def test_bytes_round_trip(self):
        data = self.model.save_bytes(self.opt)
        self.model.save(self.path, self.opt)
        with open(self.path, "rb") as f:
            self.assertEqual(f.read(), data)
        with libvae.Model.load_bytes(bytearray(data),
                                     with_optimizer=True) as (copy, opt):
            self.assert_same_model(copy)
            self.assertEqual(opt.steps, 5)
        self.assertTrue(copy.closed and opt.closed)


class RunTest(unittest.TestCase):
    def setUp(self):
        self.model = tiny_model(seed=4)
        self.x = prototypes()

    def tearDown(self):
        self.model.close()

    def test_sample_decodes_its_z(self):
        z, out = self.model.sample(6)
        self.assertEqual(z.shape, (6, LATENT))
        self.assertEqual(out.shape, (6, DATA))
        self.assertTrue(np.all((out > 0) & (out < 1)))
        np.testing.assert_array_equal(self.model.decode(z), out)

    def test_given_noise_is_the_drawn_noise(self):
        # After set_seed(s), sample's z are the eps the ELBO would draw.
        self.model.set_seed(21)
        eps, _ = self.model.sample(BATCH)
        self.model.set_seed(21)
        drawn = self.model.elbo(self.x)
        self.assertEqual(self.model.elbo_noise(self.x, eps), drawn)

    def test_decoder_output_is_the_logits(self):
        z, out = self.model.sample(4)
        logits = self.model.decoder_output(z)
        self.assertEqual(logits.shape, (4, self.model.output_size))
        np.testing.assert_allclose(1 / (1 + np.exp(-logits)), out, rtol=1e-5)

    def test_latent_statistics(self):
        mi = self.model.mutual_info(self.x, samples=2)
        self.assertLessEqual(mi, np.log(BATCH) + 0.1)
        count, var = self.model.active_units(self.x, 0.0)
        mu, _ = self.model.encode(self.x)
        np.testing.assert_allclose(var, mu.var(axis=0, ddof=1), rtol=1e-5)
        self.assertEqual(count, int((var > 0.0).sum()))

    def test_reset_decoder_keeps_the_encoder(self):
        mu, _ = self.model.encode(self.x)
        before = self.model.decode(mu)
        self.model.reset_decoder(4)
        np.testing.assert_array_equal(self.model.encode(self.x)[0], mu)
        self.assertFalse(np.array_equal(self.model.decode(mu), before))

    def test_reconstruct_is_decode_of_mu(self):
        mu, logvar = self.model.encode(self.x)
        self.assertEqual(mu.shape, (BATCH, LATENT))
        self.assertEqual(logvar.shape, (BATCH, LATENT))
        np.testing.assert_array_equal(self.model.reconstruct(self.x),
                                      self.model.decode(mu))

    def test_log_likelihood_is_bernoulli_of_the_means(self):
        z = np.random.default_rng(1).standard_normal(
            (BATCH, LATENT)).astype(np.float32)
        p = self.model.decode(z).astype(np.float64)
        want = np.sum(self.x * np.log(p) + (1 - self.x) * np.log1p(-p), axis=1)
        np.testing.assert_allclose(self.model.log_likelihood(z, self.x), want,
                                   rtol=1e-5)

    def test_iwae(self):
        logpx = self.model.iwae(self.x, 20)
        self.assertEqual(logpx.shape, (BATCH,))
        self.assertTrue(np.all(np.isfinite(logpx)))
        with self.assertRaises(libvae.VaeError) as cm:
            self.model.iwae(self.x, 0)
        self.assertEqual(cm.exception.status, libvae.ERR_RANGE)

    def test_random_uniform_follows_the_seed(self):
        self.model.set_seed(77)
        a = self.model.random_uniform(1000)
        self.model.set_seed(77)
        b = self.model.random_uniform(1000)
        np.testing.assert_array_equal(a, b)
        self.assertTrue(np.all((a >= 0) & (a < 1)))
        self.assertGreater(len(np.unique(a)), 990)

    def test_params_are_the_library_buffer(self):
        # All weights and biases 0 make every logit 0: decoded means of
        # exactly 1/2 prove the write reached the library without a copy.
        params = self.model.params
        self.assertEqual(params.shape, (self.model.num_params,))
        params[:] = 0
        z = np.ones((3, LATENT), dtype=np.float32)
        np.testing.assert_array_equal(self.model.decode(z), 0.5)

    def test_grads(self):
        grads = self.model.grads
        self.model.zero_grad()
        self.assertFalse(np.any(grads))
        self.model.elbo_grad(self.x)
        g = grads.copy()
        self.assertTrue(np.any(g))
        self.model.scale_grad(0.5)
        np.testing.assert_array_equal(grads, g * 0.5)

    def test_models_train_in_parallel_threads(self):
        # One model per thread; the calls release the GIL. Each result must
        # be the one the same model gives when trained alone.
        def train(seed, results):
            with tiny_model(seed=seed) as m, libvae.Adam(m, 1e-2) as opt:
                for _ in range(50):
                    m.train_step(opt, self.x)
                results[seed] = m.params.copy()

        alone, together = {}, {}
        for seed in (1, 2):
            train(seed, alone)
        threads = [threading.Thread(target=train, args=(seed, together))
                   for seed in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for seed in (1, 2):
            np.testing.assert_array_equal(together[seed], alone[seed])


if __name__ == "__main__":
    unittest.main()
