/* Portable microkernels written with GCC vector extensions (no ISA intrinsics), used when the
 * CPU has neither AVX-512 nor AVX2, or when TINYGRAD_ISA=generic forces them.
 * f32 tile 4 x 8 (two 4-float vectors per row), f64 tile 4 x 4 (two 2-double vectors):
 * 8 accumulators fit the 16 SSE registers of baseline x86-64.
 *
 *   acc[i][v] += a[i][p] * b[p][VL*v .. VL*v+VL-1]     (the scalar is splatted by GCC)
 *
 * Edge tiles (m < MR or n < NR) take the plain scalar loop: they are rare in big products,
 * and a vector load there could read past the end of an unpacked B. */
#include <string.h>

#include "gemm.h"

#define DEFINE_GENERIC(T, SUF, VL, MR)                                                      \
    typedef T vec_##SUF __attribute__((vector_size(VL * sizeof(T))));                       \
    enum { MR_##SUF = MR, NR_##SUF = 2 * VL };                                              \
                                                                                            \
    /* the reference for one tile: C[i][j] (+)= sum_p a[i][p] * b[p][j] */                  \
    static void tile_scalar_##SUF(int64_t k, const T *a, int64_t rsa, int64_t csa,          \
                                  const T *b, int64_t ldb, T *c, int64_t ldc, int m, int n, \
                                  int beta) {                                               \
        for (int i = 0; i < m; i++)                                                         \
            for (int j = 0; j < n; j++) {                                                   \
                T s = 0;                                                                    \
                for (int64_t p = 0; p < k; p++) s += a[i * rsa + p * csa] * b[p * ldb + j]; \
                c[i * ldc + j] = beta ? c[i * ldc + j] + s : s;                             \
            }                                                                               \
    }                                                                                       \
                                                                                            \
    static void ukr_generic_##SUF(int64_t k, const T *a, int64_t rsa, int64_t csa,          \
                                  const T *b, int64_t ldb, T *c, int64_t ldc, int m, int n, \
                                  int beta) {                                               \
        if (m < MR || n < 2 * VL) {                                                         \
            tile_scalar_##SUF(k, a, rsa, csa, b, ldb, c, ldc, m, n, beta);                  \
            return;                                                                         \
        }                                                                                   \
        vec_##SUF acc[MR][2] = {{{0}}};                                                     \
        for (int64_t p = 0; p < k; p++) {                                                   \
            vec_##SUF b0, b1;                                                               \
            memcpy(&b0, b + p * ldb, sizeof b0); /* unaligned vector loads */               \
            memcpy(&b1, b + p * ldb + VL, sizeof b1);                                       \
            for (int i = 0; i < MR; i++) {                                                  \
                T ai = a[i * rsa + p * csa];                                                \
                acc[i][0] += ai * b0;                                                       \
                acc[i][1] += ai * b1;                                                       \
            }                                                                               \
        }                                                                                   \
        for (int i = 0; i < MR; i++)                                                        \
            for (int j = 0; j < 2 * VL; j++) {                                              \
                T s = acc[i][j / VL][j % VL];                                               \
                c[i * ldc + j] = beta ? c[i * ldc + j] + s : s;                             \
            }                                                                               \
    }                                                                                       \
    const tg_kernel_##SUF tg_kernel_generic_##SUF = {MR, 2 * VL, ukr_generic_##SUF, NULL, NULL, NULL};

DEFINE_GENERIC(float, f32, 4, 4)
DEFINE_GENERIC(double, f64, 2, 4)
