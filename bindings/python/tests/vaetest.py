"""Small models and data shared by the binding's tests."""
import numpy as np

import libvae

DATA, HIDDEN, LATENT, BATCH = 8, 16, 2, 16


def mlp_graph(n_in, n_out, hidden=HIDDEN):
    """input [n_in] -> dense hidden -> relu -> dense n_out."""
    g = libvae.Graph()
    h = g.relu(g.dense(g.input([n_in]), hidden))
    g.set_output(g.dense(h, n_out))
    return g


def tiny_model(seed=1, data=DATA, latent=LATENT,
               likelihood=libvae.LIKELIHOOD_BERNOULLI):
    """The tests' MLP VAE: data -> 16 relu -> (mu, logvar) of latent,
    latent -> 16 relu -> data."""
    with mlp_graph(data, HIDDEN) as enc, mlp_graph(latent, data) as dec:
        return libvae.Model(enc, dec, latent, likelihood, seed)


def prototypes(batch=BATCH, data=DATA):
    """Rows alternating between a binary pattern and its complement: two
    points a 1-latent model can tell apart, so training has something to
    learn."""
    pattern = (np.arange(data) % 3 == 0)
    rows = np.arange(batch)[:, None] % 2 == 1
    return (pattern[None, :] ^ rows).astype(np.float32)


def eval_elbo(model, x, seed=12345):
    """The ELBO under a fixed stream of z draws, so two evaluations differ
    only by the parameters."""
    model.set_seed(seed)
    return model.elbo(x).elbo
