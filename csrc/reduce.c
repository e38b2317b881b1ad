/* Sums (see kernels.h).
 *
 *   tg_sum_axis: x viewed as (outer, n, inner) -> out (outer, inner),
 *                out[o][i] = sum_k x[o][k][i]
 *   tg_sum_all:  out[0] = sum_i x[i]
 *
 * Any single-axis sum of a C-contiguous array is a sum_axis: for shape (d0, ..., d_last) and
 * axis a, outer = d0 * ... * d(a-1), n = d_a, inner = d(a+1) * ... * d_last.
 *
 * Accuracy: adding n numbers one by one in float loses about n * 2^-24 relative precision in
 * the worst case. Every sum here accumulates in double, and long contiguous runs (the full
 * sum, and sums along the last axis) are added pairwise, whose error grows like log2(n).
 *
 * ISA: sum_axis's column loop adds SUM_BLOCK independent sums and vectorizes; it is compiled
 * once per ISA (sum_axis_avx2_f32, ...: see isa.h). A pairwise sum adds its run in order (a
 * vectorized sum would reorder the additions and change the result), so sum_all is the
 * same code on every ISA. */
#include "isa.h"
#include "kernels.h"

/* Columns summed together in sum_axis: their double accumulators live on the stack. */
#define SUM_BLOCK 64
/* Below this length pairwise summation adds sequentially: the rounding error of a short run
 * is small, and the plain loop is what the compiler can vectorise. */
#define PAIRWISE_BASE 128

/* ---- float ----------------------------------------------------------------------------------- */

/* sum(x[0:n]) = sum(first half) + sum(second half), recursively, in double */
static double pairwise_sum_f32(const float *x, int64_t n) {
    if (n <= PAIRWISE_BASE) {
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += (double)x[i];
        return s;
    }
    const int64_t half = n / 2;
    return pairwise_sum_f32(x, half) + pairwise_sum_f32(x + half, n - half);
}

/* out[0] = sum_i x[i] */
void tg_sum_all_f32(int64_t n, const float *x, float *out) {
    out[0] = (float)pairwise_sum_f32(x, n);
}

/* out[o][i] = sum_k x[o][k][i] */
TG_INLINE void sum_axis_loop_f32(int64_t outer, int64_t n, int64_t inner, const float *x,
                                 float *out) {
    for (int64_t o = 0; o < outer; o++) {
        const float *xo = x + o * n * inner;
        float *oo = out + o * inner;
        if (inner == 1) { /* the summed values are contiguous: add them pairwise */
            oo[0] = (float)pairwise_sum_f32(xo, n);
            continue;
        }
        /* Walk x row by row (rows of length inner are contiguous), adding each row into a
         * block of up to SUM_BLOCK double accumulators. */
        for (int64_t i0 = 0; i0 < inner; i0 += SUM_BLOCK) {
            const int64_t w = inner - i0 < SUM_BLOCK ? inner - i0 : SUM_BLOCK;
            double acc[SUM_BLOCK];
            for (int64_t i = 0; i < w; i++) acc[i] = 0;
            for (int64_t k = 0; k < n; k++) {
                const float *row = xo + k * inner + i0;
                for (int64_t i = 0; i < w; i++) acc[i] += (double)row[i];
            }
            for (int64_t i = 0; i < w; i++) oo[i0 + i] = (float)acc[i];
        }
    }
}
#if TG_X86
TG_TARGET_AVX2 static void sum_axis_avx2_f32(int64_t outer, int64_t n, int64_t inner,
                                             const float *x, float *out) {
    sum_axis_loop_f32(outer, n, inner, x, out);
}
TG_TARGET_AVX512 static void sum_axis_avx512_f32(int64_t outer, int64_t n, int64_t inner,
                                                 const float *x, float *out) {
    sum_axis_loop_f32(outer, n, inner, x, out);
}
#endif
void tg_sum_axis_f32(int64_t outer, int64_t n, int64_t inner, const float *x, float *out) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: sum_axis_avx512_f32(outer, n, inner, x, out); break;
        case TG_ISA_AVX2: sum_axis_avx2_f32(outer, n, inner, x, out); break;
#endif
        default: sum_axis_loop_f32(outer, n, inner, x, out);
    }
}

/* ---- double ---------------------------------------------------------------------------------- */

/* sum(x[0:n]) = sum(first half) + sum(second half), recursively */
static double pairwise_sum_f64(const double *x, int64_t n) {
    if (n <= PAIRWISE_BASE) {
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += x[i];
        return s;
    }
    const int64_t half = n / 2;
    return pairwise_sum_f64(x, half) + pairwise_sum_f64(x + half, n - half);
}

/* out[0] = sum_i x[i] */
void tg_sum_all_f64(int64_t n, const double *x, double *out) {
    out[0] = pairwise_sum_f64(x, n);
}

/* out[o][i] = sum_k x[o][k][i] */
TG_INLINE void sum_axis_loop_f64(int64_t outer, int64_t n, int64_t inner, const double *x,
                                 double *out) {
    for (int64_t o = 0; o < outer; o++) {
        const double *xo = x + o * n * inner;
        double *oo = out + o * inner;
        if (inner == 1) { /* the summed values are contiguous: add them pairwise */
            oo[0] = pairwise_sum_f64(xo, n);
            continue;
        }
        /* Walk x row by row (rows of length inner are contiguous), adding each row into a
         * block of up to SUM_BLOCK double accumulators. */
        for (int64_t i0 = 0; i0 < inner; i0 += SUM_BLOCK) {
            const int64_t w = inner - i0 < SUM_BLOCK ? inner - i0 : SUM_BLOCK;
            double acc[SUM_BLOCK];
            for (int64_t i = 0; i < w; i++) acc[i] = 0;
            for (int64_t k = 0; k < n; k++) {
                const double *row = xo + k * inner + i0;
                for (int64_t i = 0; i < w; i++) acc[i] += row[i];
            }
            for (int64_t i = 0; i < w; i++) oo[i0 + i] = acc[i];
        }
    }
}
#if TG_X86
TG_TARGET_AVX2 static void sum_axis_avx2_f64(int64_t outer, int64_t n, int64_t inner,
                                             const double *x, double *out) {
    sum_axis_loop_f64(outer, n, inner, x, out);
}
TG_TARGET_AVX512 static void sum_axis_avx512_f64(int64_t outer, int64_t n, int64_t inner,
                                                 const double *x, double *out) {
    sum_axis_loop_f64(outer, n, inner, x, out);
}
#endif
void tg_sum_axis_f64(int64_t outer, int64_t n, int64_t inner, const double *x, double *out) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: sum_axis_avx512_f64(outer, n, inner, x, out); break;
        case TG_ISA_AVX2: sum_axis_avx2_f64(outer, n, inner, x, out); break;
#endif
        default: sum_axis_loop_f64(outer, n, inner, x, out);
    }
}
