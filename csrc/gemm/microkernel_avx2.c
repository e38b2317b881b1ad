/* AVX2 + FMA microkernels: f32 tile 6 x 16 (two ymm of 8 floats per row), f64 tile 6 x 8.
 *
 *   acc[i][v] += broadcast(a[i][p]) * b[p][8v .. 8v+7]        (f32; 4 doubles for f64)
 *
 * 6 x 2 = 12 accumulators + 2 B vectors + 1 broadcast = 15 of the 16 ymm registers.
 * Same structure as microkernel_avx512.c: m, NV and the A layout are compile-time constants
 * in each specialised copy; partial columns (n < NR) use vmaskmov loads and stores. */
#include "gemm.h"

#if TG_GEMM_X86 /* the whole file: x86 intrinsics exist only in x86 builds */
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

/* lane j of the mask is all-ones when j < n (n may be <= 0 or >= the lane count) */
static AVX2 __m256i lane_mask32(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static AVX2 __m256i lane_mask64(int n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* Named accumulators (see microkernel_avx512.c): rows i >= m compile away. */
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

/* ---------- f32: MR = 6, NR = 16 ---------- */
enum { MR32 = 6, NV32 = 2 };

INLINE AVX2 void body_f32(const int m, const int nv, const int arow, int64_t k,
                          const float *a, int64_t rsa, int64_t csa, const float *b, int64_t ldb,
                          float *c, int64_t ldc, int n, int beta) {
    const __m256i mk0 = lane_mask32(n), mk1 = lane_mask32(n - 8);
    const int full = n >= 8 * nv; /* no masking needed */
#define DECL(i)                                                                             \
    __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = _mm256_setzero_ps();                    \
    const float *a##i = a + (m > i ? i : 0) * rsa;
    ROWS(DECL)
#undef DECL
#define FMA(i)                                                                              \
    if (m > i) {                                                                            \
        __m256 ai = _mm256_broadcast_ss(arow ? &a##i[p] : &a[i]);                           \
        c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);                                         \
        if (nv > 1) c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);                             \
    }
    for (int64_t p = 0; p < k; p++) {
        __m256 b0 = full ? _mm256_loadu_ps(b) : _mm256_maskload_ps(b, mk0), b1 = b0;
        if (nv > 1) b1 = full ? _mm256_loadu_ps(b + 8) : _mm256_maskload_ps(b + 8, mk1);
        b += ldb;
        ROWS(FMA)
        if (!arow) a += csa;
    }
#undef FMA
#define STORE(i)                                                                            \
    if (m > i) {                                                                            \
        STORE1(c + i * ldc, mk0, c##i##0);                                                  \
        if (nv > 1) STORE1(c + i * ldc + 8, mk1, c##i##1);                                  \
    }
#define STORE1(ci, mk, r)                                                                   \
    do {                                                                                    \
        if (full) _mm256_storeu_ps(ci, beta ? _mm256_add_ps(r, _mm256_loadu_ps(ci)) : r);   \
        else _mm256_maskstore_ps(ci, mk, beta ? _mm256_add_ps(r, _mm256_maskload_ps(ci, mk)) : r); \
    } while (0)
    ROWS(STORE)
#undef STORE
#undef STORE1
}

#define CASE_F32(M)                                                                         \
    case M:                                                                                 \
        if (nv == 2) {                                                                      \
            if (arow) body_f32(M, 2, 1, k, a, rsa, csa, b, ldb, c, ldc, n, beta);           \
            else body_f32(M, 2, 0, k, a, rsa, csa, b, ldb, c, ldc, n, beta);                \
        } else {                                                                            \
            if (arow) body_f32(M, 1, 1, k, a, rsa, csa, b, ldb, c, ldc, n, beta);           \
            else body_f32(M, 1, 0, k, a, rsa, csa, b, ldb, c, ldc, n, beta);                \
        }                                                                                   \
        break;

static AVX2 void ukr_avx2_f32(int64_t k, const float *a, int64_t rsa, int64_t csa,
                              const float *b, int64_t ldb, float *c, int64_t ldc, int m, int n,
                              int beta) {
    const int nv = n > 8 ? 2 : 1;
    const int arow = csa == 1 && rsa != 1;
    switch (m) {
        CASE_F32(1) CASE_F32(2) CASE_F32(3) CASE_F32(4) CASE_F32(5) CASE_F32(6)
        default: break;
    }
}

/* ---------- f64: MR = 6, NR = 8 ---------- */
enum { MR64 = 6, NV64 = 2 };

INLINE AVX2 void body_f64(const int m, const int nv, const int arow, int64_t k,
                          const double *a, int64_t rsa, int64_t csa, const double *b, int64_t ldb,
                          double *c, int64_t ldc, int n, int beta) {
    const __m256i mk0 = lane_mask64(n), mk1 = lane_mask64(n - 4);
    const int full = n >= 4 * nv; /* no masking needed */
#define DECL(i)                                                                             \
    __m256d c##i##0 = _mm256_setzero_pd(), c##i##1 = _mm256_setzero_pd();                   \
    const double *a##i = a + (m > i ? i : 0) * rsa;
    ROWS(DECL)
#undef DECL
#define FMA(i)                                                                              \
    if (m > i) {                                                                            \
        __m256d ai = _mm256_broadcast_sd(arow ? &a##i[p] : &a[i]);                          \
        c##i##0 = _mm256_fmadd_pd(ai, b0, c##i##0);                                         \
        if (nv > 1) c##i##1 = _mm256_fmadd_pd(ai, b1, c##i##1);                             \
    }
    for (int64_t p = 0; p < k; p++) {
        __m256d b0 = full ? _mm256_loadu_pd(b) : _mm256_maskload_pd(b, mk0), b1 = b0;
        if (nv > 1) b1 = full ? _mm256_loadu_pd(b + 4) : _mm256_maskload_pd(b + 4, mk1);
        b += ldb;
        ROWS(FMA)
        if (!arow) a += csa;
    }
#undef FMA
#define STORE(i)                                                                            \
    if (m > i) {                                                                            \
        STORE1(c + i * ldc, mk0, c##i##0);                                                  \
        if (nv > 1) STORE1(c + i * ldc + 4, mk1, c##i##1);                                  \
    }
#define STORE1(ci, mk, r)                                                                   \
    do {                                                                                    \
        if (full) _mm256_storeu_pd(ci, beta ? _mm256_add_pd(r, _mm256_loadu_pd(ci)) : r);   \
        else _mm256_maskstore_pd(ci, mk, beta ? _mm256_add_pd(r, _mm256_maskload_pd(ci, mk)) : r); \
    } while (0)
    ROWS(STORE)
#undef STORE
#undef STORE1
}

#define CASE_F64(M)                                                                         \
    case M:                                                                                 \
        if (nv == 2) {                                                                      \
            if (arow) body_f64(M, 2, 1, k, a, rsa, csa, b, ldb, c, ldc, n, beta);           \
            else body_f64(M, 2, 0, k, a, rsa, csa, b, ldb, c, ldc, n, beta);                \
        } else {                                                                            \
            if (arow) body_f64(M, 1, 1, k, a, rsa, csa, b, ldb, c, ldc, n, beta);           \
            else body_f64(M, 1, 0, k, a, rsa, csa, b, ldb, c, ldc, n, beta);                \
        }                                                                                   \
        break;

static AVX2 void ukr_avx2_f64(int64_t k, const double *a, int64_t rsa, int64_t csa,
                              const double *b, int64_t ldb, double *c, int64_t ldc, int m,
                              int n, int beta) {
    const int nv = n > 4 ? 2 : 1;
    const int arow = csa == 1 && rsa != 1;
    switch (m) {
        CASE_F64(1) CASE_F64(2) CASE_F64(3) CASE_F64(4) CASE_F64(5) CASE_F64(6)
        default: break;
    }
}

const tg_kernel_f32 tg_kernel_avx2_f32 = {MR32, 8 * NV32, ukr_avx2_f32, NULL, NULL, NULL};
const tg_kernel_f64 tg_kernel_avx2_f64 = {MR64, 4 * NV64, ukr_avx2_f64, NULL, NULL, NULL};

#else
/* Not an x86 build: nothing to compile (ISO C wants at least one declaration). */
typedef int tg_no_avx2_kernels;
#endif
