/* Optimizer updates, one in-place pass over a parameter and its state (see kernels.h).
 *
 * SGD, PyTorch's form (g is the gradient, b the momentum buffer, t counts steps):
 *   g = g + wd p                          (L2 weight decay)
 *   b = mu b + g                          (only when mu != 0; b starts at 0)
 *   p = p - lr (g + mu b  if nesterov  else  b)        (p - lr g when mu == 0)
 *
 * Adam, PyTorch's form with L2 weight decay, step t = 1, 2, ...:
 *   g = g + wd p
 *   m = b1 m + (1 - b1) g                 running mean of g
 *   v = b2 v + (1 - b2) g^2               running mean of g^2
 *   p = p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * The 1 - b^t factors undo the bias of m and v towards their zero start.
 *
 * restrict: the Python wrapper refuses overlapping arrays, so the compiler may vectorize.
 * Hyperparameters arrive as double and are rounded to T once, so a float parameter is
 * updated with float arithmetic exactly as NumPy does it. */
#include <math.h>

#include "kernels.h"
#include "vectorize.h"

#define DEFINE_OPTIM(T, SUF, SQRT)                                                              \
    TG_VECTORIZE                                                                                \
    void tg_sgd_step_##SUF(int64_t n, T *restrict p, const T *restrict g, T *restrict buf,      \
                           double lr, double momentum, double weight_decay, int nesterov) {     \
        const T lr_ = (T)lr, mu = (T)momentum, wd = (T)weight_decay;                            \
        for (int64_t i = 0; i < n; i++) {                                                       \
            T gi = weight_decay != 0 ? g[i] + wd * p[i] : g[i];                                 \
            if (momentum != 0) {                                                                \
                const T b = mu * buf[i] + gi;                                                   \
                buf[i] = b;                                                                     \
                gi = nesterov ? gi + mu * b : b;                                                \
            }                                                                                   \
            p[i] -= lr_ * gi;                                                                   \
        }                                                                                       \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_adam_step_##SUF(int64_t n, T *restrict p, const T *restrict g, T *restrict m,       \
                            T *restrict v, double lr,                                           \
                            double beta1, double beta2, double eps, double weight_decay,        \
                            int64_t step) {                                                     \
        const T lr_ = (T)lr, b1 = (T)beta1, b2 = (T)beta2, eps_ = (T)eps;                       \
        const T one_minus_b1 = (T)(1 - beta1), one_minus_b2 = (T)(1 - beta2);                   \
        const T wd = (T)weight_decay;                                                           \
        /* bias corrections, computed in double like the Python reference */                    \
        const T c1 = (T)(1 - pow(beta1, (double)step)), c2 = (T)(1 - pow(beta2, (double)step)); \
        for (int64_t i = 0; i < n; i++) {                                                       \
            const T gi = weight_decay != 0 ? g[i] + wd * p[i] : g[i];                           \
            m[i] = m[i] * b1 + one_minus_b1 * gi;                                               \
            v[i] = v[i] * b2 + one_minus_b2 * gi * gi;                                          \
            const T mhat = m[i] / c1, vhat = v[i] / c2;                                         \
            p[i] -= lr_ * mhat / (SQRT(vhat) + eps_);                                           \
        }                                                                                       \
    }

DEFINE_OPTIM(float, f32, sqrtf)
DEFINE_OPTIM(double, f64, sqrt)
