/* conditioning.c - a conditional model's condition (Sohn et al. 2015). The
 * caller gives the rows of the next calls with vae_model_set_condition;
 * the model keeps a copy (never the caller's pointer) and every call that
 * runs a net on n examples requires exactly n rows, so a condition meant
 * for another batch size is refused rather than half used. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "conditioning.h"

VAE_API int32_t vae_model_set_condition(vae_model *m, const float *cond,
                                        int64_t rows)
{
    if (!m)
        return VAE_ERR_INVALID_ARG;
    VAE_HOLD(m, VAE_ERR_BUSY);
    if (rows == 0) {
        m->cond_rows = 0;
        return VAE_OK;
    }
    if (!m->cond_size)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "set_condition: the "
                              "model has no condition node "
                              "(vae_graph_condition)");
    int64_t most = INT64_MAX / 8 / m->cond_size;
    if (rows < 0 || rows > most)
        return vae_model_fail(m, VAE_ERR_RANGE, "set_condition: rows %lld "
                              "not in 0..%lld", (long long)rows,
                              (long long)most);
    if (!cond)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG,
                              "set_condition: cond is NULL");
    int32_t st = vae_check_finite(m, cond, rows * m->cond_size,
                                  "set_condition: cond");
    if (st != VAE_OK)
        return st;
    if (rows > m->cond_cap) {
        float *p = vae_malloc((size_t)(rows * m->cond_size) * sizeof(float));
        if (!p)
            return vae_model_fail(m, VAE_ERR_NOMEM, "set_condition: out of "
                                  "memory for %lld rows", (long long)rows);
        free(m->cond);
        m->cond = p;
        m->cond_cap = rows;
    }
    memcpy(m->cond, cond, (size_t)(rows * m->cond_size) * sizeof(float));
    m->cond_rows = rows;
    return VAE_OK;
}

VAE_API int64_t vae_model_condition_size(const vae_model *m)
{
    return m ? m->cond_size : VAE_ERR_INVALID_ARG;
}

int32_t vae_check_condition(vae_model *m, int64_t n, const char *what)
{
    if (!m->cond_size || m->cond_rows == n)
        return VAE_OK;
    if (!m->cond_rows)
        return vae_model_fail(m, VAE_ERR_INVALID_ARG, "%s: the model is "
                              "conditional: give the condition of the %lld "
                              "examples first (vae_model_set_condition)",
                              what, (long long)n);
    return vae_model_fail(m, VAE_ERR_SHAPE, "%s: the condition has %lld "
                          "rows, the call %lld examples", what,
                          (long long)m->cond_rows, (long long)n);
}

void vae_put_condition(const vae_model *m, vae_node *node, int64_t row0,
                       int64_t rows, int64_t k)
{
    if (!node)
        return;
    size_t bytes = (size_t)m->cond_size * sizeof(float);
    for (int64_t r = 0; r < rows; r++)
        memcpy(node->val + r * m->cond_size,
               m->cond + (row0 + r) / k * m->cond_size, bytes);
}

vae_node *vae_enc_condition(vae_model *m)
{
    return m->enc_cond >= 0 ? &m->enc[m->enc_cond] : NULL;
}

vae_node *vae_dec_condition(vae_model *m)
{
    return m->dec_cond >= 0 ? &m->dec[m->dec_cond] : NULL;
}
