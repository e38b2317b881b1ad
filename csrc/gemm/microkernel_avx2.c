/* AVX2 + FMA microkernels: f32 tile 6 x 16 (two ymm of 8 floats per row), f64 tile 6 x 8.
 *
 *   acc[i][v] += broadcast(a[i][p]) * b[p][8v .. 8v+7]        (f32; 4 doubles for f64)
 *
 * 6 x 2 = 12 accumulators + 2 B vectors + 1 broadcast = 15 of the 16 ymm registers.
 * Same structure as microkernel_avx512.c: m, NV and the A layout are compile-time constants
 * in each specialised copy; partial columns (n < NR) use vmaskmov loads and stores.
 *
 * Why 6 x 16 on the AVX2 CPUs (Haswell .. Alder Lake, Zen 1 .. 4): they have 2 FMA pipes
 * with a latency of 4 or 5 cycles, so 8 to 10 FMAs must be in flight: 12 independent
 * accumulators cover that, with 8 loads (2 of B, 6 broadcasts) per 12 FMAs, inside the 2-3
 * loads per cycle these cores can do. 8 x 8 (8 accumulators, 9 loads per 8 FMAs) would be
 * latency-bound on a 5-cycle FMA and load-bound everywhere; 4 x 24 (12 accumulators, 7
 * loads) fits the 16 registers too but pads 784 or 10 columns worse. With the tile in L1
 * it runs within about 10% of the FMA peak (docs/performance.md); the rest is the per-tile
 * cost (zeroing, storing C, the dispatch). */
#include "gemm.h"

#if TG_X86 /* the whole file: x86 intrinsics exist only in x86 builds */
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

INLINE AVX2 void body_f32(const int m, const int nv, const int arow, const int full, int64_t k,
                          const float *a, int64_t rsa, int64_t csa, const float *b, int64_t ldb,
                          float *c, int64_t ldc, int n, int beta) {
    const __m256i mk0 = lane_mask32(n), mk1 = lane_mask32(n - 8);
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
    /* unrolled 4 times: the loop counter and pointer updates are ~6 of the ~20 instructions
     * per step of p, which otherwise crowd the front end (Zen 3 issues 6 per cycle) */
    _Pragma("GCC unroll 4") for (int64_t p = 0; p < k; p++) {
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

/* One copy per (m, nv, arow, full): full = 1 when the tile has all 16 (or 8) columns, so the
 * hot loop has no masked loads and no test for them (GCC does not unswitch it by itself). */
#define CASE_F32(M)                                                                         \
    case M:                                                                                 \
        if (nv == 2 && n == 16) {                                                           \
            if (arow) body_f32(M, 2, 1, 1, k, a, rsa, csa, b, ldb, c, ldc, n, beta);        \
            else body_f32(M, 2, 0, 1, k, a, rsa, csa, b, ldb, c, ldc, n, beta);             \
        } else if (nv == 2) {                                                               \
            if (arow) body_f32(M, 2, 1, 0, k, a, rsa, csa, b, ldb, c, ldc, n, beta);        \
            else body_f32(M, 2, 0, 0, k, a, rsa, csa, b, ldb, c, ldc, n, beta);             \
        } else {                                                                            \
            if (arow) body_f32(M, 1, 1, n == 8, k, a, rsa, csa, b, ldb, c, ldc, n, beta);   \
            else body_f32(M, 1, 0, n == 8, k, a, rsa, csa, b, ldb, c, ldc, n, beta);        \
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

/* ---------- transposing packer (f32): dst[p*nr + j] = j < n ? src[j*lds + p] : 0 ----------
 *
 * Blocks of 8 x 8: 8 row loads (masked at the end of p), the classic 3-stage in-register
 * transpose, 8 stores. Stage 1 interleaves pairs of rows (unpacklo/hi: 2 x 2 blocks), stage 2
 * pairs of pairs (shuffle: 4 x 4 blocks inside each 128-bit half), stage 3 swaps the off-
 * diagonal 128-bit halves (permute2f128). Rows j >= n are zeros, as the panel's padding. */
INLINE AVX2 void transpose8_f32(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) { /* rows 4q..4q+3: 4 x 4 blocks of each 128-bit half */
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

static AVX2 void pack_bt_avx2_f32(const float *src, int64_t lds, int n, int64_t kc, int nr,
                                  float *dst) {
    for (int j0 = 0; j0 < nr; j0 += 8) {
        if (j0 >= n) { /* only padding left: zeros */
            for (int64_t p = 0; p < kc; p++) _mm256_storeu_ps(dst + p * nr + j0, _mm256_setzero_ps());
            continue;
        }
        for (int64_t p0 = 0; p0 < kc; p0 += 8) {
            const int np = kc - p0 < 8 ? (int)(kc - p0) : 8;
            const __m256i mk = lane_mask32(np);
            __m256 r[8];
            for (int j = 0; j < 8; j++)
                r[j] = j0 + j >= n  ? _mm256_setzero_ps()
                       : np == 8    ? _mm256_loadu_ps(src + (j0 + j) * lds + p0)
                                    : _mm256_maskload_ps(src + (j0 + j) * lds + p0, mk);
            transpose8_f32(r);
            for (int p = 0; p < np; p++) _mm256_storeu_ps(dst + (p0 + p) * nr + j0, r[p]);
        }
    }
}

/* ---------- row copier (f32): dst[p*ldd + j] = j < n ? src[p*lds + j] : 0 ----------
 * Whole vectors of 8 (a masked load for the ragged end: masked stores are slow on AMD, masked
 * loads are not). The 6-wide rows of the A panel (a transposed A, the dW products) are one
 * masked load of 6 and a 4 + 2 store; any other width below 8 is scalar. */
static AVX2 void copy_rows_avx2_f32(const float *src, int64_t lds, int n, int64_t kc, int ldd,
                                    float *dst) {
    if (ldd == 6) {
        const __m256i mk = lane_mask32(n < 6 ? n : 6);
        for (int64_t p = 0; p < kc; p++, src += lds, dst += 6) {
            const __m256 v = _mm256_maskload_ps(src, mk);
            _mm_storeu_ps(dst, _mm256_castps256_ps128(v));
            _mm_storel_pi((__m64 *)(dst + 4), _mm256_extractf128_ps(v, 1));
        }
        return;
    }
    for (int64_t p = 0; p < kc; p++, src += lds, dst += ldd) {
        int j = 0;
        for (; j + 8 <= ldd; j += 8)
            _mm256_storeu_ps(dst + j, j + 8 <= n ? _mm256_loadu_ps(src + j)
                                                 : _mm256_maskload_ps(src + j, lane_mask32(n - j)));
        for (; j < ldd; j++) dst[j] = j < n ? src[j] : 0;
    }
}

/* ---------- thin C = A @ B^T (f32): dot products along p (see microkernel_avx512.c) ----------
 *
 *   acc[i][j] += A[i][p .. p+7] * B[j][p .. p+7];     C[i][j] = sum of the 8 lanes
 *
 * Tile 4 x 2: 8 accumulators (2 FMA pipes x 4 cycles latency = 8 FMAs in flight), 6 loads per
 * 8 FMAs, 14 of the 16 ymm registers. N = 10 logits are 5 column pairs, no waste. The 8 sums
 * of lanes are done together: two rounds of hadd and one 128-bit fold give one vector holding
 * all 8 results. The last p block uses masked loads (zeros beyond k). */
#define ROWS4(X) X(0) X(1) X(2) X(3)
INLINE AVX2 void dot_tile_avx2_f32(const int m, const int n, int64_t k, const float *a,
                                   int64_t lda, const float *b, int64_t ldb, float *c,
                                   int64_t ldc) {
#define DECL(i) __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = _mm256_setzero_ps();
    ROWS4(DECL)
#undef DECL
#define FMA(i)                                                                              \
    if (m > i) {                                                                            \
        const __m256 ai = LOAD_A(a + i * lda + p);                                          \
        c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);                                         \
        if (n > 1) c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);                              \
    }
    int64_t p = 0;
    for (; p + 8 <= k; p += 8) {
        const __m256 b0 = _mm256_loadu_ps(b + p), b1 = n > 1 ? _mm256_loadu_ps(b + ldb + p) : b0;
#define LOAD_A(x) _mm256_loadu_ps(x)
        ROWS4(FMA)
#undef LOAD_A
    }
    if (p < k) {
        const __m256i mk = lane_mask32((int)(k - p));
        const __m256 b0 = _mm256_maskload_ps(b + p, mk);
        const __m256 b1 = n > 1 ? _mm256_maskload_ps(b + ldb + p, mk) : b0;
#define LOAD_A(x) _mm256_maskload_ps(x, mk)
        ROWS4(FMA)
#undef LOAD_A
    }
#undef FMA
    /* hadd(x, y) = [x0+x1 y0+y1 x2+x3 y2+y3 | the same for lanes 4..7]; two rounds leave, in
     * each 128-bit half, [row0 j0, row0 j1, row1 j0, row1 j1]; adding the halves finishes */
    const __m256 h0 = _mm256_hadd_ps(c00, c01), h1 = _mm256_hadd_ps(c10, c11);
    const __m256 h2 = _mm256_hadd_ps(c20, c21), h3 = _mm256_hadd_ps(c30, c31);
    const __m256 q01 = _mm256_hadd_ps(h0, h1), q23 = _mm256_hadd_ps(h2, h3);
    const __m128 s01 = _mm_add_ps(_mm256_castps256_ps128(q01), _mm256_extractf128_ps(q01, 1));
    const __m128 s23 = _mm_add_ps(_mm256_castps256_ps128(q23), _mm256_extractf128_ps(q23, 1));
    float s[8];
    _mm_storeu_ps(s, s01);
    _mm_storeu_ps(s + 4, s23);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) c[i * ldc + j] = s[2 * i + j];
}

#define CASE_DOT(M, N)                                                                      \
    case 2 * (M - 1) + N - 1: dot_tile_avx2_f32(M, N, k, a, k, b, k, c, ldc); break;

/* Tile 3 x 4 for a small batch against a wide w (x @ w^T at batch 32, N = 128 .. 512): 12
 * accumulators, 3 rows of A and one row of B at a time in registers (16 ymm), 7 loads per
 * 12 FMAs. The broadcast kernel would first have to repack w^T (a transpose of all of w,
 * about half as long as the arithmetic at batch 32: docs/performance.md); here w is read
 * in place. The four rows of w stay in L1 while the rows of x (in L2) sweep past them. The
 * 12 sums of lanes: per row, hadd(c0, c1), hadd(c2, c3), then hadd of the two leaves
 * [s0 s1 s2 s3] in each 128-bit half; adding the halves finishes. */
#define ROWS3(X) X(0) X(1) X(2)
#define COLS4(X) X(0) X(1) X(2) X(3)
INLINE AVX2 void dot_tile34_avx2_f32(const int m, const int n, int64_t k, const float *a,
                                     const float *b, float *c, int64_t ldc) {
#define DECL(i)                                                                             \
    __m256 c##i##0 = _mm256_setzero_ps(), c##i##1 = c##i##0, c##i##2 = c##i##0,             \
           c##i##3 = c##i##0;
    ROWS3(DECL)
#undef DECL
#define FMA_COL(j)                                                                          \
    if (n > j) {                                                                            \
        const __m256 bj = LOAD(b + j * k + p);                                              \
        c0##j = _mm256_fmadd_ps(a0, bj, c0##j);                                             \
        if (m > 1) c1##j = _mm256_fmadd_ps(a1, bj, c1##j);                                  \
        if (m > 2) c2##j = _mm256_fmadd_ps(a2, bj, c2##j);                                  \
    }
#define STEP                                                                                \
    const __m256 a0 = LOAD(a + p), a1 = m > 1 ? LOAD(a + k + p) : a0;                       \
    const __m256 a2 = m > 2 ? LOAD(a + 2 * k + p) : a0;                                     \
    COLS4(FMA_COL)
    int64_t p = 0;
    for (; p + 8 <= k; p += 8) {
#define LOAD(x) _mm256_loadu_ps(x)
        STEP
#undef LOAD
    }
    if (p < k) {
        const __m256i mk = lane_mask32((int)(k - p));
#define LOAD(x) _mm256_maskload_ps(x, mk)
        STEP
#undef LOAD
    }
#undef STEP
#undef FMA_COL
#define STORE_ROW(i)                                                                        \
    if (m > i) {                                                                            \
        const __m256 q = _mm256_hadd_ps(_mm256_hadd_ps(c##i##0, c##i##1),                   \
                                        _mm256_hadd_ps(c##i##2, c##i##3));                  \
        const __m128 sum = _mm_add_ps(_mm256_castps256_ps128(q), _mm256_extractf128_ps(q, 1)); \
        if (n == 4) {                                                                       \
            _mm_storeu_ps(c + i * ldc, sum);                                                \
        } else {                                                                            \
            float tmp[4];                                                                   \
            _mm_storeu_ps(tmp, sum);                                                        \
            for (int j = 0; j < n; j++) c[i * ldc + j] = tmp[j];                            \
        }                                                                                   \
    }
    ROWS3(STORE_ROW)
#undef STORE_ROW
}

#define CASE_DOT34(M, N)                                                                    \
    case 4 * (M - 1) + N - 1: dot_tile34_avx2_f32(M, N, k, a, b, c, N_); break;

/* C (M,N) = A (M,k) @ B (N,k)^T. Tiny N (the 10 logits): 4 x 2 tiles, rows of A outside.
 * Wider N (small batches only, see gemm_driver.h): 3 x 4 tiles, columns (rows of B) outside. */
static AVX2 void dot_nt_avx2_f32(int64_t M, int64_t N, int64_t k, const float *A,
                                 const float *B, float *C) {
    if (N > 16) {
        const int64_t N_ = N;
        for (int64_t j = 0; j < N; j += 4)
            for (int64_t i = 0; i < M; i += 3) {
                const int m = M - i < 3 ? (int)(M - i) : 3, n = N - j < 4 ? (int)(N - j) : 4;
                const float *a = A + i * k, *b = B + j * k;
                float *c = C + i * N + j;
                switch (4 * (m - 1) + n - 1) {
                    CASE_DOT34(1, 1) CASE_DOT34(1, 2) CASE_DOT34(1, 3) CASE_DOT34(1, 4)
                    CASE_DOT34(2, 1) CASE_DOT34(2, 2) CASE_DOT34(2, 3) CASE_DOT34(2, 4)
                    CASE_DOT34(3, 1) CASE_DOT34(3, 2) CASE_DOT34(3, 3) CASE_DOT34(3, 4)
                    default: break;
                }
            }
        return;
    }
    for (int64_t i = 0; i < M; i += 4) {
        for (int64_t j = 0; j < N; j += 2) {
            const int m = M - i < 4 ? (int)(M - i) : 4, n = N - j < 2 ? (int)(N - j) : 2;
            const float *a = A + i * k, *b = B + j * k;
            const int64_t ldc = N;
            float *c = C + i * N + j;
            switch (2 * (m - 1) + n - 1) {
                CASE_DOT(1, 1) CASE_DOT(1, 2) CASE_DOT(2, 1) CASE_DOT(2, 2)
                CASE_DOT(3, 1) CASE_DOT(3, 2) CASE_DOT(4, 1) CASE_DOT(4, 2)
                default: break;
            }
        }
    }
}

const tg_kernel_f32 tg_kernel_avx2_f32 = {MR32, 8 * NV32, ukr_avx2_f32, pack_bt_avx2_f32,
                                          copy_rows_avx2_f32, dot_nt_avx2_f32, 1};
const tg_kernel_f64 tg_kernel_avx2_f64 = {MR64, 4 * NV64, ukr_avx2_f64, NULL, NULL, NULL, 0};

#else
/* Not an x86 build: nothing to compile (ISO C wants at least one declaration). */
typedef int tg_no_avx2_kernels;
#endif
