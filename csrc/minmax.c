/* max/min along one axis, with the index of each pick, and their backward (see kernels.h).
 *
 * x is viewed as (outer, n, inner): for shape (d0, ..., d_last) and axis a, outer = d0 * ...
 * * d(a-1), n = d_a >= 1, inner = d(a+1) * ... * d_last. For every (o, i):
 *
 *   idx[o][i] = the first k in [0, n) with x[o][k][i] largest (argmax) or smallest (argmin)
 *   val[o][i] = x[o][idx[o][i]][i]
 *
 * A NaN counts as larger and smaller than every number, and the first NaN wins: the same
 * picks as np.argmax / np.argmin and torch.max / torch.min.
 *
 * Backward (tg_select_dim_backward, for both): the output took one element of each slice,
 * so the gradient goes back to that element alone:
 *
 *   dx[o][k][i] = g[o][i] if k == idx[o][i], else 0
 *
 * The loops run over k outside i, so each step reads one contiguous row of inner values. */
#include <math.h>

#include "kernels.h"

void tg_argmax_f32(int64_t outer, int64_t n, int64_t inner, const float *x, float *val,
                   int64_t *idx) {
    for (int64_t o = 0; o < outer; o++) {
        const float *xo = x + o * n * inner;
        float *vo = val + o * inner;
        int64_t *io = idx + o * inner;
        for (int64_t i = 0; i < inner; i++) {
            vo[i] = xo[i];
            io[i] = 0;
        }
        for (int64_t k = 1; k < n; k++) {
            const float *row = xo + k * inner;
            for (int64_t i = 0; i < inner; i++) {
                if (!isnan(vo[i]) && (row[i] > vo[i] || isnan(row[i]))) {
                    vo[i] = row[i];
                    io[i] = k;
                }
            }
        }
    }
}

void tg_argmax_f64(int64_t outer, int64_t n, int64_t inner, const double *x, double *val,
                   int64_t *idx) {
    for (int64_t o = 0; o < outer; o++) {
        const double *xo = x + o * n * inner;
        double *vo = val + o * inner;
        int64_t *io = idx + o * inner;
        for (int64_t i = 0; i < inner; i++) {
            vo[i] = xo[i];
            io[i] = 0;
        }
        for (int64_t k = 1; k < n; k++) {
            const double *row = xo + k * inner;
            for (int64_t i = 0; i < inner; i++) {
                if (!isnan(vo[i]) && (row[i] > vo[i] || isnan(row[i]))) {
                    vo[i] = row[i];
                    io[i] = k;
                }
            }
        }
    }
}

void tg_argmin_f32(int64_t outer, int64_t n, int64_t inner, const float *x, float *val,
                   int64_t *idx) {
    for (int64_t o = 0; o < outer; o++) {
        const float *xo = x + o * n * inner;
        float *vo = val + o * inner;
        int64_t *io = idx + o * inner;
        for (int64_t i = 0; i < inner; i++) {
            vo[i] = xo[i];
            io[i] = 0;
        }
        for (int64_t k = 1; k < n; k++) {
            const float *row = xo + k * inner;
            for (int64_t i = 0; i < inner; i++) {
                if (!isnan(vo[i]) && (row[i] < vo[i] || isnan(row[i]))) {
                    vo[i] = row[i];
                    io[i] = k;
                }
            }
        }
    }
}

void tg_argmin_f64(int64_t outer, int64_t n, int64_t inner, const double *x, double *val,
                   int64_t *idx) {
    for (int64_t o = 0; o < outer; o++) {
        const double *xo = x + o * n * inner;
        double *vo = val + o * inner;
        int64_t *io = idx + o * inner;
        for (int64_t i = 0; i < inner; i++) {
            vo[i] = xo[i];
            io[i] = 0;
        }
        for (int64_t k = 1; k < n; k++) {
            const double *row = xo + k * inner;
            for (int64_t i = 0; i < inner; i++) {
                if (!isnan(vo[i]) && (row[i] < vo[i] || isnan(row[i]))) {
                    vo[i] = row[i];
                    io[i] = k;
                }
            }
        }
    }
}

void tg_select_dim_backward_f32(int64_t outer, int64_t n, int64_t inner, const int64_t *idx,
                                const float *g, float *dx) {
    for (int64_t j = 0; j < outer * n * inner; j++) dx[j] = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++)
            dx[(o * n + idx[o * inner + i]) * inner + i] = g[o * inner + i];
}

void tg_select_dim_backward_f64(int64_t outer, int64_t n, int64_t inner, const int64_t *idx,
                                const double *g, double *dx) {
    for (int64_t j = 0; j < outer * n * inner; j++) dx[j] = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++)
            dx[(o * n + idx[o * inner + i]) * inner + i] = g[o * inner + i];
}
