/* AVX-512 microkernels: f32 tile 12 x 32 (two zmm of 16 floats per row), f64 tile 12 x 16.
 *
 * For each p < k the kernel loads one row of the B sliver (NV vectors), broadcasts each of
 * the m values a[i][p] and does m * NV fused multiply-adds into the accumulators:
 *
 *   acc[i][v] += broadcast(a[i][p]) * b[p][16v .. 16v+15]
 *
 * Why 12 x 32, from the cores that run it (Skylake-SP .. Emerald Rapids, Zen 4 and 5):
 *   - latency: 2 FMA pipes of 512 bits with a latency of 4 (5 on Zen) cycles need 8 to 10
 *     independent FMAs in flight; 12 x 2 = 24 accumulators cover that with margin, and
 *     leave room for the out-of-order core to run a load miss under them;
 *   - registers: 24 accumulators + 2 B vectors + 1 broadcast = 27 of the 32 zmm (14 x 32
 *     would need 31, and GCC then spills);
 *   - loads: 2 B loads + 12 broadcasts (a load each, no shuffle port) per 24 FMAs, 0.58 per
 *     FMA against the 8 x 32 tile's 10 per 16 (0.63), inside the 2-3 loads per cycle of
 *     these cores at 2 FMAs per cycle;
 *   - bandwidth: a B sliver that streams from L2 (the direct driver, or a KC x NR panel
 *     that left L1) costs 2 lines per step of p; 24 FMAs per step (12 cycles at 2 per
 *     cycle) make that 10.7 bytes per cycle, what AVX2's 6 x 16 asks on Zen 3 (64 bytes per
 *     12 FMAs of 8 lanes), against 16 bytes per cycle for 8 x 32;
 *   - per tile: zeroing, the C loads and stores and the dispatch are paid once per 24 * k
 *     FMAs instead of 16 * k; the loop counter and pointer updates (which share ports 0
 *     and 5 with the FMAs on Intel) once per 4 steps of p (unrolled).
 * 16 columns (NR) are one zmm; a wider tile (6 x 64, 4 B vectors) would pad N = 784 to 832
 * and N = 10 to 64, while 12 rows pad the MLPs' batches (32 = 12 + 12 + 8) only in the
 * packed driver's last row tile, which runs the m = 8 copy and wastes no FMAs.
 *
 * Full tiles (n = NR, or n = 16 with one vector) run a copy with plain loads and stores;
 * edge tiles (m < 12 or n < 32) use specialised copies of the same body (m, the vector
 * count NV and the A layout are compile-time constants in each copy, so the accumulators
 * stay in registers) with masked loads and stores along j. Before the loop the kernel
 * prefetches the C tile, which it reads (beta) and writes only at the end, so that its
 * misses overlap the arithmetic.
 *
 * Compiled with a target attribute, never -march: tg_gemm only calls these after checking
 * __builtin_cpu_supports("avx512f") etc. */
#include "gemm.h"

#if TG_X86 /* the whole file: x86 intrinsics exist only in x86 builds */
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))
#define INLINE static inline __attribute__((always_inline))

/* ---------- f32: MR = 12, NR = 32 ---------- */
enum { MR32 = 12, NV32 = 2 };

/* lane j of the mask is set when j < n (n may be <= 0 or >= 16) */
static AVX512 __mmask16 mask16(int n) {
    return n >= 16 ? 0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
}

/* The accumulators are named variables, not an array: GCC keeps an array of vectors in
 * memory (a store per iteration), while named variables stay in registers. ROWS(X) applies
 * X to the row indices 0..11; rows i >= m are compiled away because m is a constant.
 * m, nv, arow and full are compile-time constants at every call site below.
 * arow = 1: csa == 1 (a row-major, unpacked); arow = 0: rsa == 1 (packed or transposed).
 * full = 1: all nv * 16 columns are there (no masks). */
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

/* The C tile's rows, into L1 before the k loop: a row of n <= 2 vectors (128 bytes for
 * f32) spans up to 3 cache lines when it is not aligned; its first element, the first of
 * its second vector (the element VW) and its last element are one in each. */
#define PREFETCH_C(i)                                                                       \
    if (m > i) {                                                                            \
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);                             \
        if (nv > 1) _mm_prefetch((const char *)(c + i * ldc + VW), _MM_HINT_T0);            \
        _mm_prefetch((const char *)(c + i * ldc + (n > 0 ? n : 1) - 1), _MM_HINT_T0);       \
    }

INLINE AVX512 void body_f32(const int m, const int nv, const int arow, const int full,
                            int64_t k, const float *a, int64_t rsa, int64_t csa,
                            const float *b, int64_t ldb, float *c, int64_t ldc, int n,
                            int beta) {
    const __mmask16 mk0 = full ? 0xFFFF : mask16(n), mk1 = full ? 0xFFFF : mask16(n - 16);
    enum { VW = 16 }; /* floats per vector */
    ROWS(PREFETCH_C)
#define DECL(i)                                                                             \
    __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps();                    \
    const float *a##i = a + (m > i ? i : 0) * rsa;
    ROWS(DECL)
#undef DECL
    /* a[i][p] is a_i[p] (arow) or a[p*csa + i] (packed: the m values of one p adjacent) */
#define FMA(i)                                                                              \
    if (m > i) {                                                                            \
        __m512 ai = _mm512_set1_ps(arow ? a##i[p] : a[i]);                                  \
        c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);                                         \
        if (nv > 1) c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);                             \
    }
    _Pragma("GCC unroll 4") for (int64_t p = 0; p < k; p++) {
        __m512 b0 = full ? _mm512_loadu_ps(b) : _mm512_maskz_loadu_ps(mk0, b), b1 = b0;
        if (nv > 1) b1 = full ? _mm512_loadu_ps(b + 16) : _mm512_maskz_loadu_ps(mk1, b + 16);
        b += ldb;
        ROWS(FMA)
        if (!arow) a += csa;
    }
#undef FMA
#define STORE(i)                                                                            \
    if (m > i) {                                                                            \
        STORE1(c + i * ldc, mk0, c##i##0);                                                  \
        if (nv > 1) STORE1(c + i * ldc + 16, mk1, c##i##1);                                 \
    }
#define STORE1(ci, mk, r)                                                                   \
    do {                                                                                    \
        if (full) _mm512_storeu_ps(ci, beta ? _mm512_add_ps(r, _mm512_loadu_ps(ci)) : r);   \
        else _mm512_mask_storeu_ps(                                                         \
            ci, mk, beta ? _mm512_add_ps(r, _mm512_maskz_loadu_ps(mk, ci)) : r);            \
    } while (0)
    ROWS(STORE)
#undef STORE
#undef STORE1
}

/* One specialised copy per (m, nv, arow, full): the switch picks it at run time. full
 * copies exist for the two widths a full tile has (n = 32: two vectors, n = 16: one). */
#define BODY_F32(M, NV, FULL)                                                               \
    if (arow) body_f32(M, NV, 1, FULL, k, a, rsa, csa, b, ldb, c, ldc, n, beta);            \
    else body_f32(M, NV, 0, FULL, k, a, rsa, csa, b, ldb, c, ldc, n, beta);
#define CASE_F32(M)                                                                         \
    case M:                                                                                 \
        if (n == 32) {                                                                      \
            BODY_F32(M, 2, 1)                                                               \
        } else if (nv == 2) {                                                               \
            BODY_F32(M, 2, 0)                                                               \
        } else if (n == 16) {                                                               \
            BODY_F32(M, 1, 1)                                                               \
        } else {                                                                            \
            BODY_F32(M, 1, 0)                                                               \
        }                                                                                   \
        break;

static AVX512 void ukr_avx512_f32(int64_t k, const float *a, int64_t rsa, int64_t csa,
                                  const float *b, int64_t ldb, float *c, int64_t ldc, int m,
                                  int n, int beta) {
    const int nv = n > 16 ? 2 : 1;
    const int arow = csa == 1 && rsa != 1;
    switch (m) {
        CASE_F32(1) CASE_F32(2) CASE_F32(3) CASE_F32(4) CASE_F32(5) CASE_F32(6)
        CASE_F32(7) CASE_F32(8) CASE_F32(9) CASE_F32(10) CASE_F32(11) CASE_F32(12)
        default: break;
    }
}

/* ---------- f64: MR = 12, NR = 16 (two zmm of 8 doubles per row) ----------
 * The same tile in registers (24 accumulators), for the same reasons. */
enum { MR64 = 12, NV64 = 2 };

static AVX512 __mmask8 mask8(int n) {
    return n >= 8 ? 0xFF : n <= 0 ? 0 : (__mmask8)((1u << n) - 1);
}

INLINE AVX512 void body_f64(const int m, const int nv, const int arow, const int full,
                            int64_t k, const double *a, int64_t rsa, int64_t csa,
                            const double *b, int64_t ldb, double *c, int64_t ldc, int n,
                            int beta) {
    const __mmask8 mk0 = full ? 0xFF : mask8(n), mk1 = full ? 0xFF : mask8(n - 8);
    enum { VW = 8 }; /* doubles per vector */
    ROWS(PREFETCH_C)
#define DECL(i)                                                                             \
    __m512d c##i##0 = _mm512_setzero_pd(), c##i##1 = _mm512_setzero_pd();                   \
    const double *a##i = a + (m > i ? i : 0) * rsa;
    ROWS(DECL)
#undef DECL
#define FMA(i)                                                                              \
    if (m > i) {                                                                            \
        __m512d ai = _mm512_set1_pd(arow ? a##i[p] : a[i]);                                 \
        c##i##0 = _mm512_fmadd_pd(ai, b0, c##i##0);                                         \
        if (nv > 1) c##i##1 = _mm512_fmadd_pd(ai, b1, c##i##1);                             \
    }
    _Pragma("GCC unroll 4") for (int64_t p = 0; p < k; p++) {
        __m512d b0 = full ? _mm512_loadu_pd(b) : _mm512_maskz_loadu_pd(mk0, b), b1 = b0;
        if (nv > 1) b1 = full ? _mm512_loadu_pd(b + 8) : _mm512_maskz_loadu_pd(mk1, b + 8);
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
        if (full) _mm512_storeu_pd(ci, beta ? _mm512_add_pd(r, _mm512_loadu_pd(ci)) : r);   \
        else _mm512_mask_storeu_pd(                                                         \
            ci, mk, beta ? _mm512_add_pd(r, _mm512_maskz_loadu_pd(mk, ci)) : r);            \
    } while (0)
    ROWS(STORE)
#undef STORE
#undef STORE1
}

#define BODY_F64(M, NV, FULL)                                                               \
    if (arow) body_f64(M, NV, 1, FULL, k, a, rsa, csa, b, ldb, c, ldc, n, beta);            \
    else body_f64(M, NV, 0, FULL, k, a, rsa, csa, b, ldb, c, ldc, n, beta);
#define CASE_F64(M)                                                                         \
    case M:                                                                                 \
        if (n == 16) {                                                                      \
            BODY_F64(M, 2, 1)                                                               \
        } else if (nv == 2) {                                                               \
            BODY_F64(M, 2, 0)                                                               \
        } else if (n == 8) {                                                                \
            BODY_F64(M, 1, 1)                                                               \
        } else {                                                                            \
            BODY_F64(M, 1, 0)                                                               \
        }                                                                                   \
        break;

static AVX512 void ukr_avx512_f64(int64_t k, const double *a, int64_t rsa, int64_t csa,
                                  const double *b, int64_t ldb, double *c, int64_t ldc, int m,
                                  int n, int beta) {
    const int nv = n > 8 ? 2 : 1;
    const int arow = csa == 1 && rsa != 1;
    switch (m) {
        CASE_F64(1) CASE_F64(2) CASE_F64(3) CASE_F64(4) CASE_F64(5) CASE_F64(6)
        CASE_F64(7) CASE_F64(8) CASE_F64(9) CASE_F64(10) CASE_F64(11) CASE_F64(12)
        default: break;
    }
}
#undef PREFETCH_C

/* ---------- thin C = A @ B^T (f32): dot products along p ----------
 *
 * When N is tiny (the 10 logits of the output layer) and B is transposed, packing B and
 * broadcasting A wastes most lanes (10 of 16) and the transposing pack costs more than the
 * arithmetic. Here A (rows of length k, stride lda) and B (rows of length k, stride ldb) are
 * both contiguous along p, so each C[i][j] is a dot product, vectorized along p:
 *
 *   acc[i][j] += A[i][p .. p+15] * B[j][p .. p+15];     C[i][j] = sum of the 16 lanes
 *
 * Tile 4 x 4: 16 accumulators, 8 loads per 16 FMAs; the last p block uses masked loads. */
#define GRID(X) X(0, 0) X(0, 1) X(0, 2) X(0, 3) X(1, 0) X(1, 1) X(1, 2) X(1, 3)             \
                X(2, 0) X(2, 1) X(2, 2) X(2, 3) X(3, 0) X(3, 1) X(3, 2) X(3, 3)
#define ROWS4(X) X(0) X(1) X(2) X(3)

INLINE AVX512 void dot_tile_f32(const int m, const int n, int64_t k, const float *a,
                                int64_t lda, const float *b, int64_t ldb, float *c,
                                int64_t ldc) {
#define DECL(i, j) __m512 c##i##j = _mm512_setzero_ps();
    GRID(DECL)
#undef DECL
    for (int64_t p = 0; p < k; p += 16) {
        const __mmask16 mk = mask16((int)(k - p < 16 ? k - p : 16));
#define LOAD_A(i)                                                                           \
    __m512 a##i = m > i ? _mm512_maskz_loadu_ps(mk, a + i * lda + p) : _mm512_setzero_ps();
#define LOAD_B(j)                                                                           \
    __m512 b##j = n > j ? _mm512_maskz_loadu_ps(mk, b + j * ldb + p) : _mm512_setzero_ps();
        ROWS4(LOAD_A)
        ROWS4(LOAD_B)
#undef LOAD_A
#undef LOAD_B
#define FMA(i, j) if (m > i && n > j) c##i##j = _mm512_fmadd_ps(a##i, b##j, c##i##j);
        GRID(FMA)
#undef FMA
    }
#define STORE(i, j) if (m > i && n > j) c[i * ldc + j] = _mm512_reduce_add_ps(c##i##j);
    GRID(STORE)
#undef STORE
}

#define CASE_DOT(M, N)                                                                      \
    case 4 * (M - 1) + N - 1: dot_tile_f32(M, N, k, a, lda, b, ldb, c, ldc); break;

static AVX512 void dot_nt_avx512_f32(int64_t M, int64_t N, int64_t k, const float *A,
                                     const float *B, float *C) {
    for (int64_t i = 0; i < M; i += 4) {
        for (int64_t j = 0; j < N; j += 4) {
            const int m = M - i < 4 ? (int)(M - i) : 4, n = N - j < 4 ? (int)(N - j) : 4;
            const float *a = A + i * k, *b = B + j * k;
            const int64_t lda = k, ldb = k, ldc = N;
            float *c = C + i * N + j;
            switch (4 * (m - 1) + n - 1) {
                CASE_DOT(1, 1) CASE_DOT(1, 2) CASE_DOT(1, 3) CASE_DOT(1, 4)
                CASE_DOT(2, 1) CASE_DOT(2, 2) CASE_DOT(2, 3) CASE_DOT(2, 4)
                CASE_DOT(3, 1) CASE_DOT(3, 2) CASE_DOT(3, 3) CASE_DOT(3, 4)
                CASE_DOT(4, 1) CASE_DOT(4, 2) CASE_DOT(4, 3) CASE_DOT(4, 4)
                default: break;
            }
        }
    }
}

/* ---------- transposing packer: dst[p*nr + j] = src[j*lds + p] (see gemm.h) ----------
 *
 * Works on square blocks of W x W (W = 16 floats or 8 doubles): W row loads, an in-register
 * transpose, W stores. The transpose is log2(W) stages; the stage for block size s swaps the
 * off-diagonal s x s sub-blocks inside every 2s x 2s block, which for rows lo = r[i] and
 * hi = r[i+s] (i & s == 0) is, per lane j:
 *   new lo[j] = (j & s) ? hi[j - s] : lo[j]        new hi[j] = (j & s) ? hi[j] : lo[j + s]
 * one two-source permute (vpermt2ps: index < W picks lo, index >= W picks hi) per row. */
#define DEFINE_PACK_BT(T, SUF, W, VEC, LOADZ, PERMUTE2, SETZERO, MASKT, STORE, SETIDX)      \
    INLINE AVX512 void transpose_##SUF(VEC r[W]) {                                          \
        _Pragma("GCC unroll 4") for (int s = 1; s < W; s *= 2) {                            \
            int lo_idx[W], hi_idx[W];                                                       \
            _Pragma("GCC unroll 16") for (int j = 0; j < W; j++) {                          \
                lo_idx[j] = (j & s) ? W + j - s : j;                                        \
                hi_idx[j] = (j & s) ? W + j : j + s;                                        \
            }                                                                               \
            const __m512i li = SETIDX(lo_idx), hi = SETIDX(hi_idx);                         \
            _Pragma("GCC unroll 16") for (int i = 0; i < W; i++) {                          \
                if (i & s) continue;                                                        \
                VEC lo = r[i];                                                              \
                r[i] = PERMUTE2(lo, li, r[i + s]);                                          \
                r[i + s] = PERMUTE2(lo, hi, r[i + s]);                                      \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
    static AVX512 void pack_bt_avx512_##SUF(const T *src, int64_t lds, int n, int64_t kc,   \
                                            int nr, T *dst) {                               \
        for (int j0 = 0; j0 < nr; j0 += W) {                                                \
            if (j0 >= n) { /* only padding left: zeros, no transpose */                     \
                for (int64_t p = 0; p < kc; p++) STORE(dst + p * nr + j0, SETZERO());       \
                continue;                                                                   \
            }                                                                               \
            for (int64_t p0 = 0; p0 < kc; p0 += W) {                                        \
                const int np = kc - p0 < W ? (int)(kc - p0) : W;                            \
                const MASKT mk = (MASKT)((1u << np) - 1);                                   \
                VEC r[W];                                                                   \
                _Pragma("GCC unroll 16") for (int j = 0; j < W; j++)                        \
                    r[j] = j0 + j < n ? LOADZ(mk, src + (j0 + j) * lds + p0) : SETZERO();   \
                transpose_##SUF(r);                                                         \
                _Pragma("GCC unroll 16") for (int p = 0; p < W; p++)                        \
                    if (p < np) STORE(dst + (p0 + p) * nr + j0, r[p]);                      \
            }                                                                               \
        }                                                                                   \
    }

static AVX512 __m512i idx16(const int v[16]) { return _mm512_loadu_si512(v); }
static AVX512 __m512i idx8(const int v[8]) {
    return _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)v));
}

DEFINE_PACK_BT(float, f32, 16, __m512, _mm512_maskz_loadu_ps, _mm512_permutex2var_ps,
               _mm512_setzero_ps, __mmask16, _mm512_storeu_ps, idx16)
DEFINE_PACK_BT(double, f64, 8, __m512d, _mm512_maskz_loadu_pd, _mm512_permutex2var_pd,
               _mm512_setzero_pd, __mmask8, _mm512_storeu_pd, idx8)

/* ---------- row copier for packing: dst[p*ldd + j] = j < n ? src[p*lds + j] : 0 ----------
 * Full vectors are plain loads and stores; only the ragged end of a row is masked (masked
 * stores are slow on AMD). f32 rows are 32 (B panel: two zmm) or 12 (A panel: a ymm and an
 * xmm) wide; f64 rows 16 or 12 (a zmm and a ymm). */
static AVX512 void copy_rows_avx512_f32(const float *src, int64_t lds, int n, int64_t kc,
                                        int ldd, float *dst) {
    for (int64_t p = 0; p < kc; p++, src += lds, dst += ldd) {
        int j = 0;
        for (; j + 16 <= ldd; j += 16) {
            __m512 v = j + 16 <= n ? _mm512_loadu_ps(src + j)
                                   : _mm512_maskz_loadu_ps(mask16(n - j), src + j);
            _mm512_storeu_ps(dst + j, v);
        }
        for (; j + 8 <= ldd; j += 8) {
            __m256 v = j + 8 <= n ? _mm256_loadu_ps(src + j)
                                  : _mm256_maskz_loadu_ps((__mmask8)mask16(n - j), src + j);
            _mm256_storeu_ps(dst + j, v);
        }
        for (; j + 4 <= ldd; j += 4) {
            __m128 v = j + 4 <= n ? _mm_loadu_ps(src + j)
                                  : _mm_maskz_loadu_ps((__mmask8)mask16(n - j), src + j);
            _mm_storeu_ps(dst + j, v);
        }
        for (; j < ldd; j++) dst[j] = j < n ? src[j] : 0;
    }
}

static AVX512 void copy_rows_avx512_f64(const double *src, int64_t lds, int n, int64_t kc,
                                        int ldd, double *dst) {
    for (int64_t p = 0; p < kc; p++, src += lds, dst += ldd) {
        int j = 0;
        for (; j + 8 <= ldd; j += 8) {
            __m512d v = j + 8 <= n ? _mm512_loadu_pd(src + j)
                                   : _mm512_maskz_loadu_pd(mask8(n - j), src + j);
            _mm512_storeu_pd(dst + j, v);
        }
        for (; j + 4 <= ldd; j += 4) {
            __m256d v = j + 4 <= n ? _mm256_loadu_pd(src + j)
                                   : _mm256_maskz_loadu_pd(mask8(n - j), src + j);
            _mm256_storeu_pd(dst + j, v);
        }
        for (; j < ldd; j++) dst[j] = j < n ? src[j] : 0;
    }
}

const tg_kernel_f32 tg_kernel_avx512_f32 = {MR32, 16 * NV32, ukr_avx512_f32, pack_bt_avx512_f32,
                                            copy_rows_avx512_f32, dot_nt_avx512_f32, 0};
const tg_kernel_f64 tg_kernel_avx512_f64 = {MR64, 8 * NV64, ukr_avx512_f64, pack_bt_avx512_f64,
                                            copy_rows_avx512_f64, NULL, 0};

#else
/* Not an x86 build: nothing to compile (ISO C wants at least one declaration). */
typedef int tg_no_avx512_kernels;
#endif
