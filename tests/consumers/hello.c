/*
 * A user's first program against an installed libvae: it must compile with
 * only the flags pkg-config (or find_package) hands out, load the installed
 * shared or static library, and train one step. Exit status 1 on any failure.
 */
#include <math.h>
#include <stdio.h>

#include <vae.h>

enum { DATA = 8, HIDDEN = 16, LATENT = 2, BATCH = 4 };

static int fail(const char *what, int32_t status, const char *detail)
{
    fprintf(stderr, "hello: %s failed: %s (%d)%s%s\n", what,
            vae_status_string(status), (int)status,
            detail && *detail ? ": " : "", detail ? detail : "");
    return 1;
}

/* Two dense layers with a relu between them; NULL (reported) on failure. */
static vae_graph *mlp(const char *name, int64_t in, int64_t out)
{
    vae_graph *g = NULL;
    int32_t status = vae_graph_new(&g);
    if (status != VAE_OK) {
        fail(name, status, NULL);
        return NULL;
    }
    /* Builder errors are sticky, so one status check at the end covers
     * every call. */
    int32_t x = vae_graph_input(g, &in, 1);
    int32_t h = vae_graph_relu(g, vae_graph_dense(g, x, HIDDEN));
    vae_graph_set_output(g, vae_graph_dense(g, h, out));
    status = vae_graph_status(g);
    if (status != VAE_OK) {
        fail(name, status, vae_graph_last_error(g));
        vae_graph_free(g);
        return NULL;
    }
    return g;
}

int main(void)
{
    printf("%s\n", vae_version_string());
    if (vae_version_number() != VAE_VERSION_NUMBER) {
        fprintf(stderr, "hello: header says %d, library says %d\n",
                VAE_VERSION_NUMBER, (int)vae_version_number());
        return 1;
    }

    vae_graph *enc = mlp("encoder graph", DATA, HIDDEN);
    vae_graph *dec = enc ? mlp("decoder graph", LATENT, DATA) : NULL;
    if (!dec) {
        vae_graph_free(enc);
        return 1;
    }

    char err[256] = "";
    vae_model *m = NULL;
    int32_t status = vae_model_new(enc, dec, LATENT, VAE_LIKELIHOOD_BERNOULLI, 7, &m,
                           err, sizeof err);
    vae_graph_free(enc);
    vae_graph_free(dec);
    if (status != VAE_OK)
        return fail("vae_model_new", status, err);

    vae_adam *opt = NULL;
    status = vae_adam_new(m, 1e-3, &opt, err, sizeof err);
    if (status != VAE_OK) {
        vae_model_free(m);
        return fail("vae_adam_new", status, err);
    }

    float x[BATCH * DATA];
    for (int i = 0; i < BATCH * DATA; i++)
        x[i] = (float)((i * 7) % 11) / 10.0f;
    double elbo, recon, kl;
    status = vae_model_train_step(m, opt, x, BATCH, &elbo, &recon, &kl);
    int rc = 0;
    if (status != VAE_OK) {
        rc = fail("vae_model_train_step", status, vae_model_last_error(m));
    } else if (vae_adam_steps(opt) != 1) {
        fprintf(stderr, "hello: optimizer reports %lld steps, not 1\n",
                (long long)vae_adam_steps(opt));
        rc = 1;
    } else if (!isfinite(elbo) || recon > 0.0 || kl < 0.0 ||
               fabs(elbo - (recon - kl)) > 1e-6 * (1.0 + fabs(elbo))) {
        /* A Bernoulli log-likelihood is never positive and a KL never
         * negative, whatever the weights. */
        fprintf(stderr, "hello: inconsistent ELBO %g (recon %g, kl %g)\n",
                elbo, recon, kl);
        rc = 1;
    } else {
        printf("one train step: elbo %.4f (recon %.4f, kl %.4f)\n", elbo,
               recon, kl);
    }
    vae_adam_free(opt);
    vae_model_free(m);
    return rc;
}
