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
 * stamp out those loop bodies; every kernel below is a plain function grep finds.
 *
 * ISA: binary_loop and unary_loop hold every loop of this file; each is compiled once per ISA
 * (binary_avx2_f32, ...: see isa.h) and the public kernels pick the copy of tg_get_isa(). */
#include <math.h>

#include "isa.h"
#include "kernels.h"

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

/* The layouts of b, and the one-input maps */
enum { SAME_SHAPE, ROW, COL, SCALAR };
enum { NEG, POW, EXP, LOG };

/* ---- float ----------------------------------------------------------------------------------- */

/* out = a OP b in `layout`: a, out (M,N); b (M,N), (N,), (M,) or the scalar b[0]. The same
 * shape and the scalar use n = M * N. */
TG_INLINE void binary_loop_f32(int layout, int op, int64_t M, int64_t N, const float *a,
                               const float *b, float *out) {
    const int64_t n = M * N;
    const float *row = b, *col = b, s = b[0];
    switch (layout) {
        case SAME_SHAPE: SWITCH_OP(op, SAME_SHAPE_LOOP, float) break;
        case ROW: SWITCH_OP(op, ROW_LOOP, float) break;
        case COL: SWITCH_OP(op, COL_LOOP, float) break;
        default: SWITCH_OP(op, SCALAR_LOOP, float) break;
    }
}
#if TG_X86
TG_TARGET_AVX2 static void binary_avx2_f32(int layout, int op, int64_t M, int64_t N, const float *a,
                                           const float *b, float *out) {
    binary_loop_f32(layout, op, M, N, a, b, out);
}
TG_TARGET_AVX512 static void binary_avx512_f32(int layout, int op, int64_t M, int64_t N,
                                               const float *a, const float *b, float *out) {
    binary_loop_f32(layout, op, M, N, a, b, out);
}
#endif
static void binary_f32(int layout, int op, int64_t M, int64_t N, const float *a, const float *b,
                       float *out) {
    if (M * N <= 0) return; /* nothing to do, and the scalar b[0] may not exist */
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: binary_avx512_f32(layout, op, M, N, a, b, out); break;
        case TG_ISA_AVX2: binary_avx2_f32(layout, op, M, N, a, b, out); break;
#endif
        default: binary_loop_f32(layout, op, M, N, a, b, out);
    }
}

/* out = f(a): -a, a^p, e^a, ln a (NaN for a < 0, -inf at 0, as IEEE says). p == 2 (squared
 * errors) is common enough to skip the libm call. */
TG_INLINE void unary_loop_f32(int f, int64_t n, const float *a, float p, float *out) {
    switch (f) {
        case NEG:
            for (int64_t i = 0; i < n; i++) out[i] = -a[i];
            break;
        case POW:
            if (p == 2)
                for (int64_t i = 0; i < n; i++) out[i] = a[i] * a[i];
            else
                for (int64_t i = 0; i < n; i++) out[i] = powf(a[i], p);
            break;
        case EXP:
            for (int64_t i = 0; i < n; i++) out[i] = expf(a[i]);
            break;
        default:
            for (int64_t i = 0; i < n; i++) out[i] = logf(a[i]);
    }
}
#if TG_X86
TG_TARGET_AVX2 static void unary_avx2_f32(int f, int64_t n, const float *a, float p, float *out) {
    unary_loop_f32(f, n, a, p, out);
}
TG_TARGET_AVX512 static void unary_avx512_f32(int f, int64_t n, const float *a, float p,
                                              float *out) {
    unary_loop_f32(f, n, a, p, out);
}
#endif
static void unary_f32(int f, int64_t n, const float *a, float p, float *out) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: unary_avx512_f32(f, n, a, p, out); break;
        case TG_ISA_AVX2: unary_avx2_f32(f, n, a, p, out); break;
#endif
        default: unary_loop_f32(f, n, a, p, out);
    }
}

void tg_binary_f32(int op, int64_t n, const float *a, const float *b, float *out) {
    binary_f32(SAME_SHAPE, op, 1, n, a, b, out);
}
void tg_binary_row_f32(int op, int64_t M, int64_t N, const float *a, const float *row, float *out) {
    binary_f32(ROW, op, M, N, a, row, out);
}
void tg_binary_col_f32(int op, int64_t M, int64_t N, const float *a, const float *col, float *out) {
    binary_f32(COL, op, M, N, a, col, out);
}
void tg_binary_scalar_f32(int op, int64_t n, const float *a, float s, float *out) {
    binary_f32(SCALAR, op, 1, n, a, &s, out);
}
void tg_neg_f32(int64_t n, const float *a, float *out) { unary_f32(NEG, n, a, 0, out); }
void tg_pow_f32(int64_t n, const float *a, float p, float *out) { unary_f32(POW, n, a, p, out); }
void tg_exp_f32(int64_t n, const float *a, float *out) { unary_f32(EXP, n, a, 0, out); }
void tg_log_f32(int64_t n, const float *a, float *out) { unary_f32(LOG, n, a, 0, out); }

/* ---- double ---------------------------------------------------------------------------------- */

/* out = a OP b in `layout`: a, out (M,N); b (M,N), (N,), (M,) or the scalar b[0]. The same
 * shape and the scalar use n = M * N. */
TG_INLINE void binary_loop_f64(int layout, int op, int64_t M, int64_t N, const double *a,
                               const double *b, double *out) {
    const int64_t n = M * N;
    const double *row = b, *col = b, s = b[0];
    switch (layout) {
        case SAME_SHAPE: SWITCH_OP(op, SAME_SHAPE_LOOP, double) break;
        case ROW: SWITCH_OP(op, ROW_LOOP, double) break;
        case COL: SWITCH_OP(op, COL_LOOP, double) break;
        default: SWITCH_OP(op, SCALAR_LOOP, double) break;
    }
}
#if TG_X86
TG_TARGET_AVX2 static void binary_avx2_f64(int layout, int op, int64_t M, int64_t N,
                                           const double *a, const double *b, double *out) {
    binary_loop_f64(layout, op, M, N, a, b, out);
}
TG_TARGET_AVX512 static void binary_avx512_f64(int layout, int op, int64_t M, int64_t N,
                                               const double *a, const double *b, double *out) {
    binary_loop_f64(layout, op, M, N, a, b, out);
}
#endif
static void binary_f64(int layout, int op, int64_t M, int64_t N, const double *a, const double *b,
                       double *out) {
    if (M * N <= 0) return; /* nothing to do, and the scalar b[0] may not exist */
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: binary_avx512_f64(layout, op, M, N, a, b, out); break;
        case TG_ISA_AVX2: binary_avx2_f64(layout, op, M, N, a, b, out); break;
#endif
        default: binary_loop_f64(layout, op, M, N, a, b, out);
    }
}

/* out = f(a): -a, a^p, e^a, ln a (NaN for a < 0, -inf at 0, as IEEE says). p == 2 (squared
 * errors) is common enough to skip the libm call. */
TG_INLINE void unary_loop_f64(int f, int64_t n, const double *a, double p, double *out) {
    switch (f) {
        case NEG:
            for (int64_t i = 0; i < n; i++) out[i] = -a[i];
            break;
        case POW:
            if (p == 2)
                for (int64_t i = 0; i < n; i++) out[i] = a[i] * a[i];
            else
                for (int64_t i = 0; i < n; i++) out[i] = pow(a[i], p);
            break;
        case EXP:
            for (int64_t i = 0; i < n; i++) out[i] = exp(a[i]);
            break;
        default:
            for (int64_t i = 0; i < n; i++) out[i] = log(a[i]);
    }
}
#if TG_X86
TG_TARGET_AVX2 static void unary_avx2_f64(int f, int64_t n, const double *a, double p,
                                          double *out) {
    unary_loop_f64(f, n, a, p, out);
}
TG_TARGET_AVX512 static void unary_avx512_f64(int f, int64_t n, const double *a, double p,
                                              double *out) {
    unary_loop_f64(f, n, a, p, out);
}
#endif
static void unary_f64(int f, int64_t n, const double *a, double p, double *out) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: unary_avx512_f64(f, n, a, p, out); break;
        case TG_ISA_AVX2: unary_avx2_f64(f, n, a, p, out); break;
#endif
        default: unary_loop_f64(f, n, a, p, out);
    }
}

void tg_binary_f64(int op, int64_t n, const double *a, const double *b, double *out) {
    binary_f64(SAME_SHAPE, op, 1, n, a, b, out);
}
void tg_binary_row_f64(int op, int64_t M, int64_t N, const double *a, const double *row,
                       double *out) {
    binary_f64(ROW, op, M, N, a, row, out);
}
void tg_binary_col_f64(int op, int64_t M, int64_t N, const double *a, const double *col,
                       double *out) {
    binary_f64(COL, op, M, N, a, col, out);
}
void tg_binary_scalar_f64(int op, int64_t n, const double *a, double s, double *out) {
    binary_f64(SCALAR, op, 1, n, a, &s, out);
}
void tg_neg_f64(int64_t n, const double *a, double *out) { unary_f64(NEG, n, a, 0, out); }
void tg_pow_f64(int64_t n, const double *a, double p, double *out) {
    unary_f64(POW, n, a, p, out);
}
void tg_exp_f64(int64_t n, const double *a, double *out) { unary_f64(EXP, n, a, 0, out); }
void tg_log_f64(int64_t n, const double *a, double *out) { unary_f64(LOG, n, a, 0, out); }
