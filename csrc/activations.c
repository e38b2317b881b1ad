/* Activation functions, each forward next to its backward (see kernels.h).
 *
 *   sigmoid     y = 1 / (1 + e^-x)          dx = dy * y (1 - y)        from the output y
 *   tanh        y = tanh x                  dx = dy * (1 - y^2)        from the output y
 *   relu        y = max(x, 0)               dx = dy * [x > 0]          from the input x
 *   leaky_relu  y = x if x > 0 else s x     dx = dy if x > 0 else s dy from the input x
 *
 * sigmoid and tanh have derivatives in terms of their output, so backward needs only y. */
#include <math.h>

#include "kernels.h"
#include "vectorize.h"

#define DEFINE_ACTIVATIONS(T, SUF, EXP, TANH, ABS)                                              \
    /* For x >= 0 use 1 / (1 + e^-x); for x < 0 the equal form e^x / (1 + e^x). Either way      \
     * e^ sees only -|x| <= 0, so it cannot overflow, and y keeps its relative precision        \
     * near 0 instead of rounding 1 - tiny to 1. */                                             \
    TG_VECTORIZE                                                                                \
    void tg_sigmoid_##SUF(int64_t n, const T *x, T *y) {                                        \
        for (int64_t i = 0; i < n; i++) {                                                       \
            const T e = EXP(-ABS(x[i]));                                                        \
            y[i] = x[i] >= 0 ? 1 / (1 + e) : e / (1 + e);                                       \
        }                                                                                       \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_sigmoid_backward_##SUF(int64_t n, const T *y, const T *dy, T *dx) {                 \
        for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);                      \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_tanh_##SUF(int64_t n, const T *x, T *y) {                                           \
        for (int64_t i = 0; i < n; i++) y[i] = TANH(x[i]);                                      \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_tanh_backward_##SUF(int64_t n, const T *y, const T *dy, T *dx) {                    \
        for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);                      \
    }                                                                                           \
    /* `x < 0 ? 0 : x` rather than `x > 0 ? x : 0` so that NaN passes through, as NumPy's       \
     * maximum(x, 0) does: a NaN must not be silently turned into a clean 0. */                 \
    TG_VECTORIZE                                                                                \
    void tg_relu_##SUF(int64_t n, const T *x, T *y) {                                           \
        for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0 ? 0 : x[i];                             \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_relu_backward_##SUF(int64_t n, const T *x, const T *dy, T *dx) {                    \
        for (int64_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : 0;                           \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_leaky_relu_##SUF(int64_t n, const T *x, T slope, T *y) {                            \
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : x[i] * slope;                  \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_leaky_relu_backward_##SUF(int64_t n, const T *x, const T *dy, T slope, T *dx) {     \
        for (int64_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : dy[i] * slope;               \
    }

DEFINE_ACTIVATIONS(float, f32, expf, tanhf, fabsf)
DEFINE_ACTIVATIONS(double, f64, exp, tanh, fabs)
