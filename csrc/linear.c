/* A Linear layer with its activation: forward and backward side by side (see kernels.h).
 *
 *   forward:  z = x @ w^T + b,  y = act(z)
 *   backward: dz = act'(y) * dy        (every activation here has a derivative in terms of y)
 *             dx = dz @ w,  dw = dz^T @ x,  db = sum over the batch of dz
 *
 * act(z):   relu: max(z, 0);  sigmoid: 1 / (1 + e^-z);  tanh;  leaky_relu: z or slope * z.
 * act'(y):  relu: [y > 0];  sigmoid: y (1 - y);  tanh: 1 - y^2;  leaky_relu: 1 or slope.
 *
 * Fusion: the forward GEMM calls an *epilogue* on each tile of y right after computing it
 * (still in L1), which adds the bias and applies the activation: one pass over y instead of
 * a GEMM followed by a second sweep through memory. The backward computes dz and the bias
 * gradient db in a single pass over dy, then the two GEMMs read dz with transpose flags
 * (no transposed copies). */
#include <math.h>

#include "gemm/gemm.h"
#include "kernels.h"
#include "vectorize.h"

#define DEFINE_LINEAR(T, SUF, EXP, TANH, FABS)                                              \
    /* y[j] = act(y[j]) over one row; the switch is outside the loops */                    \
    TG_VECTORIZE                                                                            \
    static void act_row_##SUF(T *y, int64_t n, int act, T slope) {                          \
        switch (act) {                                                                      \
            case 1:                                                                         \
                for (int64_t j = 0; j < n; j++) y[j] = y[j] < 0 ? 0 : y[j]; /* NaN stays NaN */\
                break;                                                                      \
            case 2: /* e = exp(-|z|) cannot overflow; (z >= 0 ? 1 : e) / (1 + e) is a */    \
                for (int64_t j = 0; j < n; j++) { /* select, not an unpredictable branch */ \
                    T e = EXP(-FABS(y[j]));                                                 \
                    y[j] = (y[j] >= 0 ? 1 : e) / (1 + e);                                   \
                }                                                                           \
                break;                                                                      \
            case 3:                                                                         \
                for (int64_t j = 0; j < n; j++) y[j] = TANH(y[j]);                          \
                break;                                                                      \
            case 4:                                                                         \
                for (int64_t j = 0; j < n; j++) y[j] = y[j] > 0 ? y[j] : slope * y[j];      \
                break;                                                                      \
            default: break;                                                                 \
        }                                                                                   \
    }                                                                                       \
    static T act_grad_##SUF(T y, int act, T slope) {                                        \
        switch (act) {                                                                      \
            case 1: return y > 0 ? 1 : 0;                                                   \
            case 2: return y * (1 - y);                                                     \
            case 3: return 1 - y * y;                                                       \
            case 4: return y > 0 ? 1 : slope;                                               \
            default: return 1;                                                              \
        }                                                                                   \
    }                                                                                       \
    typedef struct {                                                                        \
        const T *bias;                                                                      \
        int act;                                                                            \
        T slope;                                                                            \
    } epi_ctx_##SUF;                                                                        \
    /* the GEMM epilogue: tile y[0..m)[0..n) holds z for columns j0..j0+n; y = act(z + b) */ \
    TG_VECTORIZE                                                                            \
    static void bias_act_##SUF(T *y, int64_t ldy, int64_t m, int64_t n, int64_t j0,         \
                               const void *ctx) {                                           \
        const epi_ctx_##SUF *e = ctx;                                                       \
        const T *b = e->bias ? e->bias + j0 : NULL;                                         \
        for (int64_t i = 0; i < m; i++) {                                                   \
            T *yi = y + i * ldy;                                                            \
            if (b)                                                                          \
                for (int64_t j = 0; j < n; j++) yi[j] += b[j];                              \
            act_row_##SUF(yi, n, e->act, e->slope);                                         \
        }                                                                                   \
    }                                                                                       \
    void tg_linear_forward_##SUF(int64_t B, int64_t IN, int64_t OUT, const T *x, const T *w, \
                                 const T *b, T *y, int act, T slope) {                      \
        epi_ctx_##SUF e = {b, act, slope};                                                  \
        int fused = b != NULL || act != 0;                                                  \
        tg_gemm_##SUF(B, OUT, IN, x, 0, w, 1, y, fused ? bias_act_##SUF : NULL, &e);        \
    }                                                                                       \
    TG_VECTORIZE                                                                            \
    void tg_linear_backward_##SUF(int64_t B, int64_t IN, int64_t OUT, const T *x,            \
                                  const T *w, const T *y, const T *dy, T *dz, T *dx, T *dw, \
                                  T *db, int act, T slope) {                                \
        /* one pass: dz = act'(y) * dy, and db accumulates the column sums of dz */         \
        if (db)                                                                             \
            for (int64_t j = 0; j < OUT; j++) db[j] = 0;                                    \
        for (int64_t i = 0; i < B; i++) {                                                   \
            const T *yi = y + i * OUT, *dyi = dy + i * OUT;                                 \
            T *dzi = dz + i * OUT;                                                          \
            switch (act) {                                                                  \
                case 0:                                                                     \
                    for (int64_t j = 0; j < OUT; j++) dzi[j] = dyi[j];                      \
                    break;                                                                  \
                case 1:                                                                     \
                    for (int64_t j = 0; j < OUT; j++) dzi[j] = yi[j] > 0 ? dyi[j] : 0;      \
                    break;                                                                  \
                default:                                                                    \
                    for (int64_t j = 0; j < OUT; j++)                                       \
                        dzi[j] = dyi[j] * act_grad_##SUF(yi[j], act, slope);                \
            }                                                                               \
            if (db)                                                                         \
                for (int64_t j = 0; j < OUT; j++) db[j] += dzi[j];                          \
        }                                                                                   \
        if (dx) tg_gemm_##SUF(B, IN, OUT, dz, 0, w, 0, dx, NULL, NULL); /* dz @ w */         \
        tg_gemm_##SUF(OUT, IN, B, dz, 1, x, 0, dw, NULL, NULL);         /* dz^T @ x */       \
    }

DEFINE_LINEAR(float, f32, expf, tanhf, fabsf)
DEFINE_LINEAR(double, f64, exp, tanh, fabs)
