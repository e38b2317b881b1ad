/* y = a ** b elementwise, with a tensor exponent, and its backward (see kernels.h).
 *
 * The power is computed directly by pow(), never as exp(b log a): so (-2) ** 3 = -8,
 * (-2) ** -2 = 0.25 and 0 ** 0 = 1, as in torch (a negative base with a fractional exponent
 * is NaN, as there). The gradients follow torch's conventions where the formula is 0 * inf:
 *
 *   da = g b a^(b-1),   but 0 where b == 0         (a^0 = 1 does not depend on a)
 *   db = g y log a,     but 0 where a == 0, b >= 0 (0^b is 0 or 1 there, flat in b)
 *
 * (db is NaN for a < 0, where log a is, as in torch.) da or db may be NULL: not needed.
 * All arrays have n elements (the wrapper broadcasts the operands first). */
#include <math.h>

#include "kernels.h"

void tg_pow_tensor_f32(int64_t n, const float *a, const float *b, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = powf(a[i], b[i]);
}

void tg_pow_tensor_f64(int64_t n, const double *a, const double *b, double *y) {
    for (int64_t i = 0; i < n; i++) y[i] = pow(a[i], b[i]);
}

void tg_pow_tensor_backward_f32(int64_t n, const float *a, const float *b, const float *y,
                                const float *g, float *da, float *db) {
    if (da)
        for (int64_t i = 0; i < n; i++)
            da[i] = b[i] == 0 ? 0.0f : g[i] * b[i] * powf(a[i], b[i] - 1.0f);
    if (db)
        for (int64_t i = 0; i < n; i++)
            db[i] = (a[i] == 0 && b[i] >= 0) ? 0.0f : g[i] * y[i] * logf(a[i]);
}

void tg_pow_tensor_backward_f64(int64_t n, const double *a, const double *b, const double *y,
                                const double *g, double *da, double *db) {
    if (da)
        for (int64_t i = 0; i < n; i++)
            da[i] = b[i] == 0 ? 0.0 : g[i] * b[i] * pow(a[i], b[i] - 1.0);
    if (db)
        for (int64_t i = 0; i < n; i++)
            db[i] = (a[i] == 0 && b[i] >= 0) ? 0.0 : g[i] * y[i] * log(a[i]);
}
