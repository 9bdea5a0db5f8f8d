/* sentence.c - a sentence VAE (Bowman et al. 2016) in one file: trains on
 * a text file of one sentence per line, then generates sentences from
 * random points of the latent space. Needs only vae.h, libc and libm:
 *   cc sentence.c $(pkg-config --cflags --libs vae) -lm -o sentence
 *   ./sentence lines.txt 20 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vae.h>

/* Id 0 pads a sentence to T ids (libvae skips padding everywhere), 1 starts
 * the decoder, 2 ends a sentence, 3 is any word past the first V_MAX. */
enum { PAD, BOS, EOS, UNK, V_MAX = 4096, T = 16, EMBED = 64, HIDDEN = 128 };
enum { LATENT = 16, BATCH = 32, SAMPLES = 5, N_MAX = 50000 };
static char *vocab[V_MAX] = {"", "<bos>", "<eos>", "<unk>"};
static int64_t v = 4; /* the vocabulary's size so far */
#define DIE(what, why) (fprintf(stderr, "%s: %s\n", what, why), exit(1))

/* A linear search keeps the example short; fine for small files. */
static float word_id(const char *w)
{
    for (int64_t i = 4; i < v; i++)
        if (strcmp(vocab[i], w) == 0)
            return (float)i;
    if (v == V_MAX || !(vocab[v] = malloc(strlen(w) + 1)))
        return UNK;
    strcpy(vocab[v], w);
    return (float)v++;
}

int main(int argc, char **argv)
{
    int epochs = argc == 3 ? atoi(argv[2]) : 0;
    FILE *f = epochs > 0 ? fopen(argv[1], "r") : NULL;
    if (!f)
        DIE(argv[0], "usage: LINES.txt EPOCHS (a readable file, EPOCHS >= 1)");
    /* The first N_MAX sentences as rows of T ids: the words (up to T - 1),
     * <eos>, padding. libvae takes ids as floats (exact up to 2^24). */
    static float x[N_MAX * T];
    int64_t n = 0;
    char line[4096];
    while (n < N_MAX && fgets(line, sizeof line, f)) {
        float *row = x + n * T;
        int t = 0;
        for (char *w = strtok(line, " \t\r\n"); w && t < T - 1;
             w = strtok(NULL, " \t\r\n"))
            row[t++] = word_id(w);
        if (t == 0)
            continue; /* an empty line */
        for (row[t++] = EOS; t < T; t++)
            row[t] = PAD;
        n++;
    }
    fclose(f);
    if (n == 0)
        DIE(argv[0], "no sentences: the file has no words");

    /* Encoder: word vectors, an LSTM masked by the ids (padding keeps its
     * state), its last state to libvae's head. model_new reports errors. */
    const int64_t len = T, latent = LATENT;
    vae_graph *enc = NULL, *dec = NULL;
    vae_graph_new(&enc);
    vae_graph_new(&dec);
    int32_t ids = vae_graph_input(enc, &len, 1);
    int32_t h = vae_graph_embedding(enc, ids, v, EMBED);
    vae_graph_set_output(enc, vae_graph_lstm(enc, h, HIDDEN, VAE_NO_NODE, ids,
                                             VAE_LSTM_LAST_STATE));
    /* Decoder, teacher-forced: it reads the sentence one step late, after
     * <bos>, so each step predicts a word from those before it and from z. */
    int32_t z = vae_graph_input(dec, &latent, 1);
    int32_t data = vae_graph_data(dec, &len, 1);
    h = vae_graph_shift_right(dec, data, BOS);
    h = vae_graph_embedding_shared(dec, h, v, EMBED); /* the encoder's */
    h = vae_graph_lstm(dec, h, HIDDEN, vae_graph_dense(dec, z, 2 * HIDDEN),
                       data, VAE_LSTM_SEQUENCE);
    vae_graph_set_output(dec, vae_graph_dense(dec, h, v)); /* logits */

    char err[256];
    vae_model *m;
    vae_adam *opt;
    if (vae_model_new(enc, dec, LATENT, VAE_LIKELIHOOD_CATEGORICAL, 1, &m, err,
                      sizeof err) ||
        vae_adam_new(m, 1e-3, &opt, err, sizeof err))
        DIE("model", err);
    vae_graph_free(enc);
    vae_graph_free(dec);
    /* KL weight 0 -> 1 in 10 epochs, lest q(z|x) collapse onto the prior. */
    vae_model_set_kl_anneal(m, VAE_ANNEAL_LINEAR, 10 * (n / BATCH + 1));

    for (int epoch = 1; epoch <= epochs; epoch++) {
        double sum = 0.0, elbo;
        for (int64_t i = 0; i < n; i += BATCH) {
            int64_t b = n - i < BATCH ? n - i : BATCH;
            if (vae_model_train_step(m, opt, x + i * T, b, &elbo, NULL, NULL))
                DIE("train", vae_model_last_error(m));
            sum += elbo * b;
        }
        printf("epoch %d  ELBO %.2f nats per sentence\n", epoch, sum / n);
    }

    /* z ~ N(0, I) by Box-Muller, decoded word by word with the LSTM state
     * carried (T steps for T words), each drawn among the 10 likeliest. */
    float u[2 * SAMPLES * LATENT], zs[SAMPLES * LATENT], out[SAMPLES * T];
    if (vae_model_random_uniform(m, 2 * SAMPLES * LATENT, u) ||
        vae_model_set_generation(m, VAE_GEN_MODE, VAE_DECODE_TOP_K) ||
        vae_model_set_generation(m, VAE_GEN_EOS, EOS))
        DIE("generation", vae_model_last_error(m));
    for (int i = 0; i < SAMPLES * LATENT; i++)
        zs[i] = sqrtf(-2 * logf(1 - u[2 * i])) * cosf(6.2832f * u[2 * i + 1]);
    if (vae_model_generate_tokens(m, zs, SAMPLES, T, out, NULL))
        DIE("generation", vae_model_last_error(m));
    for (int s = 0; s < SAMPLES; s++) {
        printf("sample:");
        for (int t = 0; t < T && out[s * T + t] > EOS; t++)
            printf(" %s", vocab[(int)out[s * T + t]]);
        printf("\n");
    }
    vae_adam_free(opt);
    vae_model_free(m);
    return 0;
}
