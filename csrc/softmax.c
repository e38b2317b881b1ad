/* Softmax, log-softmax and the fused softmax cross-entropy, over the rows of (rows, cols)
 * (see kernels.h). For one row x with m = max_j x_j:
 *
 *   softmax       y_j = e^(x_j - m) / S,          S = sum_k e^(x_k - m)
 *   log_softmax   y_j = x_j - m - log S
 *   backward      softmax:      dx_j = y_j (dy_j - sum_k dy_k y_k)
 *                 log_softmax:  dx_j = dy_j - e^(y_j) sum_k dy_k
 *
 * Subtracting the max changes nothing mathematically (it cancels between numerator and S)
 * but keeps every exponent <= 0: e^(x - m) cannot overflow, and S >= 1 because the max
 * contributes e^0 = 1, so log S is finite. Logits of +-1e4 are therefore fine.
 *
 * Row sums accumulate in double: it costs little and keeps float rows of any length accurate.
 */
#include <math.h>

#include "kernels.h"
#include "vectorize.h"

#define DEFINE_SOFTMAX(T, SUF, EXP)                                                             \
    static T row_max_##SUF(const T *x, int64_t cols) {                                          \
        T m = x[0];                                                                             \
        for (int64_t j = 1; j < cols; j++) m = x[j] > m ? x[j] : m;                             \
        return m;                                                                               \
    }                                                                                           \
    /* e[j] = exp(x[j] - max x) for one row; returns sum e in double and the max in *max */     \
    static double exp_shifted_row_##SUF(const T *x, T *e, int64_t cols, T *max) {               \
        const T m = row_max_##SUF(x, cols);                                                     \
        double s = 0;                                                                           \
        for (int64_t j = 0; j < cols; j++) {                                                    \
            e[j] = EXP(x[j] - m);                                                               \
            s += (double)e[j];                                                                  \
        }                                                                                       \
        *max = m;                                                                               \
        return s;                                                                               \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_softmax_##SUF(int64_t rows, int64_t cols, const T *x, T *y) {                       \
        for (int64_t r = 0; r < rows; r++) {                                                    \
            T *yr = y + r * cols, m;                                                            \
            const T inv = (T)(1 / exp_shifted_row_##SUF(x + r * cols, yr, cols, &m));           \
            for (int64_t j = 0; j < cols; j++) yr[j] *= inv;                                    \
        }                                                                                       \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_softmax_backward_##SUF(int64_t rows, int64_t cols, const T *y, const T *dy,         \
                                   T *dx) {                                                     \
        for (int64_t r = 0; r < rows; r++) {                                                    \
            const T *yr = y + r * cols, *dyr = dy + r * cols;                                   \
            T *dxr = dx + r * cols;                                                             \
            double dot = 0;                                                                     \
            for (int64_t j = 0; j < cols; j++) dot += (double)dyr[j] * (double)yr[j];           \
            const T d = (T)dot;                                                                 \
            for (int64_t j = 0; j < cols; j++) dxr[j] = yr[j] * (dyr[j] - d);                   \
        }                                                                                       \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_log_softmax_##SUF(int64_t rows, int64_t cols, const T *x, T *y) {                   \
        for (int64_t r = 0; r < rows; r++) {                                                    \
            const T *xr = x + r * cols;                                                         \
            T *yr = y + r * cols;                                                               \
            const T m = row_max_##SUF(xr, cols);                                                \
            double s = 0;                                                                       \
            for (int64_t j = 0; j < cols; j++) s += (double)EXP(xr[j] - m);                     \
            const T shift = m + (T)log(s); /* log S, with S >= 1 */                             \
            for (int64_t j = 0; j < cols; j++) yr[j] = xr[j] - shift;                           \
        }                                                                                       \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_log_softmax_backward_##SUF(int64_t rows, int64_t cols, const T *y, const T *dy,     \
                                       T *dx) {                                                 \
        for (int64_t r = 0; r < rows; r++) {                                                    \
            const T *yr = y + r * cols, *dyr = dy + r * cols;                                   \
            T *dxr = dx + r * cols;                                                             \
            double s = 0;                                                                       \
            for (int64_t j = 0; j < cols; j++) s += (double)dyr[j];                             \
            const T sum_dy = (T)s;                                                              \
            for (int64_t j = 0; j < cols; j++) dxr[j] = dyr[j] - EXP(yr[j]) * sum_dy;           \
        }                                                                                       \
    }                                                                                           \
    /* Mean cross-entropy over B rows and its gradient, one row at a time:                      \
     *   loss_r = -log softmax(x_r)[label_r] = m + log S - x_r[label_r]                         \
     *   dlogits_r = (softmax(x_r) - onehot(label_r)) / B                                       \
     * Returns -1, or the first row whose label is outside [0, C) (checked before any           \
     * work). B must be > 0. */                                                                 \
    TG_VECTORIZE                                                                              \
    int64_t tg_cross_entropy_##SUF(int64_t B, int64_t C, const T *logits,                     \
                                   const int64_t *labels, T *loss, T *dlogits) {                \
        for (int64_t r = 0; r < B; r++) /* a label outside [0, C) would index out of bounds */ \
            if (labels[r] < 0 || labels[r] >= C) return r;                                      \
        double total = 0;                                                                       \
        const T inv_b = (T)(1.0 / (double)B);                                                   \
        for (int64_t r = 0; r < B; r++) {                                                       \
            const T *xr = logits + r * C;                                                       \
            T *gr = dlogits + r * C, m;                                                         \
            const double s = exp_shifted_row_##SUF(xr, gr, C, &m);                              \
            total += (double)m + log(s) - (double)xr[labels[r]];                                \
            const T scale = (T)(1 / s) * inv_b; /* softmax / B */                               \
            for (int64_t j = 0; j < C; j++) gr[j] *= scale;                                     \
            gr[labels[r]] -= inv_b;                                                             \
        }                                                                                       \
        loss[0] = (T)(total / (double)B);                                                       \
        return -1;                                                                              \
    }

DEFINE_SOFTMAX(float, f32, expf)
DEFINE_SOFTMAX(double, f64, exp)
