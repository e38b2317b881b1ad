/* Gathering rows of a table by index, and its backward, the scatter-add (see kernels.h).
 *
 * Indexing a tensor with integer tensors, x[i0, i1, ...], picks whole rows of x viewed as a
 * table (rows, cols): rows = the product of the indexed dims, cols = the product of the rest,
 * and the row numbers are the flattened indices (Tensor.__getitem__ computes them and checks
 * that 0 <= rows[j] < n_rows). logp[range(B), y] is the case cols = 1.
 *
 *   forward:   out[j][c] = x[rows[j]][c]                for j < n, c < cols
 *   backward:  dx[r][c]  = sum over j with rows[j] == r of g[j][c]
 *
 * An index may repeat (x[[0, 0]]), so the backward adds rather than stores. */
#include <string.h>

#include "kernels.h"

void tg_gather_rows_f32(int64_t n, int64_t cols, const float *x, const int64_t *rows,
                        float *out) {
    for (int64_t j = 0; j < n; j++)
        memcpy(out + j * cols, x + rows[j] * cols, (size_t)cols * sizeof(float));
}

void tg_gather_rows_f64(int64_t n, int64_t cols, const double *x, const int64_t *rows,
                        double *out) {
    for (int64_t j = 0; j < n; j++)
        memcpy(out + j * cols, x + rows[j] * cols, (size_t)cols * sizeof(double));
}

void tg_scatter_add_rows_f32(int64_t n, int64_t cols, int64_t n_rows, const float *g,
                             const int64_t *rows, float *dx) {
    memset(dx, 0, (size_t)(n_rows * cols) * sizeof(float));
    for (int64_t j = 0; j < n; j++) {
        float *d = dx + rows[j] * cols;
        const float *gj = g + j * cols;
        for (int64_t c = 0; c < cols; c++) d[c] += gj[c];
    }
}

void tg_scatter_add_rows_f64(int64_t n, int64_t cols, int64_t n_rows, const double *g,
                             const int64_t *rows, double *dx) {
    memset(dx, 0, (size_t)(n_rows * cols) * sizeof(double));
    for (int64_t j = 0; j < n; j++) {
        double *d = dx + rows[j] * cols;
        const double *gj = g + j * cols;
        for (int64_t c = 0; c < cols; c++) d[c] += gj[c];
    }
}
