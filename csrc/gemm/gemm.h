/* Private declarations of the GEMM engine (csrc/gemm/). Not part of the cffi interface.
 *
 * The engine computes C = op(A) @ op(B) in the BLIS way:
 *
 *   - a register-tiled *microkernel* computes one MR x NR tile of C from an MR x k sliver of
 *     op(A) and a k x NR sliver of op(B), keeping the MR x NR accumulators in registers;
 *   - the *driver* (gemm_driver.h) cuts C into such tiles, and packs A and B into
 *     contiguous panels so that the microkernel streams through memory in order.
 *
 * Every microkernel has the same contract, so one driver serves every ISA:
 *
 *   C[i][j] (+)= sum_{p<k} a[i*rsa + p*csa] * b[p*ldb + j]     for i < m <= MR, j < n <= NR
 *
 *   - a is read with a row stride rsa and a column stride csa, one of which must be 1:
 *     packed panels and transposed A have rsa == 1; an unpacked row-major A has csa == 1;
 *   - b has unit stride along j (a packed panel has ldb == NR; an unpacked B has ldb == N);
 *     kernels never read b[p*ldb + j] for j >= n, so an unpacked B needs no padding;
 *   - beta == 0 overwrites C, beta != 0 accumulates into it (used after the first K block). */
#ifndef TINYGRAD_GEMM_H
#define TINYGRAD_GEMM_H
#include <stddef.h>
#include <stdint.h>

#include "../isa.h"     /* TG_X86, TG_NEON: which hand-written microkernels this build has */
#include "../kernels.h" /* enum tg_isa */

/* A microkernel, with the contract above. */
typedef void (*tg_ukr_f32)(int64_t k, const float *a, int64_t rsa, int64_t csa, const float *b,
                           int64_t ldb, float *c, int64_t ldc, int m, int n, int beta);
typedef void (*tg_ukr_f64)(int64_t k, const double *a, int64_t rsa, int64_t csa,
                           const double *b, int64_t ldb, double *c, int64_t ldc, int m, int n,
                           int beta);

/* Packing a transposed B (stored (N,K)) into k-major panels is a transpose, and done element
 * by element it costs more than the arithmetic on thin products; an ISA may supply a SIMD
 * version (NULL: the driver's scalar loop). Contract, for j < nr and p < kc:
 *   dst[p*nr + j] = j < n ? src[j*lds + p] : 0 */
typedef void (*tg_pack_bt_f32)(const float *src, int64_t lds, int n, int64_t kc, int nr,
                               float *dst);
typedef void (*tg_pack_bt_f64)(const double *src, int64_t lds, int n, int64_t kc, int nr,
                               double *dst);

/* Packing a non-transposed operand copies rows: for p < kc and j < ldd,
 *   dst[p*ldd + j] = j < n ? src[p*lds + j] : 0            (n <= ldd)
 * an ISA may supply a SIMD version (NULL: the driver's scalar loop). */
typedef void (*tg_copy_rows_f32)(const float *src, int64_t lds, int n, int64_t kc, int ldd,
                                 float *dst);
typedef void (*tg_copy_rows_f64)(const double *src, int64_t lds, int n, int64_t kc, int ldd,
                                 double *dst);

/* Optional kernel for thin C (M,N) = A (M,K) @ B (N,K)^T with tiny N (output layer): dot
 * products of contiguous rows, no packing. NULL: the driver uses the general path. */
typedef void (*tg_dot_nt_f32)(int64_t M, int64_t N, int64_t K, const float *A, const float *B,
                              float *C);
typedef void (*tg_dot_nt_f64)(int64_t M, int64_t N, int64_t K, const double *A,
                              const double *B, double *C);

/* One ISA's microkernel, its tile size, and its optional helpers. */
typedef struct {
    int mr, nr;
    tg_ukr_f32 ukr;
    tg_pack_bt_f32 pack_bt;
    tg_copy_rows_f32 copy_rows;
    tg_dot_nt_f32 dot_nt;
    int dot_nt_small_m; /* 1: dot_nt is also fast for small M with any N (see gemm_driver.h) */
} tg_kernel_f32;
typedef struct {
    int mr, nr;
    tg_ukr_f64 ukr;
    tg_pack_bt_f64 pack_bt;
    tg_copy_rows_f64 copy_rows;
    tg_dot_nt_f64 dot_nt;
    int dot_nt_small_m;
} tg_kernel_f64;

/* microkernel_generic.c (every build), microkernel_avx512.c and microkernel_avx2.c (x86),
 * microkernel_neon.c (aarch64) */
extern const tg_kernel_f32 tg_kernel_generic_f32;
extern const tg_kernel_f64 tg_kernel_generic_f64;
#if TG_X86
extern const tg_kernel_f32 tg_kernel_avx512_f32, tg_kernel_avx2_f32;
extern const tg_kernel_f64 tg_kernel_avx512_f64, tg_kernel_avx2_f64;
#endif
#if TG_NEON
extern const tg_kernel_f32 tg_kernel_neon_f32;
extern const tg_kernel_f64 tg_kernel_neon_f64;
#endif

/* An epilogue runs on each finished m x n tile of C (columns j0 .. j0+n-1), right after the
 * microkernel wrote it, while it is still in L1: linear.c uses it for bias + activation. */
typedef void (*tg_epilogue_f32)(float *c, int64_t ldc, int64_t m, int64_t n, int64_t j0,
                                const void *ctx);
typedef void (*tg_epilogue_f64)(double *c, int64_t ldc, int64_t m, int64_t n, int64_t j0,
                                const void *ctx);

/* gemm.c: C = op(A) @ op(B), then epi (may be NULL) on every tile. Thread safe. */
void tg_gemm_f32(int64_t M, int64_t N, int64_t K, const float *A, int transA, const float *B,
                 int transB, float *C, tg_epilogue_f32 epi, const void *ctx);
void tg_gemm_f64(int64_t M, int64_t N, int64_t K, const double *A, int transA,
                 const double *B, int transB, double *C, tg_epilogue_f64 epi, const void *ctx);

/* cache_size.c: the L1 data, L2 and L3 cache sizes in bytes, read from the OS or cpuid at
 * run time (fallbacks 32 KB, 512 KB, 4 MB). */
void tg_cache_sizes(int64_t *l1, int64_t *l2, int64_t *l3);

/* gemm.c: force block sizes and the driver (0 / -1 = automatic), for benchmarks only. */
void tg_gemm_force(int64_t kc, int64_t mc, int64_t nc, int64_t direct_kc, int path);

/* gemm.c: per-thread scratch memory, 64-byte aligned, grown on demand and kept for the next
 * call (freed when the thread exits). slot 0 holds packed B, slot 1 packed A. NULL when no
 * memory could be had (the caller then falls back to loops that need none). */
void *tg_scratch(int slot, size_t bytes);

#endif
