/* compare_params.c - vae-compare-params A B TOL: whether two model files
 * hold the same model up to TOL: the largest absolute difference of their
 * parameters is at most TOL, their optimizers have taken the same number of
 * steps and their generators give the same next numbers. Prints the
 * figures; exit status 0 if so, 1 if not, 2 if a file cannot be read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vae.h>

#define DRAWS 64 /* next numbers compared from each generator */

static vae_model *load(const char *path, vae_adam **opt)
{
    char e[512] = "";
    vae_model *m = NULL;

    if (vae_model_load(path, &m, opt, e, sizeof e) != VAE_OK) {
        fprintf(stderr, "vae-compare-params: %s\n", e);
        return NULL;
    }
    return m;
}

int main(int argc, char **argv)
{
    vae_model *a = NULL, *b = NULL;
    vae_adam *oa = NULL, *ob = NULL;
    float ua[DRAWS], ub[DRAWS];
    double tol, worst = 0.0, largest = 0.0;
    int64_t n, at = 0;
    char *end;
    int rc = 2;

    if (argc != 4 || (tol = strtod(argv[3], &end), *end || !(tol >= 0.0))) {
        fputs("usage: vae-compare-params A.vae B.vae TOL\n", stderr);
        return 2;
    }
    if (!(a = load(argv[1], &oa)) || !(b = load(argv[2], &ob)))
        goto done;
    n = vae_model_num_params(a);
    if (n != vae_model_num_params(b)) {
        printf("different models: %lld and %lld parameters\n", (long long)n,
               (long long)vae_model_num_params(b));
        rc = 1;
        goto done;
    }
    const float *pa = vae_model_params(a), *pb = vae_model_params(b);
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)pa[i] - (double)pb[i]);
        if (!(d <= worst)) { /* NaN counts as the worst */
            worst = d;
            at = i;
        }
        if (fabs((double)pa[i]) > largest)
            largest = fabs((double)pa[i]);
    }
    int same_steps = (oa ? vae_adam_steps(oa) : -1) ==
                     (ob ? vae_adam_steps(ob) : -1);
    int same_rng = vae_model_random_uniform(a, DRAWS, ua) == VAE_OK &&
                   vae_model_random_uniform(b, DRAWS, ub) == VAE_OK &&
                   memcmp(ua, ub, sizeof ua) == 0;
    printf("%lld parameters: max |a - b| %.3g (parameter %lld: %.9g vs "
           "%.9g; tolerance %.3g), max |a| %.3g; optimizer steps %s; "
           "generators %s\n",
           (long long)n, worst, (long long)at, (double)pa[at], (double)pb[at],
           tol, largest, same_steps ? "equal" : "differ",
           same_rng ? "in step" : "differ");
    rc = worst <= tol && same_steps && same_rng ? 0 : 1;

done:
    vae_adam_free(oa);
    vae_adam_free(ob);
    vae_model_free(a);
    vae_model_free(b);
    return rc;
}
