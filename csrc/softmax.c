/* Softmax, log-softmax and the fused softmax cross-entropy, over the rows of (rows, cols)
 * (see kernels.h). For one row x with m = max_j x_j:
 *
 *   softmax       y_j = e^(x_j - m) / S,          S = sum_k e^(x_k - m)
 *   log_softmax   y_j = (x_j - m) - log S
 *   backward      softmax:      dx_j = y_j (dy_j - sum_k dy_k y_k)
 *                 log_softmax:  dx_j = dy_j - e^(y_j) sum_k dy_k
 *
 * Subtracting the max changes nothing mathematically (it cancels between numerator and S)
 * but keeps every exponent <= 0: e^(x - m) cannot overflow, and S >= 1 because the max
 * contributes e^0 = 1, so log S is finite.
 *
 * Precision: log_softmax subtracts m from x first and log S last. Rounding m + log S instead
 * would lose log S against a large m: three float logits of 1e7 would give -1 rather than
 * -log 3 = -1.0986, since the floats near 1e7 are 1 apart. The float kernels do this
 * arithmetic in double and round once. Row sums accumulate in double: it costs little and
 * keeps float rows of any length accurate.
 *
 * ISA: rows_loop (the four softmax kernels) and cross_entropy_loop are compiled once per ISA
 * (rows_avx2_f32, ...: see isa.h); the public kernels pick the copy of tg_get_isa().
 */
#include <math.h>
#include <stddef.h>

#include "isa.h"
#include "kernels.h"

enum { SOFTMAX, SOFTMAX_BACKWARD, LOG_SOFTMAX, LOG_SOFTMAX_BACKWARD };

/* ---- float ----------------------------------------------------------------------------------- */

TG_INLINE float row_max_f32(const float *x, int64_t cols) {
    float m = x[0];
    for (int64_t j = 1; j < cols; j++) m = x[j] > m ? x[j] : m;
    return m;
}

/* e[j] = e^(x[j] - max x) for one row; returns S = sum_j e[j] (in double) and the max in *max */
TG_INLINE double exp_shifted_row_f32(const float *x, float *e, int64_t cols, float *max) {
    const float m = row_max_f32(x, cols);
    double s = 0;
    for (int64_t j = 0; j < cols; j++) {
        e[j] = expf(x[j] - m);
        s += (double)e[j];
    }
    *max = m;
    return s;
}

/* softmax: y_j = e^(x_j - m) / S */
TG_INLINE void softmax_loop_f32(int64_t rows, int64_t cols, const float *x, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        float *yr = y + r * cols, m;
        const float inv = (float)(1 / exp_shifted_row_f32(x + r * cols, yr, cols, &m));
        for (int64_t j = 0; j < cols; j++) yr[j] *= inv;
    }
}

/* softmax backward: dx_j = y_j (dy_j - sum_k dy_k y_k) */
TG_INLINE void softmax_backward_loop_f32(int64_t rows, int64_t cols, const float *y,
                                         const float *dy, float *dx) {
    for (int64_t r = 0; r < rows; r++) {
        const float *yr = y + r * cols, *dyr = dy + r * cols;
        float *dxr = dx + r * cols;
        double dot = 0;
        for (int64_t j = 0; j < cols; j++) dot += (double)dyr[j] * (double)yr[j];
        const float d = (float)dot;
        for (int64_t j = 0; j < cols; j++) dxr[j] = yr[j] * (dyr[j] - d);
    }
}

/* log_softmax: y_j = (x_j - m) - log S, in that order and in double, rounded once. */
TG_INLINE void log_softmax_loop_f32(int64_t rows, int64_t cols, const float *x, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        const float m = row_max_f32(xr, cols);
        double s = 0;
        for (int64_t j = 0; j < cols; j++) s += (double)expf(xr[j] - m);
        const double log_s = log(s); /* S >= 1, so log S >= 0 is finite */
        for (int64_t j = 0; j < cols; j++) yr[j] = (float)(((double)xr[j] - (double)m) - log_s);
    }
}

/* log_softmax backward: dx_j = dy_j - e^(y_j) sum_k dy_k */
TG_INLINE void log_softmax_backward_loop_f32(int64_t rows, int64_t cols, const float *y,
                                             const float *dy, float *dx) {
    for (int64_t r = 0; r < rows; r++) {
        const float *yr = y + r * cols, *dyr = dy + r * cols;
        float *dxr = dx + r * cols;
        double s = 0;
        for (int64_t j = 0; j < cols; j++) s += (double)dyr[j];
        const float sum_dy = (float)s;
        for (int64_t j = 0; j < cols; j++) dxr[j] = dyr[j] - expf(yr[j]) * sum_dy;
    }
}

/* Mean cross-entropy over B rows and its gradient, one row at a time:
 *   loss_r = -log softmax(x_r)[label_r] = (m - x_r[label_r]) + log S
 *   dlogits_r = (softmax(x_r) - onehot(label_r)) / B
 * Returns -1, or the first row whose label is outside [0, C) (checked before any work, since
 * such a label would index out of bounds). B must be > 0. */
TG_INLINE int64_t cross_entropy_loop_f32(int64_t B, int64_t C, const float *logits,
                                         const int64_t *labels, float *loss, float *dlogits) {
    for (int64_t r = 0; r < B; r++)
        if (labels[r] < 0 || labels[r] >= C) return r;
    double total = 0;
    const float inv_b = (float)(1.0 / (double)B);
    for (int64_t r = 0; r < B; r++) {
        const float *xr = logits + r * C;
        float *gr = dlogits + r * C, m;
        const double s = exp_shifted_row_f32(xr, gr, C, &m);
        total += ((double)m - (double)xr[labels[r]]) + log(s);
        const float scale = (float)(1 / s) * inv_b; /* softmax / B */
        for (int64_t j = 0; j < C; j++) gr[j] *= scale;
        gr[labels[r]] -= inv_b;
    }
    loss[0] = (float)(total / (double)B);
    return -1;
}

/* The four kernels above, one per `f`: y = softmax(x), log_softmax(x) (dy unused), or their
 * backwards from y and dy */
TG_INLINE void rows_loop_f32(int f, int64_t rows, int64_t cols, const float *x, const float *dy,
                             float *out) {
    switch (f) {
        case SOFTMAX: softmax_loop_f32(rows, cols, x, out); break;
        case SOFTMAX_BACKWARD: softmax_backward_loop_f32(rows, cols, x, dy, out); break;
        case LOG_SOFTMAX: log_softmax_loop_f32(rows, cols, x, out); break;
        default: log_softmax_backward_loop_f32(rows, cols, x, dy, out);
    }
}
#if TG_X86
TG_TARGET_AVX2 static void rows_avx2_f32(int f, int64_t rows, int64_t cols, const float *x,
                                         const float *dy, float *out) {
    rows_loop_f32(f, rows, cols, x, dy, out);
}
TG_TARGET_AVX512 static void rows_avx512_f32(int f, int64_t rows, int64_t cols, const float *x,
                                             const float *dy, float *out) {
    rows_loop_f32(f, rows, cols, x, dy, out);
}
TG_TARGET_AVX2 static int64_t cross_entropy_avx2_f32(int64_t B, int64_t C, const float *logits,
                                                     const int64_t *labels, float *loss,
                                                     float *dlogits) {
    return cross_entropy_loop_f32(B, C, logits, labels, loss, dlogits);
}
TG_TARGET_AVX512 static int64_t cross_entropy_avx512_f32(int64_t B, int64_t C, const float *logits,
                                                         const int64_t *labels, float *loss,
                                                         float *dlogits) {
    return cross_entropy_loop_f32(B, C, logits, labels, loss, dlogits);
}
#endif
static void rows_f32(int f, int64_t rows, int64_t cols, const float *x, const float *dy,
                     float *out) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: rows_avx512_f32(f, rows, cols, x, dy, out); break;
        case TG_ISA_AVX2: rows_avx2_f32(f, rows, cols, x, dy, out); break;
#endif
        default: rows_loop_f32(f, rows, cols, x, dy, out);
    }
}

void tg_softmax_f32(int64_t rows, int64_t cols, const float *x, float *y) {
    rows_f32(SOFTMAX, rows, cols, x, NULL, y);
}
void tg_softmax_backward_f32(int64_t rows, int64_t cols, const float *y, const float *dy,
                             float *dx) {
    rows_f32(SOFTMAX_BACKWARD, rows, cols, y, dy, dx);
}
void tg_log_softmax_f32(int64_t rows, int64_t cols, const float *x, float *y) {
    rows_f32(LOG_SOFTMAX, rows, cols, x, NULL, y);
}
void tg_log_softmax_backward_f32(int64_t rows, int64_t cols, const float *y, const float *dy,
                                 float *dx) {
    rows_f32(LOG_SOFTMAX_BACKWARD, rows, cols, y, dy, dx);
}
int64_t tg_cross_entropy_f32(int64_t B, int64_t C, const float *logits, const int64_t *labels,
                             float *loss, float *dlogits) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: return cross_entropy_avx512_f32(B, C, logits, labels, loss, dlogits);
        case TG_ISA_AVX2: return cross_entropy_avx2_f32(B, C, logits, labels, loss, dlogits);
#endif
        default: return cross_entropy_loop_f32(B, C, logits, labels, loss, dlogits);
    }
}

/* ---- double ---------------------------------------------------------------------------------- */

TG_INLINE double row_max_f64(const double *x, int64_t cols) {
    double m = x[0];
    for (int64_t j = 1; j < cols; j++) m = x[j] > m ? x[j] : m;
    return m;
}

/* e[j] = e^(x[j] - max x) for one row; returns S = sum_j e[j] and the max in *max */
TG_INLINE double exp_shifted_row_f64(const double *x, double *e, int64_t cols, double *max) {
    const double m = row_max_f64(x, cols);
    double s = 0;
    for (int64_t j = 0; j < cols; j++) {
        e[j] = exp(x[j] - m);
        s += e[j];
    }
    *max = m;
    return s;
}

/* softmax: y_j = e^(x_j - m) / S */
TG_INLINE void softmax_loop_f64(int64_t rows, int64_t cols, const double *x, double *y) {
    for (int64_t r = 0; r < rows; r++) {
        double *yr = y + r * cols, m;
        const double inv = 1 / exp_shifted_row_f64(x + r * cols, yr, cols, &m);
        for (int64_t j = 0; j < cols; j++) yr[j] *= inv;
    }
}

/* softmax backward: dx_j = y_j (dy_j - sum_k dy_k y_k) */
TG_INLINE void softmax_backward_loop_f64(int64_t rows, int64_t cols, const double *y,
                                         const double *dy, double *dx) {
    for (int64_t r = 0; r < rows; r++) {
        const double *yr = y + r * cols, *dyr = dy + r * cols;
        double *dxr = dx + r * cols;
        double dot = 0;
        for (int64_t j = 0; j < cols; j++) dot += dyr[j] * yr[j];
        const double d = dot;
        for (int64_t j = 0; j < cols; j++) dxr[j] = yr[j] * (dyr[j] - d);
    }
}

/* log_softmax: y_j = (x_j - m) - log S, in that order. */
TG_INLINE void log_softmax_loop_f64(int64_t rows, int64_t cols, const double *x, double *y) {
    for (int64_t r = 0; r < rows; r++) {
        const double *xr = x + r * cols;
        double *yr = y + r * cols;
        const double m = row_max_f64(xr, cols);
        double s = 0;
        for (int64_t j = 0; j < cols; j++) s += exp(xr[j] - m);
        const double log_s = log(s); /* S >= 1, so log S >= 0 is finite */
        for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] - m) - log_s;
    }
}

/* log_softmax backward: dx_j = dy_j - e^(y_j) sum_k dy_k */
TG_INLINE void log_softmax_backward_loop_f64(int64_t rows, int64_t cols, const double *y,
                                             const double *dy, double *dx) {
    for (int64_t r = 0; r < rows; r++) {
        const double *yr = y + r * cols, *dyr = dy + r * cols;
        double *dxr = dx + r * cols;
        double s = 0;
        for (int64_t j = 0; j < cols; j++) s += dyr[j];
        const double sum_dy = s;
        for (int64_t j = 0; j < cols; j++) dxr[j] = dyr[j] - exp(yr[j]) * sum_dy;
    }
}

/* Mean cross-entropy over B rows and its gradient, one row at a time:
 *   loss_r = -log softmax(x_r)[label_r] = (m - x_r[label_r]) + log S
 *   dlogits_r = (softmax(x_r) - onehot(label_r)) / B
 * Returns -1, or the first row whose label is outside [0, C) (checked before any work, since
 * such a label would index out of bounds). B must be > 0. */
TG_INLINE int64_t cross_entropy_loop_f64(int64_t B, int64_t C, const double *logits,
                                         const int64_t *labels, double *loss, double *dlogits) {
    for (int64_t r = 0; r < B; r++)
        if (labels[r] < 0 || labels[r] >= C) return r;
    double total = 0;
    const double inv_b = 1.0 / B;
    for (int64_t r = 0; r < B; r++) {
        const double *xr = logits + r * C;
        double *gr = dlogits + r * C, m;
        const double s = exp_shifted_row_f64(xr, gr, C, &m);
        total += (m - xr[labels[r]]) + log(s);
        const double scale = 1 / s * inv_b; /* softmax / B */
        for (int64_t j = 0; j < C; j++) gr[j] *= scale;
        gr[labels[r]] -= inv_b;
    }
    loss[0] = total / B;
    return -1;
}

/* The four kernels above, one per `f`: y = softmax(x), log_softmax(x) (dy unused), or their
 * backwards from y and dy */
TG_INLINE void rows_loop_f64(int f, int64_t rows, int64_t cols, const double *x, const double *dy,
                             double *out) {
    switch (f) {
        case SOFTMAX: softmax_loop_f64(rows, cols, x, out); break;
        case SOFTMAX_BACKWARD: softmax_backward_loop_f64(rows, cols, x, dy, out); break;
        case LOG_SOFTMAX: log_softmax_loop_f64(rows, cols, x, out); break;
        default: log_softmax_backward_loop_f64(rows, cols, x, dy, out);
    }
}
#if TG_X86
TG_TARGET_AVX2 static void rows_avx2_f64(int f, int64_t rows, int64_t cols, const double *x,
                                         const double *dy, double *out) {
    rows_loop_f64(f, rows, cols, x, dy, out);
}
TG_TARGET_AVX512 static void rows_avx512_f64(int f, int64_t rows, int64_t cols, const double *x,
                                             const double *dy, double *out) {
    rows_loop_f64(f, rows, cols, x, dy, out);
}
TG_TARGET_AVX2 static int64_t cross_entropy_avx2_f64(int64_t B, int64_t C, const double *logits,
                                                     const int64_t *labels, double *loss,
                                                     double *dlogits) {
    return cross_entropy_loop_f64(B, C, logits, labels, loss, dlogits);
}
TG_TARGET_AVX512 static int64_t cross_entropy_avx512_f64(int64_t B, int64_t C, const double *logits,
                                                         const int64_t *labels, double *loss,
                                                         double *dlogits) {
    return cross_entropy_loop_f64(B, C, logits, labels, loss, dlogits);
}
#endif
static void rows_f64(int f, int64_t rows, int64_t cols, const double *x, const double *dy,
                     double *out) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: rows_avx512_f64(f, rows, cols, x, dy, out); break;
        case TG_ISA_AVX2: rows_avx2_f64(f, rows, cols, x, dy, out); break;
#endif
        default: rows_loop_f64(f, rows, cols, x, dy, out);
    }
}

void tg_softmax_f64(int64_t rows, int64_t cols, const double *x, double *y) {
    rows_f64(SOFTMAX, rows, cols, x, NULL, y);
}
void tg_softmax_backward_f64(int64_t rows, int64_t cols, const double *y, const double *dy,
                             double *dx) {
    rows_f64(SOFTMAX_BACKWARD, rows, cols, y, dy, dx);
}
void tg_log_softmax_f64(int64_t rows, int64_t cols, const double *x, double *y) {
    rows_f64(LOG_SOFTMAX, rows, cols, x, NULL, y);
}
void tg_log_softmax_backward_f64(int64_t rows, int64_t cols, const double *y, const double *dy,
                                 double *dx) {
    rows_f64(LOG_SOFTMAX_BACKWARD, rows, cols, y, dy, dx);
}
int64_t tg_cross_entropy_f64(int64_t B, int64_t C, const double *logits, const int64_t *labels,
                             double *loss, double *dlogits) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: return cross_entropy_avx512_f64(B, C, logits, labels, loss, dlogits);
        case TG_ISA_AVX2: return cross_entropy_avx2_f64(B, C, logits, labels, loss, dlogits);
#endif
        default: return cross_entropy_loop_f64(B, C, logits, labels, loss, dlogits);
    }
}
