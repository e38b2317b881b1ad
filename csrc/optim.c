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
 * Hyperparameters arrive as double and are rounded to the parameter type once, so a float
 * parameter is updated with float arithmetic exactly as NumPy does it.
 *
 * ISA: each step's loop is compiled once per ISA (sgd_step_avx2_f32, ...: see isa.h) and the
 * public kernels pick the copy of tg_get_isa(). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "isa.h"
#include "kernels.h"

/* ---- float ----------------------------------------------------------------------------------- */

/* SGD: g += wd p;  b = mu b + g;  p -= lr (nesterov ? g + mu b : b)   (p -= lr g when mu == 0) */
TG_INLINE void sgd_step_loop_f32(int64_t n, float *restrict p, const float *restrict g,
                                 float *restrict buf, double lr, double momentum,
                                 double weight_decay, int nesterov) {
    const float lr_ = (float)lr, mu = (float)momentum, wd = (float)weight_decay;
    for (int64_t i = 0; i < n; i++) {
        float gi = weight_decay != 0 ? g[i] + wd * p[i] : g[i];
        if (momentum != 0) {
            const float b = mu * buf[i] + gi;
            buf[i] = b;
            gi = nesterov ? gi + mu * b : b;
        }
        p[i] -= lr_ * gi;
    }
}
#if TG_X86
TG_TARGET_AVX2 static void sgd_step_avx2_f32(int64_t n, float *restrict p, const float *restrict g,
                                             float *restrict buf, double lr, double momentum,
                                             double weight_decay, int nesterov) {
    sgd_step_loop_f32(n, p, g, buf, lr, momentum, weight_decay, nesterov);
}
TG_TARGET_AVX512 static void sgd_step_avx512_f32(int64_t n, float *restrict p,
                                                 const float *restrict g, float *restrict buf,
                                                 double lr, double momentum, double weight_decay,
                                                 int nesterov) {
    sgd_step_loop_f32(n, p, g, buf, lr, momentum, weight_decay, nesterov);
}
#endif
void tg_sgd_step_f32(int64_t n, float *restrict p, const float *restrict g, float *restrict buf,
                     double lr, double momentum, double weight_decay, int nesterov) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512:
            sgd_step_avx512_f32(n, p, g, buf, lr, momentum, weight_decay, nesterov);
            break;
        case TG_ISA_AVX2:
            sgd_step_avx2_f32(n, p, g, buf, lr, momentum, weight_decay, nesterov);
            break;
#endif
        default: sgd_step_loop_f32(n, p, g, buf, lr, momentum, weight_decay, nesterov);
    }
}

/* Adam: m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *       p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) */
TG_INLINE void adam_step_loop_f32(int64_t n, float *restrict p, const float *restrict g,
                                  float *restrict m, float *restrict v, double lr, double beta1,
                                  double beta2, double eps, double weight_decay, int64_t step) {
    const float lr_ = (float)lr, b1 = (float)beta1, b2 = (float)beta2, eps_ = (float)eps;
    const float one_minus_b1 = (float)(1 - beta1), one_minus_b2 = (float)(1 - beta2);
    const float wd = (float)weight_decay;
    /* bias corrections, computed in double like the Python reference */
    const float c1 = (float)(1 - pow(beta1, (double)step));
    const float c2 = (float)(1 - pow(beta2, (double)step));
    for (int64_t i = 0; i < n; i++) {
        const float gi = weight_decay != 0 ? g[i] + wd * p[i] : g[i];
        m[i] = m[i] * b1 + one_minus_b1 * gi;
        v[i] = v[i] * b2 + one_minus_b2 * gi * gi;
        const float mhat = m[i] / c1, vhat = v[i] / c2;
        p[i] -= lr_ * mhat / (sqrtf(vhat) + eps_);
    }
}
#if TG_X86
TG_TARGET_AVX2 static void adam_step_avx2_f32(int64_t n, float *restrict p, const float *restrict g,
                                              float *restrict m, float *restrict v, double lr,
                                              double beta1, double beta2, double eps,
                                              double weight_decay, int64_t step) {
    adam_step_loop_f32(n, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step);
}
TG_TARGET_AVX512 static void adam_step_avx512_f32(int64_t n, float *restrict p,
                                                  const float *restrict g, float *restrict m,
                                                  float *restrict v, double lr, double beta1,
                                                  double beta2, double eps, double weight_decay,
                                                  int64_t step) {
    adam_step_loop_f32(n, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step);
}
#endif
void tg_adam_step_f32(int64_t n, float *restrict p, const float *restrict g, float *restrict m,
                      float *restrict v, double lr, double beta1, double beta2, double eps,
                      double weight_decay, int64_t step) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512:
            adam_step_avx512_f32(n, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step);
            break;
        case TG_ISA_AVX2:
            adam_step_avx2_f32(n, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step);
            break;
#endif
        default: adam_step_loop_f32(n, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step);
    }
}

/* ---- double ---------------------------------------------------------------------------------- */

/* SGD: g += wd p;  b = mu b + g;  p -= lr (nesterov ? g + mu b : b)   (p -= lr g when mu == 0) */
TG_INLINE void sgd_step_loop_f64(int64_t n, double *restrict p, const double *restrict g,
                                 double *restrict buf, double lr, double momentum,
                                 double weight_decay, int nesterov) {
    const double lr_ = lr, mu = momentum, wd = weight_decay;
    for (int64_t i = 0; i < n; i++) {
        double gi = weight_decay != 0 ? g[i] + wd * p[i] : g[i];
        if (momentum != 0) {
            const double b = mu * buf[i] + gi;
            buf[i] = b;
            gi = nesterov ? gi + mu * b : b;
        }
        p[i] -= lr_ * gi;
    }
}
#if TG_X86
TG_TARGET_AVX2 static void sgd_step_avx2_f64(int64_t n, double *restrict p,
                                             const double *restrict g, double *restrict buf,
                                             double lr, double momentum, double weight_decay,
                                             int nesterov) {
    sgd_step_loop_f64(n, p, g, buf, lr, momentum, weight_decay, nesterov);
}
TG_TARGET_AVX512 static void sgd_step_avx512_f64(int64_t n, double *restrict p,
                                                 const double *restrict g, double *restrict buf,
                                                 double lr, double momentum, double weight_decay,
                                                 int nesterov) {
    sgd_step_loop_f64(n, p, g, buf, lr, momentum, weight_decay, nesterov);
}
#endif
void tg_sgd_step_f64(int64_t n, double *restrict p, const double *restrict g, double *restrict buf,
                     double lr, double momentum, double weight_decay, int nesterov) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512:
            sgd_step_avx512_f64(n, p, g, buf, lr, momentum, weight_decay, nesterov);
            break;
        case TG_ISA_AVX2:
            sgd_step_avx2_f64(n, p, g, buf, lr, momentum, weight_decay, nesterov);
            break;
#endif
        default: sgd_step_loop_f64(n, p, g, buf, lr, momentum, weight_decay, nesterov);
    }
}

/* Adam: m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *       p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) */
TG_INLINE void adam_step_loop_f64(int64_t n, double *restrict p, const double *restrict g,
                                  double *restrict m, double *restrict v, double lr, double beta1,
                                  double beta2, double eps, double weight_decay, int64_t step) {
    const double lr_ = lr, b1 = beta1, b2 = beta2, eps_ = eps;
    const double one_minus_b1 = 1 - beta1, one_minus_b2 = 1 - beta2;
    const double wd = weight_decay;
    /* bias corrections */
    const double c1 = 1 - pow(beta1, (double)step);
    const double c2 = 1 - pow(beta2, (double)step);
    for (int64_t i = 0; i < n; i++) {
        const double gi = weight_decay != 0 ? g[i] + wd * p[i] : g[i];
        m[i] = m[i] * b1 + one_minus_b1 * gi;
        v[i] = v[i] * b2 + one_minus_b2 * gi * gi;
        const double mhat = m[i] / c1, vhat = v[i] / c2;
        p[i] -= lr_ * mhat / (sqrt(vhat) + eps_);
    }
}
#if TG_X86
TG_TARGET_AVX2 static void adam_step_avx2_f64(int64_t n, double *restrict p,
                                              const double *restrict g, double *restrict m,
                                              double *restrict v, double lr, double beta1,
                                              double beta2, double eps, double weight_decay,
                                              int64_t step) {
    adam_step_loop_f64(n, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step);
}
TG_TARGET_AVX512 static void adam_step_avx512_f64(int64_t n, double *restrict p,
                                                  const double *restrict g, double *restrict m,
                                                  double *restrict v, double lr, double beta1,
                                                  double beta2, double eps, double weight_decay,
                                                  int64_t step) {
    adam_step_loop_f64(n, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step);
}
#endif
void tg_adam_step_f64(int64_t n, double *restrict p, const double *restrict g, double *restrict m,
                      double *restrict v, double lr, double beta1, double beta2, double eps,
                      double weight_decay, int64_t step) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512:
            adam_step_avx512_f64(n, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step);
            break;
        case TG_ISA_AVX2:
            adam_step_avx2_f64(n, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step);
            break;
#endif
        default: adam_step_loop_f64(n, p, g, m, v, lr, beta1, beta2, eps, weight_decay, step);
    }
}

/* ---- many tensors in one call ----------------------------------------------------------------
 * One optimizer step over every parameter of a group: tensor j has sizes[j] elements at
 * params[j], its gradient at grads[j] and its state at bufs[j] (SGD; NULL when momentum == 0)
 * or ms[j], vs[j] (Adam). One call instead of one per parameter saves the Python and cffi
 * cost of a call per tensor (PyTorch's foreach optimizers do the same); the work per tensor is
 * exactly the single-tensor kernel above, so the two give identical results.
 * The single-tensor kernels are compiled with restrict: the arrays of one tensor must not
 * overlap. That is checked here, for all tensors before any is updated: the kernels return
 * -1 when they have updated every tensor, else the first j whose arrays overlap (and then
 * nothing was changed). Different tensors are updated one after the other, as separate calls
 * would, so they may overlap each other. */

/* Whether the n-element arrays at a and b share memory (addresses compared as integers). */
static int tg_overlap(const void *a, const void *b, int64_t n, int64_t elem) {
    const uintptr_t x = (uintptr_t)a, y = (uintptr_t)b, bytes = (uintptr_t)(n * elem);
    return n > 0 && x < y + bytes && y < x + bytes;
}

int64_t tg_sgd_step_many_f32(int64_t count, const int64_t *sizes, float *const *params,
                             const float *const *grads, float *const *bufs, double lr,
                             double momentum, double weight_decay, int nesterov) {
    const int64_t e = sizeof(float);
    for (int64_t j = 0; j < count; j++)
        if (tg_overlap(params[j], grads[j], sizes[j], e) ||
            (bufs != NULL && (tg_overlap(bufs[j], params[j], sizes[j], e) ||
                              tg_overlap(bufs[j], grads[j], sizes[j], e))))
            return j;
    for (int64_t j = 0; j < count; j++)
        tg_sgd_step_f32(sizes[j], params[j], grads[j], bufs != NULL ? bufs[j] : NULL, lr,
                        momentum, weight_decay, nesterov);
    return -1;
}

int64_t tg_adam_step_many_f32(int64_t count, const int64_t *sizes, float *const *params,
                              const float *const *grads, float *const *ms, float *const *vs,
                              double lr, double beta1, double beta2, double eps,
                              double weight_decay, int64_t step) {
    const int64_t e = sizeof(float);
    for (int64_t j = 0; j < count; j++) {
        const int64_t n = sizes[j];
        if (tg_overlap(params[j], grads[j], n, e) || tg_overlap(ms[j], params[j], n, e) ||
            tg_overlap(ms[j], grads[j], n, e) || tg_overlap(vs[j], params[j], n, e) ||
            tg_overlap(vs[j], grads[j], n, e) || tg_overlap(vs[j], ms[j], n, e))
            return j;
    }
    for (int64_t j = 0; j < count; j++)
        tg_adam_step_f32(sizes[j], params[j], grads[j], ms[j], vs[j], lr, beta1, beta2, eps,
                         weight_decay, step);
    return -1;
}

int64_t tg_sgd_step_many_f64(int64_t count, const int64_t *sizes, double *const *params,
                             const double *const *grads, double *const *bufs, double lr,
                             double momentum, double weight_decay, int nesterov) {
    const int64_t e = sizeof(double);
    for (int64_t j = 0; j < count; j++)
        if (tg_overlap(params[j], grads[j], sizes[j], e) ||
            (bufs != NULL && (tg_overlap(bufs[j], params[j], sizes[j], e) ||
                              tg_overlap(bufs[j], grads[j], sizes[j], e))))
            return j;
    for (int64_t j = 0; j < count; j++)
        tg_sgd_step_f64(sizes[j], params[j], grads[j], bufs != NULL ? bufs[j] : NULL, lr,
                        momentum, weight_decay, nesterov);
    return -1;
}

int64_t tg_adam_step_many_f64(int64_t count, const int64_t *sizes, double *const *params,
                              const double *const *grads, double *const *ms, double *const *vs,
                              double lr, double beta1, double beta2, double eps,
                              double weight_decay, int64_t step) {
    const int64_t e = sizeof(double);
    for (int64_t j = 0; j < count; j++) {
        const int64_t n = sizes[j];
        if (tg_overlap(params[j], grads[j], n, e) || tg_overlap(ms[j], params[j], n, e) ||
            tg_overlap(ms[j], grads[j], n, e) || tg_overlap(vs[j], params[j], n, e) ||
            tg_overlap(vs[j], grads[j], n, e) || tg_overlap(vs[j], ms[j], n, e))
            return j;
    }
    for (int64_t j = 0; j < count; j++)
        tg_adam_step_f64(sizes[j], params[j], grads[j], ms[j], vs[j], lr, beta1, beta2, eps,
                         weight_decay, step);
    return -1;
}
