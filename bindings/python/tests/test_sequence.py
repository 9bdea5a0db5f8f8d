"""The rest of the builder, and a small sentence VAE: embeddings, LSTMs,
teacher forcing, categorical likelihood and generation."""
import unittest

import numpy as np

import libvae
from vaetest import eval_elbo, mlp_graph

PAD, BOS, EOS, UNK = 0, 1, 2, 3
VOCAB, T, EMBED, HIDDEN, LATENT = 9, 6, 8, 16, 4


def sentences():
    """Two sentences over ids 4..8, each closed by EOS and padded."""
    rows = [[4, 5, 6, 7, EOS, PAD], [8, 7, 6, EOS, PAD, PAD]] * 4
    return np.array(rows, dtype=np.float32)


def sentence_model(seed):
    with libvae.Graph() as enc, libvae.Graph() as dec:
        ids = enc.input([T])
        h = enc.lstm(enc.embedding(ids, VOCAB, EMBED), HIDDEN, mask=ids)
        enc.set_output(h)

        z = dec.input([LATENT])
        state = dec.tanh(dec.dense(z, 2 * HIDDEN))
        words = dec.data([T])
        prev = dec.token_dropout(dec.shift_right(words, BOS), 0.1, UNK)
        steps = dec.concat(dec.embedding_shared(prev, VOCAB, EMBED),
                           dec.repeat(z, T))
        h = dec.lstm(steps, HIDDEN, init=state, mask=words,
                     full_sequence=True)
        dec.set_output(dec.dense(h, VOCAB))
        return libvae.Model(enc, dec, LATENT, libvae.LIKELIHOOD_CATEGORICAL,
                            seed)


def bn_vae(seed):
    """The sentence VAE with its own posterior: mu batch-normalised to a
    fixed scale (BN-VAE), and a bag-of-words loss on z."""
    with libvae.Graph() as enc, libvae.Graph() as dec:
        ids = enc.input([T])
        h = enc.lstm(enc.embedding(ids, VOCAB, EMBED), HIDDEN, mask=ids)
        mu = enc.batch_norm(enc.dense(h, LATENT), 0.6)
        enc.set_output(enc.gaussian(mu, enc.dense(h, LATENT)))

        z = dec.input([LATENT])
        words = dec.data([T])
        steps = dec.concat(dec.embedding(dec.shift_right(words, BOS),
                                         VOCAB, EMBED), dec.repeat(z, T))
        h = dec.lstm(steps, HIDDEN, mask=words, full_sequence=True)
        dec.bag_of_words(dec.dense(z, VOCAB), words, 1.0)
        dec.set_output(dec.dense(h, VOCAB))
        return libvae.Model(enc, dec, LATENT, libvae.LIKELIHOOD_CATEGORICAL,
                            seed)


class BuilderTest(unittest.TestCase):
    def test_shapes_follow_the_header_rules(self):
        with libvae.Graph() as g:
            x = g.input([2, 8, 8])
            self.assertEqual(g.node_size(x), 2 * 8 * 8)
            # H' = (H + 2 padding - kernel) / stride + 1 = (8 + 2 - 4) / 2 + 1
            c = g.conv2d(x, 5, 4, stride=2, padding=1)
            self.assertEqual(g.node_size(c), 5 * 4 * 4)
            # H' = (H - 1) stride - 2 padding + kernel = 3 * 2 - 2 + 4
            u = g.conv2d_transpose(c, 3, 4, stride=2, padding=1)
            self.assertEqual(g.node_size(u), 3 * 8 * 8)
            r = g.reshape(u, [3, 64])
            self.assertEqual(g.node_size(r), 192)
            t = g.transpose(g.reshape(u, [3, 4, 16]), [1, 2, 0])
            self.assertEqual(g.node_size(t), 192)
            f = g.flatten(t)
            for act in (g.sigmoid, g.softplus, g.identity, g.tanh, g.relu):
                f = act(f)
            f = g.leaky_relu(f, 0.1)
            self.assertEqual(g.node_size(f), 192)
            g.set_output(f)
            g.check()
            with self.assertRaises(libvae.VaeError) as cm:
                g.transpose(t, [0, 0, 1])
            self.assertTrue(cm.exception.message)


class SentenceTest(unittest.TestCase):
    def setUp(self):
        self.model = sentence_model(seed=2)
        self.x = sentences()

    def tearDown(self):
        self.model.close()

    def test_trains(self):
        self.assertEqual(self.model.data_shape, (T,))
        with libvae.Adam(self.model, 1e-2) as opt:
            before = eval_elbo(self.model, self.x)
            for _ in range(60):
                self.model.train_step(opt, self.x)
            after = eval_elbo(self.model, self.x)
        # Uniform guessing costs ln(VOCAB) per real token (5 and 4 of them).
        self.assertLess(before, -4 * np.log(VOCAB))
        self.assertGreater(after, before + 5.0)
        # Having learnt the two sentences, it says one of them.
        z, _ = self.model.sample(4)
        ids, _ = self.model.generate(z, T, eos=EOS)
        known = {tuple(row) for row in self.x}
        for row in ids:
            self.assertIn(tuple(row), known)

    def check_sequences(self, ids, max_len):
        self.assertEqual(ids.shape, (len(ids), max_len))
        for row in ids:
            self.assertTrue(np.all(row == np.round(row)))
            self.assertTrue(np.all((row >= 0) & (row < VOCAB)))
            ends = np.flatnonzero(row == EOS)
            if len(ends):
                self.assertFalse(np.any(row[ends[0] + 1:]))
                self.assertTrue(np.all(row[:ends[0]] > 0))
            else:
                self.assertTrue(np.all(row > 0))

    def test_generate(self):
        z = np.random.default_rng(0).standard_normal(
            (3, LATENT)).astype(np.float32)
        for mode, extra in ((libvae.DECODE_GREEDY, {}),
                            (libvae.DECODE_SAMPLE, {"temperature": 0.7}),
                            (libvae.DECODE_TOP_K, {"top_k": 3}),
                            (libvae.DECODE_BEAM, {"beam": 4})):
            with self.subTest(mode=mode):
                ids, steps = self.model.generate(z, 10, mode=mode, eos=EOS,
                                                 **extra)
                self.check_sequences(ids, 10)
                self.assertGreaterEqual(steps, 1)
                self.assertLessEqual(steps, 10)
        # Without an end token every sequence runs to max_len.
        ids, steps = self.model.generate(z, 7)
        self.assertEqual(steps, 7)
        self.assertTrue(np.all(ids > 0))
        with self.assertRaises(libvae.VaeError) as cm:
            self.model.generate(z, 5, mode=libvae.DECODE_BEAM, beam=0)
        self.assertEqual(cm.exception.status, libvae.ERR_RANGE)
        self.assertEqual(cm.exception.message, self.model.last_error)

    def test_generation_settings(self):
        z = np.random.default_rng(1).standard_normal(
            (2, LATENT)).astype(np.float32)
        self.assertEqual(self.model.get_generation(libvae.GEN_MODE),
                         libvae.DECODE_GREEDY)
        self.model.set_generation(libvae.GEN_MODE, libvae.DECODE_TOP_K)
        self.model.set_generation(libvae.GEN_TOP_K, 3)
        self.model.set_generation(libvae.GEN_EOS, EOS)
        self.model.set_seed(9)
        ids, steps = self.model.generate_tokens(z, 10)
        self.model.set_seed(9)
        want, want_steps = self.model.generate(
            z, 10, mode=libvae.DECODE_TOP_K, top_k=3, eos=EOS)
        np.testing.assert_array_equal(ids, want)
        self.assertEqual(steps, want_steps)
        with self.assertRaises(libvae.VaeError) as cm:
            self.model.set_generation(libvae.GEN_BEAM, 0)
        self.assertEqual(cm.exception.status, libvae.ERR_RANGE)

    def test_decoder_output_scores_the_data(self):
        z = np.zeros((len(self.x), LATENT), dtype=np.float32)
        logits = self.model.decoder_output(z, self.x)
        self.assertEqual(logits.shape, (len(self.x), self.model.output_size))
        steps = logits.reshape(len(self.x), self.x.shape[1], -1)
        lp = steps - np.log(np.exp(steps).sum(axis=2, keepdims=True))
        ids = self.x.astype(int)
        picked = np.take_along_axis(lp, ids[:, :, None], axis=2)[:, :, 0]
        want = self.model.log_likelihood(z, self.x)
        np.testing.assert_allclose((picked * (ids > 0)).sum(axis=1), want,
                                   rtol=1e-4)

    def test_reconstruct_gives_ids(self):
        out = self.model.reconstruct(self.x)
        self.assertEqual(out.shape, self.x.shape)
        self.assertTrue(np.all(out == np.round(out)))

    def test_log_likelihood_counts_real_tokens_only(self):
        # Prefixes of one sentence, padded: each real token adds a negative
        # term, padding adds nothing, so all padding scores exactly 0.
        full = self.x[0]
        real = int(np.count_nonzero(full))
        x = np.zeros((real + 1, T), np.float32)
        for n in range(real + 1):
            x[n, :n] = full[:n]
        z = np.zeros((real + 1, LATENT), np.float32)
        logp = self.model.log_likelihood(z, x)
        self.assertEqual(logp[0], 0.0)
        self.assertTrue(np.all(np.diff(logp) < 0), logp)


class BnVaeTest(unittest.TestCase):
    def test_trains_and_keeps_running_statistics(self):
        x = sentences()
        eps = np.random.default_rng(3).standard_normal(
            (len(x), LATENT)).astype(np.float32)
        with bn_vae(seed=4) as model, libvae.Adam(model, 1e-2) as opt:
            # Training normalises with the batch's statistics, evaluation
            # with the running ones, so compare training steps.
            first = model.train_step(opt, x).elbo
            for _ in range(40):
                last = model.train_step(opt, x).elbo
            self.assertGreater(last, first + 2.0)
            # The running mean and variance travel with the model: the
            # loaded copy scores the batch exactly as the original.
            want = model.elbo_noise(x, eps).elbo
            with libvae.Model.load_bytes(model.save_bytes()) as copy:
                self.assertEqual(copy.elbo_noise(x, eps).elbo, want)
            with bn_vae(seed=4) as fresh:
                self.assertNotEqual(fresh.elbo_noise(x, eps).elbo, want)

    def test_gaussian_must_be_the_encoders_last_node(self):
        with libvae.Graph() as enc, mlp_graph(LATENT, T) as dec:
            h = enc.input([T])
            q = enc.gaussian(enc.dense(h, LATENT), enc.dense(h, LATENT))
            enc.set_output(enc.tanh(q))
            with self.assertRaises(libvae.VaeError) as cm:
                libvae.Model(enc, dec, LATENT,
                             libvae.LIKELIHOOD_BERNOULLI, 1)
            self.assertEqual(cm.exception.status, libvae.ERR_SHAPE)
            self.assertIn("posterior", cm.exception.message)


if __name__ == "__main__":
    unittest.main()
