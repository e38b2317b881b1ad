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
 * fixed expression that the compiler can vectorise. */
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

#define DEFINE_ELEMENTWISE(T, SUF, EXP, LOG, POW)                                               \
    TG_VECTORIZE                                                                                \
    void tg_binary_##SUF(int op, int64_t n, const T *a, const T *b, T *out) {                   \
        SWITCH_OP(op, SAME_SHAPE_LOOP, T)                                                       \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_binary_row_##SUF(int op, int64_t M, int64_t N, const T *a, const T *row,            \
                             T *out) {                                                          \
        SWITCH_OP(op, ROW_LOOP, T)                                                              \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_binary_col_##SUF(int op, int64_t M, int64_t N, const T *a, const T *col,            \
                             T *out) {                                                          \
        SWITCH_OP(op, COL_LOOP, T)                                                              \
    }                                                                                           \
    TG_VECTORIZE                                                                                \
    void tg_binary_scalar_##SUF(int op, int64_t n, const T *a, T s, T *out) {                   \
        SWITCH_OP(op, SCALAR_LOOP, T)                                                           \
    }                                                                                           \
    /* out = -a */                                                                              \
    TG_VECTORIZE                                                                                \
    void tg_neg_##SUF(int64_t n, const T *a, T *out) {                                          \
        for (int64_t i = 0; i < n; i++) out[i] = -a[i];                                         \
    }                                                                                           \
    /* out = a^p. p == 2 (squared errors) is common enough to skip the libm call. */            \
    TG_VECTORIZE                                                                                \
    void tg_pow_##SUF(int64_t n, const T *a, T p, T *out) {                                     \
        if (p == 2) {                                                                           \
            for (int64_t i = 0; i < n; i++) out[i] = a[i] * a[i];                               \
        } else {                                                                                \
            for (int64_t i = 0; i < n; i++) out[i] = POW(a[i], p);                              \
        }                                                                                       \
    }                                                                                           \
    /* out = e^a */                                                                             \
    TG_VECTORIZE                                                                                \
    void tg_exp_##SUF(int64_t n, const T *a, T *out) {                                          \
        for (int64_t i = 0; i < n; i++) out[i] = EXP(a[i]);                                     \
    }                                                                                           \
    /* out = ln a  (NaN for a < 0, -inf at 0, as IEEE says) */                                  \
    TG_VECTORIZE                                                                                \
    void tg_log_##SUF(int64_t n, const T *a, T *out) {                                          \
        for (int64_t i = 0; i < n; i++) out[i] = LOG(a[i]);                                     \
    }

DEFINE_ELEMENTWISE(float, f32, expf, logf, powf)
DEFINE_ELEMENTWISE(double, f64, exp, log, pow)
