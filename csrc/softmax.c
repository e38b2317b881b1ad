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
 */
#include <math.h>

#include "kernels.h"
#include "vectorize.h"

/* ---- float ----------------------------------------------------------------------------------- */

static float row_max_f32(const float *x, int64_t cols) {
    float m = x[0];
    for (int64_t j = 1; j < cols; j++) m = x[j] > m ? x[j] : m;
    return m;
}

/* e[j] = e^(x[j] - max x) for one row; returns S = sum_j e[j] (in double) and the max in *max */
static double exp_shifted_row_f32(const float *x, float *e, int64_t cols, float *max) {
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
TG_VECTORIZE
void tg_softmax_f32(int64_t rows, int64_t cols, const float *x, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        float *yr = y + r * cols, m;
        const float inv = (float)(1 / exp_shifted_row_f32(x + r * cols, yr, cols, &m));
        for (int64_t j = 0; j < cols; j++) yr[j] *= inv;
    }
}

/* softmax backward: dx_j = y_j (dy_j - sum_k dy_k y_k) */
TG_VECTORIZE
void tg_softmax_backward_f32(int64_t rows, int64_t cols, const float *y, const float *dy,
                             float *dx) {
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
TG_VECTORIZE
void tg_log_softmax_f32(int64_t rows, int64_t cols, const float *x, float *y) {
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
TG_VECTORIZE
void tg_log_softmax_backward_f32(int64_t rows, int64_t cols, const float *y, const float *dy,
                                 float *dx) {
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
TG_VECTORIZE
int64_t tg_cross_entropy_f32(int64_t B, int64_t C, const float *logits, const int64_t *labels,
                             float *loss, float *dlogits) {
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

/* ---- double ---------------------------------------------------------------------------------- */

static double row_max_f64(const double *x, int64_t cols) {
    double m = x[0];
    for (int64_t j = 1; j < cols; j++) m = x[j] > m ? x[j] : m;
    return m;
}

/* e[j] = e^(x[j] - max x) for one row; returns S = sum_j e[j] and the max in *max */
static double exp_shifted_row_f64(const double *x, double *e, int64_t cols, double *max) {
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
TG_VECTORIZE
void tg_softmax_f64(int64_t rows, int64_t cols, const double *x, double *y) {
    for (int64_t r = 0; r < rows; r++) {
        double *yr = y + r * cols, m;
        const double inv = 1 / exp_shifted_row_f64(x + r * cols, yr, cols, &m);
        for (int64_t j = 0; j < cols; j++) yr[j] *= inv;
    }
}

/* softmax backward: dx_j = y_j (dy_j - sum_k dy_k y_k) */
TG_VECTORIZE
void tg_softmax_backward_f64(int64_t rows, int64_t cols, const double *y, const double *dy,
                             double *dx) {
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
TG_VECTORIZE
void tg_log_softmax_f64(int64_t rows, int64_t cols, const double *x, double *y) {
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
TG_VECTORIZE
void tg_log_softmax_backward_f64(int64_t rows, int64_t cols, const double *y, const double *dy,
                                 double *dx) {
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
TG_VECTORIZE
int64_t tg_cross_entropy_f64(int64_t B, int64_t C, const double *logits, const int64_t *labels,
                             double *loss, double *dlogits) {
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
