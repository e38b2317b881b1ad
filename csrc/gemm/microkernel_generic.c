/* Portable microkernels in plain C (no intrinsics, no compiler extensions), used when the
 * CPU has none of the SIMD kernels (or TINYGRAD_ISA=generic forces them). They build with
 * any C11 compiler, MSVC included.
 *
 *   acc[i][j] += a[i][p] * b[p][j]      for a tile of MR x NR = 4 x 8 (f32) or 4 x 4 (f64)
 *
 * The accumulators are a small fixed-size array with constant loop bounds, so an optimising
 * compiler unrolls the i, j loops and keeps the tile in vector registers (SSE2 on baseline
 * x86-64, NEON on aarch64) without being told how. Edge tiles (m < MR or n < NR) take the
 * plain reference loop: they are rare in big products, and reading a full row of b there
 * could run past the end of an unpacked B. */
#include "gemm.h"

enum { MR32 = 4, NR32 = 8, MR64 = 4, NR64 = 4 };

/* ---------- f32 ---------- */

/* the reference for one tile: C[i][j] (+)= sum_p a[i][p] * b[p][j] */
static void tile_scalar_f32(int64_t k, const float *a, int64_t rsa, int64_t csa,
                            const float *b, int64_t ldb, float *c, int64_t ldc, int m, int n,
                            int beta) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float s = 0;
            for (int64_t p = 0; p < k; p++) s += a[i * rsa + p * csa] * b[p * ldb + j];
            c[i * ldc + j] = beta ? c[i * ldc + j] + s : s;
        }
}

static void ukr_generic_f32(int64_t k, const float *a, int64_t rsa, int64_t csa,
                            const float *b, int64_t ldb, float *c, int64_t ldc, int m, int n,
                            int beta) {
    if (m < MR32 || n < NR32) {
        tile_scalar_f32(k, a, rsa, csa, b, ldb, c, ldc, m, n, beta);
        return;
    }
    float acc[MR32][NR32] = {{0}};
    for (int64_t p = 0; p < k; p++) {
        const float *bp = b + p * ldb;
        for (int i = 0; i < MR32; i++) {
            const float ai = a[i * rsa + p * csa];
            for (int j = 0; j < NR32; j++) acc[i][j] += ai * bp[j];
        }
    }
    for (int i = 0; i < MR32; i++)
        for (int j = 0; j < NR32; j++)
            c[i * ldc + j] = beta ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

/* ---------- f64: the same, in double ---------- */

static void tile_scalar_f64(int64_t k, const double *a, int64_t rsa, int64_t csa,
                            const double *b, int64_t ldb, double *c, int64_t ldc, int m, int n,
                            int beta) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++) s += a[i * rsa + p * csa] * b[p * ldb + j];
            c[i * ldc + j] = beta ? c[i * ldc + j] + s : s;
        }
}

static void ukr_generic_f64(int64_t k, const double *a, int64_t rsa, int64_t csa,
                            const double *b, int64_t ldb, double *c, int64_t ldc, int m, int n,
                            int beta) {
    if (m < MR64 || n < NR64) {
        tile_scalar_f64(k, a, rsa, csa, b, ldb, c, ldc, m, n, beta);
        return;
    }
    double acc[MR64][NR64] = {{0}};
    for (int64_t p = 0; p < k; p++) {
        const double *bp = b + p * ldb;
        for (int i = 0; i < MR64; i++) {
            const double ai = a[i * rsa + p * csa];
            for (int j = 0; j < NR64; j++) acc[i][j] += ai * bp[j];
        }
    }
    for (int i = 0; i < MR64; i++)
        for (int j = 0; j < NR64; j++)
            c[i * ldc + j] = beta ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

const tg_kernel_f32 tg_kernel_generic_f32 = {MR32, NR32, ukr_generic_f32, NULL, NULL, NULL, 0};
const tg_kernel_f64 tg_kernel_generic_f64 = {MR64, NR64, ukr_generic_f64, NULL, NULL, NULL, 0};
