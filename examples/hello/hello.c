/* hello.c - train a small VAE on random binary data with libvae. */
#include <stdio.h>
#include <stdlib.h>
#include <vae.h>

#define CHECK(call) do { int32_t s_ = (call); if (s_ != VAE_OK) { \
    fprintf(stderr, "%s: %s\n", #call, vae_status_string(s_)); return 1; } } while (0)

int main(void)
{
    enum { DIM = 64, LATENT = 4, BATCH = 32 };
    int64_t dim = DIM, latent = LATENT;
    vae_graph *enc, *dec;
    CHECK(vae_graph_new(&enc));
    CHECK(vae_graph_new(&dec));
    int32_t h = vae_graph_input(enc, &dim, 1);          /* x: 64 values in [0,1] */
    h = vae_graph_relu(enc, vae_graph_dense(enc, h, 32));
    CHECK(vae_graph_set_output(enc, h));                 /* head (mu, logvar) added by the model */
    h = vae_graph_input(dec, &latent, 1);                /* z: 4 latents */
    h = vae_graph_relu(dec, vae_graph_dense(dec, h, 32));
    CHECK(vae_graph_set_output(dec, vae_graph_dense(dec, h, DIM))); /* Bernoulli logits */

    char err[256];
    vae_model *m;
    vae_adam *opt;
    CHECK(vae_model_new(enc, dec, LATENT, VAE_LIKELIHOOD_BERNOULLI, 42, &m, err, sizeof err));
    CHECK(vae_adam_new(m, 1e-3, &opt, err, sizeof err));
    vae_graph_free(enc);
    vae_graph_free(dec);

    static float x[BATCH * DIM];                         /* two prototypes, so there is something to learn */
    for (int i = 0; i < BATCH * DIM; i++)
        x[i] = (float)(((i / DIM) % 2) ^ ((i % DIM) < DIM / 2));
    for (int step = 1; step <= 300; step++) {
        double elbo;
        if (vae_model_train_step(m, opt, x, BATCH, &elbo, NULL, NULL) != VAE_OK) {
            fprintf(stderr, "step: %s\n", vae_model_last_error(m));
            return 1;
        }
        if (step % 100 == 0)
            printf("step %d  ELBO %.2f nats\n", step, elbo);
    }
    CHECK(vae_model_save(m, opt, "hello.vae"));
    vae_adam_free(opt);
    vae_model_free(m);
    return 0;
}
