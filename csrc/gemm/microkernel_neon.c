/* NEON microkernels for aarch64 (every Apple-silicon Mac, Graviton, Raspberry Pi 3 and later):
 * f32 tile 8 x 8 (two float32x4 per row), f64 tile 4 x 8 (four float64x2 per row).
 *
 * For each p < k the kernel loads one row of the B sliver and the column of A's sliver, and
 * multiplies every B vector by one element of A picked by lane ("FMA by element"):
 *
 *   acc[i][v] += a[i][p] * b[p][4v .. 4v+3]        vfmaq_laneq_f32(acc, b_v, a_col, i % 4)
 *
 * 8 x 2 = 16 accumulators (f32) or 4 x 4 = 16 (f64) hide the FMA latency (3-4 cycles on
 * 2-4 pipes), and leave room among the 32 vector registers for the B row and the A column.
 * Advanced SIMD is part of every AArch64 CPU, so no feature test is needed: gemm.c still
 * lets TINYGRAD_ISA=generic or tg_set_isa(0) choose the portable kernel at run time.
 *
 * Only full tiles (m == MR, n == NR) run the register kernel straight from the caller's
 * memory. An edge tile is computed by the same kernel on small zero-padded copies of its A
 * and B slivers (KB values of p at a time) and then the m x n corner is written back, so no
 * load ever reads past the end of an unpacked operand. */
#include "gemm.h"

#if TG_NEON
#include <arm_neon.h>

enum { KB = 128 }; /* p values per padded chunk of an edge tile: 4 KB of stack per operand */

/* ---------- f32: MR = 8, NR = 8 ---------- */
enum { MR32 = 8, NR32 = 8 };

/* C (8,8) (+)= sum_p a[i*rsa + p*csa] * b[p*ldb + j]. One of rsa, csa is 1. */
static void full_tile_neon_f32(int64_t k, const float *a, int64_t rsa, int64_t csa,
                               const float *b, int64_t ldb, float *c, int64_t ldc, int beta) {
    float32x4_t c00 = vdupq_n_f32(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00,
                c61 = c00, c70 = c00, c71 = c00;
    if (rsa == 1) { /* packed or transposed A: the 8 values of one p are adjacent */
        for (int64_t p = 0; p < k; p++) {
            const float32x4_t b0 = vld1q_f32(b + p * ldb), b1 = vld1q_f32(b + p * ldb + 4);
            const float32x4_t a0 = vld1q_f32(a + p * csa), a1 = vld1q_f32(a + p * csa + 4);
            c00 = vfmaq_laneq_f32(c00, b0, a0, 0), c01 = vfmaq_laneq_f32(c01, b1, a0, 0);
            c10 = vfmaq_laneq_f32(c10, b0, a0, 1), c11 = vfmaq_laneq_f32(c11, b1, a0, 1);
            c20 = vfmaq_laneq_f32(c20, b0, a0, 2), c21 = vfmaq_laneq_f32(c21, b1, a0, 2);
            c30 = vfmaq_laneq_f32(c30, b0, a0, 3), c31 = vfmaq_laneq_f32(c31, b1, a0, 3);
            c40 = vfmaq_laneq_f32(c40, b0, a1, 0), c41 = vfmaq_laneq_f32(c41, b1, a1, 0);
            c50 = vfmaq_laneq_f32(c50, b0, a1, 1), c51 = vfmaq_laneq_f32(c51, b1, a1, 1);
            c60 = vfmaq_laneq_f32(c60, b0, a1, 2), c61 = vfmaq_laneq_f32(c61, b1, a1, 2);
            c70 = vfmaq_laneq_f32(c70, b0, a1, 3), c71 = vfmaq_laneq_f32(c71, b1, a1, 3);
        }
    } else { /* row-major A (csa == 1): row i is contiguous in p, one scalar per row */
        for (int64_t p = 0; p < k; p++) {
            const float32x4_t b0 = vld1q_f32(b + p * ldb), b1 = vld1q_f32(b + p * ldb + 4);
            const float *ap = a + p;
            c00 = vfmaq_n_f32(c00, b0, ap[0 * rsa]), c01 = vfmaq_n_f32(c01, b1, ap[0 * rsa]);
            c10 = vfmaq_n_f32(c10, b0, ap[1 * rsa]), c11 = vfmaq_n_f32(c11, b1, ap[1 * rsa]);
            c20 = vfmaq_n_f32(c20, b0, ap[2 * rsa]), c21 = vfmaq_n_f32(c21, b1, ap[2 * rsa]);
            c30 = vfmaq_n_f32(c30, b0, ap[3 * rsa]), c31 = vfmaq_n_f32(c31, b1, ap[3 * rsa]);
            c40 = vfmaq_n_f32(c40, b0, ap[4 * rsa]), c41 = vfmaq_n_f32(c41, b1, ap[4 * rsa]);
            c50 = vfmaq_n_f32(c50, b0, ap[5 * rsa]), c51 = vfmaq_n_f32(c51, b1, ap[5 * rsa]);
            c60 = vfmaq_n_f32(c60, b0, ap[6 * rsa]), c61 = vfmaq_n_f32(c61, b1, ap[6 * rsa]);
            c70 = vfmaq_n_f32(c70, b0, ap[7 * rsa]), c71 = vfmaq_n_f32(c71, b1, ap[7 * rsa]);
        }
    }
    const float32x4_t acc[MR32][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31},
                                      {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71}};
    for (int i = 0; i < MR32; i++)
        for (int v = 0; v < 2; v++) {
            float *ci = c + i * ldc + 4 * v;
            vst1q_f32(ci, beta ? vaddq_f32(acc[i][v], vld1q_f32(ci)) : acc[i][v]);
        }
}

static void ukr_neon_f32(int64_t k, const float *a, int64_t rsa, int64_t csa, const float *b,
                         int64_t ldb, float *c, int64_t ldc, int m, int n, int beta) {
    if (m == MR32 && n == NR32) {
        full_tile_neon_f32(k, a, rsa, csa, b, ldb, c, ldc, beta);
        return;
    }
    float ap[KB * MR32], bp[KB * NR32], ct[MR32 * NR32];
    for (int64_t p0 = 0; p0 < k; p0 += KB) {
        const int64_t kb = k - p0 < KB ? k - p0 : KB;
        for (int64_t p = 0; p < kb; p++) {
            for (int i = 0; i < MR32; i++) ap[p * MR32 + i] = i < m ? a[i * rsa + (p0 + p) * csa] : 0;
            for (int j = 0; j < NR32; j++) bp[p * NR32 + j] = j < n ? b[(p0 + p) * ldb + j] : 0;
        }
        full_tile_neon_f32(kb, ap, 1, MR32, bp, NR32, ct, NR32, p0 > 0);
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            c[i * ldc + j] = beta ? c[i * ldc + j] + ct[i * NR32 + j] : ct[i * NR32 + j];
}

/* ---------- f64: MR = 4, NR = 8 ---------- */
enum { MR64 = 4, NR64 = 8 };

static void full_tile_neon_f64(int64_t k, const double *a, int64_t rsa, int64_t csa,
                               const double *b, int64_t ldb, double *c, int64_t ldc,
                               int beta) {
    float64x2_t c00 = vdupq_n_f64(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00,
                c12 = c00, c13 = c00, c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00,
                c31 = c00, c32 = c00, c33 = c00;
    for (int64_t p = 0; p < k; p++) {
        const double *bp = b + p * ldb;
        const float64x2_t b0 = vld1q_f64(bp), b1 = vld1q_f64(bp + 2), b2 = vld1q_f64(bp + 4),
                          b3 = vld1q_f64(bp + 6);
        float64x2_t a01, a23; /* rows 0,1 and rows 2,3 of A's column p */
        if (rsa == 1) {
            a01 = vld1q_f64(a + p * csa), a23 = vld1q_f64(a + p * csa + 2);
        } else {
            const double *ap = a + p;
            const double r[4] = {ap[0], ap[rsa], ap[2 * rsa], ap[3 * rsa]};
            a01 = vld1q_f64(r), a23 = vld1q_f64(r + 2);
        }
        c00 = vfmaq_laneq_f64(c00, b0, a01, 0), c01 = vfmaq_laneq_f64(c01, b1, a01, 0);
        c02 = vfmaq_laneq_f64(c02, b2, a01, 0), c03 = vfmaq_laneq_f64(c03, b3, a01, 0);
        c10 = vfmaq_laneq_f64(c10, b0, a01, 1), c11 = vfmaq_laneq_f64(c11, b1, a01, 1);
        c12 = vfmaq_laneq_f64(c12, b2, a01, 1), c13 = vfmaq_laneq_f64(c13, b3, a01, 1);
        c20 = vfmaq_laneq_f64(c20, b0, a23, 0), c21 = vfmaq_laneq_f64(c21, b1, a23, 0);
        c22 = vfmaq_laneq_f64(c22, b2, a23, 0), c23 = vfmaq_laneq_f64(c23, b3, a23, 0);
        c30 = vfmaq_laneq_f64(c30, b0, a23, 1), c31 = vfmaq_laneq_f64(c31, b1, a23, 1);
        c32 = vfmaq_laneq_f64(c32, b2, a23, 1), c33 = vfmaq_laneq_f64(c33, b3, a23, 1);
    }
    const float64x2_t acc[MR64][4] = {
        {c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}, {c30, c31, c32, c33}};
    for (int i = 0; i < MR64; i++)
        for (int v = 0; v < 4; v++) {
            double *ci = c + i * ldc + 2 * v;
            vst1q_f64(ci, beta ? vaddq_f64(acc[i][v], vld1q_f64(ci)) : acc[i][v]);
        }
}

static void ukr_neon_f64(int64_t k, const double *a, int64_t rsa, int64_t csa, const double *b,
                         int64_t ldb, double *c, int64_t ldc, int m, int n, int beta) {
    if (m == MR64 && n == NR64) {
        full_tile_neon_f64(k, a, rsa, csa, b, ldb, c, ldc, beta);
        return;
    }
    double ap[KB * MR64], bp[KB * NR64], ct[MR64 * NR64];
    for (int64_t p0 = 0; p0 < k; p0 += KB) {
        const int64_t kb = k - p0 < KB ? k - p0 : KB;
        for (int64_t p = 0; p < kb; p++) {
            for (int i = 0; i < MR64; i++) ap[p * MR64 + i] = i < m ? a[i * rsa + (p0 + p) * csa] : 0;
            for (int j = 0; j < NR64; j++) bp[p * NR64 + j] = j < n ? b[(p0 + p) * ldb + j] : 0;
        }
        full_tile_neon_f64(kb, ap, 1, MR64, bp, NR64, ct, NR64, p0 > 0);
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            c[i * ldc + j] = beta ? c[i * ldc + j] + ct[i * NR64 + j] : ct[i * NR64 + j];
}

const tg_kernel_f32 tg_kernel_neon_f32 = {MR32, NR32, ukr_neon_f32, NULL, NULL, NULL, 0};
const tg_kernel_f64 tg_kernel_neon_f64 = {MR64, NR64, ukr_neon_f64, NULL, NULL, NULL, 0};

#else
/* Not an AArch64 build: nothing to compile (ISO C wants at least one declaration). */
typedef int tg_no_neon_kernels;
#endif
