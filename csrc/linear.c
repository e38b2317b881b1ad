/* A Linear layer with its activation: forward and backward side by side (see kernels.h).
 *
 *   forward:  z = x @ w^T + b,  y = act(z)
 *   backward: dz = act'(y) * dy        (every activation here has a derivative in terms of y)
 *             dx = dz @ w,  dw = dz^T @ x,  db = sum over the batch of dz
 *
 * act'(y):  relu: [y > 0];  sigmoid: y (1 - y);  tanh: 1 - y^2;  leaky_relu: 1 or slope. */
#include <math.h>

#include "kernels.h"

#define DEFINE_LINEAR(T, SUF, EXP, TANH)                                                    \
    static T act_##SUF(T z, int act, T slope) {                                             \
        switch (act) {                                                                      \
            case 1: return z > 0 ? z : 0;                                                   \
            case 2: return z >= 0 ? 1 / (1 + EXP(-z)) : EXP(z) / (1 + EXP(z));              \
            case 3: return TANH(z);                                                         \
            case 4: return z > 0 ? z : slope * z;                                           \
            default: return z;                                                              \
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
    void tg_linear_forward_##SUF(int64_t B, int64_t IN, int64_t OUT, const T *x, const T *w, \
                                 const T *b, T *y, int act, T slope) {                      \
        tg_matmul_##SUF(B, OUT, IN, x, 0, w, 1, y);                                         \
        for (int64_t i = 0; i < B; i++)                                                     \
            for (int64_t j = 0; j < OUT; j++)                                               \
                y[i * OUT + j] = act_##SUF(y[i * OUT + j] + (b ? b[j] : 0), act, slope);    \
    }                                                                                       \
    void tg_linear_backward_##SUF(int64_t B, int64_t IN, int64_t OUT, const T *x,            \
                                  const T *w, const T *y, const T *dy, T *dz, T *dx, T *dw, \
                                  T *db, int act, T slope) {                                \
        for (int64_t i = 0; i < B * OUT; i++) dz[i] = dy[i] * act_grad_##SUF(y[i], act, slope); \
        if (dx) tg_matmul_##SUF(B, IN, OUT, dz, 0, w, 0, dx);                               \
        tg_matmul_##SUF(OUT, IN, B, dz, 1, x, 0, dw);                                       \
        if (db) {                                                                           \
            for (int64_t j = 0; j < OUT; j++) db[j] = 0;                                    \
            for (int64_t i = 0; i < B; i++)                                                 \
                for (int64_t j = 0; j < OUT; j++) db[j] += dz[i * OUT + j];                 \
        }                                                                                   \
    }

DEFINE_LINEAR(float, f32, expf, tanhf)
DEFINE_LINEAR(double, f64, exp, tanh)
