/* Elementwise arithmetic: out[i] = f(a[i]) or a[i] OP b[...]  (see kernels.h).
 *
 * Binary ops come in the four layouts broadcasting needs most in an MLP:
 *   same shape   out[i]    = a[i]    OP b[i]       (n,)   OP (n,)
 *   row          out[i][j] = a[i][j] OP row[j]     (M,N)  OP (N,)    e.g. x + bias
 *   column       out[i][j] = a[i][j] OP col[i]     (M,N)  OP (M,1)   e.g. x / row_sums
 *   scalar       out[i]    = a[i]    OP s          (n,)   OP ()
 * `a` is always the full-size operand. When the small operand stands on the left (b - A,
 * 1 / A) the caller passes TG_RSUB / TG_RDIV, which swap the operands inside the loop.
 *
 * The switch on `op` sits outside the loops (SWITCH_OP below), so every loop body is one
 * fixed expression that the compiler can vectorise. SWITCH_OP and the *_LOOP macros only
 * stamp out those loop bodies; every kernel below is a plain function grep finds. */
#include <math.h>

#include "kernels.h"
#include "vectorize.h"

/* Expand LOOP once per op code. Inside LOOP, x is the element of a and y the one of b. */
#define SWITCH_OP(op, LOOP, T)                                                                  \
    switch (op) {                                                                               \
        case TG_ADD: LOOP(T, x + y); break;                                                     \
        case TG_SUB: LOOP(T, x - y); break;                                                     \
        case TG_MUL: LOOP(T, x * y); break;                                                     \
        case TG_DIV: LOOP(T, x / y); break;                                                     \
        case TG_RSUB: LOOP(T, y - x); break;                                                    \
        case TG_RDIV: LOOP(T, y / x); break;                                                    \
        default: break;                                                                         \
    }

#define SAME_SHAPE_LOOP(T, EXPR)                                                                \
    for (int64_t i = 0; i < n; i++) {                                                           \
        const T x = a[i], y = b[i];                                                             \
        out[i] = EXPR;                                                                          \
    }

#define ROW_LOOP(T, EXPR)                                                                       \
    for (int64_t i = 0; i < M; i++) {                                                           \
        const T *ai = a + i * N;                                                                \
        T *oi = out + i * N;                                                                    \
        for (int64_t j = 0; j < N; j++) {                                                       \
            const T x = ai[j], y = row[j];                                                      \
            oi[j] = EXPR;                                                                       \
        }                                                                                       \
    }

#define COL_LOOP(T, EXPR)                                                                       \
    for (int64_t i = 0; i < M; i++) {                                                           \
        const T *ai = a + i * N;                                                                \
        T *oi = out + i * N;                                                                    \
        const T y = col[i];                                                                     \
        for (int64_t j = 0; j < N; j++) {                                                       \
            const T x = ai[j];                                                                  \
            oi[j] = EXPR;                                                                       \
        }                                                                                       \
    }

#define SCALAR_LOOP(T, EXPR)                                                                    \
    for (int64_t i = 0; i < n; i++) {                                                           \
        const T x = a[i], y = s;                                                                \
        out[i] = EXPR;                                                                          \
    }

/* ---- float ----------------------------------------------------------------------------------- */

/* out = a OP b, same shape */
TG_VECTORIZE
void tg_binary_f32(int op, int64_t n, const float *a, const float *b, float *out) {
    SWITCH_OP(op, SAME_SHAPE_LOOP, float)
}
/* out[i][j] = a[i][j] OP row[j] */
TG_VECTORIZE
void tg_binary_row_f32(int op, int64_t M, int64_t N, const float *a, const float *row,
                       float *out) {
    SWITCH_OP(op, ROW_LOOP, float)
}
/* out[i][j] = a[i][j] OP col[i] */
TG_VECTORIZE
void tg_binary_col_f32(int op, int64_t M, int64_t N, const float *a, const float *col,
                       float *out) {
    SWITCH_OP(op, COL_LOOP, float)
}
/* out[i] = a[i] OP s */
TG_VECTORIZE
void tg_binary_scalar_f32(int op, int64_t n, const float *a, float s, float *out) {
    SWITCH_OP(op, SCALAR_LOOP, float)
}
/* out = -a */
TG_VECTORIZE
void tg_neg_f32(int64_t n, const float *a, float *out) {
    for (int64_t i = 0; i < n; i++) out[i] = -a[i];
}
/* out = a^p. p == 2 (squared errors) is common enough to skip the libm call. */
TG_VECTORIZE
void tg_pow_f32(int64_t n, const float *a, float p, float *out) {
    if (p == 2) {
        for (int64_t i = 0; i < n; i++) out[i] = a[i] * a[i];
    } else {
        for (int64_t i = 0; i < n; i++) out[i] = powf(a[i], p);
    }
}
/* out = e^a */
TG_VECTORIZE
void tg_exp_f32(int64_t n, const float *a, float *out) {
    for (int64_t i = 0; i < n; i++) out[i] = expf(a[i]);
}
/* out = ln a  (NaN for a < 0, -inf at 0, as IEEE says) */
TG_VECTORIZE
void tg_log_f32(int64_t n, const float *a, float *out) {
    for (int64_t i = 0; i < n; i++) out[i] = logf(a[i]);
}

/* ---- double ---------------------------------------------------------------------------------- */

/* out = a OP b, same shape */
TG_VECTORIZE
void tg_binary_f64(int op, int64_t n, const double *a, const double *b, double *out) {
    SWITCH_OP(op, SAME_SHAPE_LOOP, double)
}
/* out[i][j] = a[i][j] OP row[j] */
TG_VECTORIZE
void tg_binary_row_f64(int op, int64_t M, int64_t N, const double *a, const double *row,
                       double *out) {
    SWITCH_OP(op, ROW_LOOP, double)
}
/* out[i][j] = a[i][j] OP col[i] */
TG_VECTORIZE
void tg_binary_col_f64(int op, int64_t M, int64_t N, const double *a, const double *col,
                       double *out) {
    SWITCH_OP(op, COL_LOOP, double)
}
/* out[i] = a[i] OP s */
TG_VECTORIZE
void tg_binary_scalar_f64(int op, int64_t n, const double *a, double s, double *out) {
    SWITCH_OP(op, SCALAR_LOOP, double)
}
/* out = -a */
TG_VECTORIZE
void tg_neg_f64(int64_t n, const double *a, double *out) {
    for (int64_t i = 0; i < n; i++) out[i] = -a[i];
}
/* out = a^p. p == 2 (squared errors) is common enough to skip the libm call. */
TG_VECTORIZE
void tg_pow_f64(int64_t n, const double *a, double p, double *out) {
    if (p == 2) {
        for (int64_t i = 0; i < n; i++) out[i] = a[i] * a[i];
    } else {
        for (int64_t i = 0; i < n; i++) out[i] = pow(a[i], p);
    }
}
/* out = e^a */
TG_VECTORIZE
void tg_exp_f64(int64_t n, const double *a, double *out) {
    for (int64_t i = 0; i < n; i++) out[i] = exp(a[i]);
}
/* out = ln a  (NaN for a < 0, -inf at 0, as IEEE says) */
TG_VECTORIZE
void tg_log_f64(int64_t n, const double *a, double *out) {
    for (int64_t i = 0; i < n; i++) out[i] = log(a[i]);
}
