/* fma_peak.c: the measured float32 FMA peak of one core, for the benchmarks' "fraction of peak".
 *
 * A training step's speed only means something against what the CPU can do, so the benchmarks
 * measure that at run time instead of trusting a datasheet: many independent chains of
 *
 *     acc[c] = acc[c] + acc[c] * m          (one fused multiply-add per lane: 2 FLOPs)
 *
 * with the instruction set the GEMM uses (tg_get_isa()). An FMA has a latency of about 4 cycles
 * and modern cores issue 2 (sometimes 4) per cycle, so at least 8 (16) chains must be in flight
 * to keep every FMA unit busy: we use more than that where the registers allow (16 zmm of 32
 * for AVX-512, 12 ymm of 16 for AVX2, 24 q of 32 for NEON), leaving room for m.
 *
 * m = -2^-20: each step multiplies a chain by 1 - 2^-20, so over the few million steps of a
 * block the values shrink by well under 2^-20 x 10^7 ~ e^-10 and stay normal (no denormal slow
 * path, no overflow). Both operands of the multiply are variables, so the compiler cannot fold
 * it into a constant; each result is summed into a volatile sink, so it cannot drop the loop;
 * and without -ffast-math it cannot reassociate the chains.
 *
 * Timing: blocks of `iters` iterations, `iters` doubled until a block lasts >= 0.5 ms, then
 * blocks until `seconds` have passed and at least 3 were timed. The result is the best block:
 * interruptions by other programs (and the clock ramping up) only make a block slower. */
#include <stdint.h>
#include <time.h>

#include "gemm/gemm.h"
#include "kernels.h"

#if TG_GEMM_X86
#include <immintrin.h>
#endif
#if TG_GEMM_NEON
#include <arm_neon.h>
#endif

static volatile float g_fma_sink; /* the chains' results end here: the loop is never dead */

#define FMA_M (-1.0f / 1048576.0f)

/* ---------------------------------------------------------------- generic C ------------- */
/* Plain C, which the compiler vectorizes for the baseline ISA (SSE2 on x86-64: 8 registers of 4
 * floats; GCC and Clang keep them in registers at the package's -O3). Under -std=c11 it does
 * not contract a + a*m into an FMA, so this is a multiply and an add: 2 FLOPs all the same, and
 * what the generic GEMM microkernel (also plain C) can reach. */
enum { GEN_LANES = 32 };
static int64_t fma_loop_generic(int64_t iters) {
    float acc[GEN_LANES];
    for (int j = 0; j < GEN_LANES; j++) acc[j] = 0.1f + (float)j / 16.0f;
    const float m = FMA_M;
    for (int64_t i = 0; i < iters; i++)
        for (int j = 0; j < GEN_LANES; j++) acc[j] = acc[j] + acc[j] * m;
    float s = 0;
    for (int j = 0; j < GEN_LANES; j++) s += acc[j];
    g_fma_sink = s;
    return 2 * iters * GEN_LANES;
}

/* ---------------------------------------------------------------- x86: AVX2, AVX-512 ---- */
#if TG_GEMM_X86
/* 12 chains of 8 floats: 12 accumulators + m = 13 of the 16 ymm registers. The chains are
 * named variables (an array of vectors may live in memory at -O2), written by CHAINS12. */
#define CHAINS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
__attribute__((target("avx2,fma"))) static int64_t fma_loop_avx2(int64_t iters) {
    const __m256 m = _mm256_set1_ps(FMA_M);
#define INIT(j) __m256 c##j = _mm256_set1_ps(0.1f + 0.1f * j);
    CHAINS12(INIT)
#undef INIT
    for (int64_t i = 0; i < iters; i++) {
#define STEP(j) c##j = _mm256_fmadd_ps(c##j, m, c##j); /* c * m + c */
        CHAINS12(STEP)
#undef STEP
    }
    __m256 s = _mm256_setzero_ps();
#define SUM(j) s = _mm256_add_ps(s, c##j);
    CHAINS12(SUM)
#undef SUM
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    g_fma_sink = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] +
                 lanes[7];
    return 2 * iters * 12 * 8;
}

/* 16 chains of 16 floats: 16 accumulators + m = 17 of the 32 zmm registers. */
#define CHAINS16(X) \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
__attribute__((target("avx512f,fma"))) static int64_t fma_loop_avx512(int64_t iters) {
    const __m512 m = _mm512_set1_ps(FMA_M);
#define INIT(j) __m512 c##j = _mm512_set1_ps(0.1f + 0.1f * j);
    CHAINS16(INIT)
#undef INIT
    for (int64_t i = 0; i < iters; i++) {
#define STEP(j) c##j = _mm512_fmadd_ps(c##j, m, c##j); /* c * m + c */
        CHAINS16(STEP)
#undef STEP
    }
    __m512 s = _mm512_setzero_ps();
#define SUM(j) s = _mm512_add_ps(s, c##j);
    CHAINS16(SUM)
#undef SUM
    g_fma_sink = _mm512_reduce_add_ps(s);
    return 2 * iters * 16 * 16;
}
#endif

/* ---------------------------------------------------------------- aarch64: NEON --------- */
#if TG_GEMM_NEON
/* 24 chains of 4 floats: 24 accumulators + m = 25 of the 32 q registers (cores with four FMA
 * pipes of latency 4 need 16 chains in flight). Named variables, as for AVX2. */
#define CHAINS24(X)                                                                         \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)    \
    X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)
static int64_t fma_loop_neon(int64_t iters) {
    const float32x4_t m = vdupq_n_f32(FMA_M);
#define INIT(j) float32x4_t c##j = vdupq_n_f32(0.1f + 0.1f * j);
    CHAINS24(INIT)
#undef INIT
    for (int64_t i = 0; i < iters; i++) {
#define STEP(j) c##j = vfmaq_f32(c##j, c##j, m); /* c + c * m: fmla in place */
        CHAINS24(STEP)
#undef STEP
    }
    float32x4_t s = vdupq_n_f32(0.0f);
#define SUM(j) s = vaddq_f32(s, c##j);
    CHAINS24(SUM)
#undef SUM
    g_fma_sink = vaddvq_f32(s);
    return 2 * iters * 24 * 4;
}
#endif

/* FLOPs done by `iters` iterations of the loop of `isa`. */
static int64_t fma_loop(int isa, int64_t iters) {
    switch (isa) {
#if TG_GEMM_X86
        case TG_ISA_AVX512: return fma_loop_avx512(iters);
        case TG_ISA_AVX2: return fma_loop_avx2(iters);
#endif
#if TG_GEMM_NEON
        case TG_ISA_NEON: return fma_loop_neon(iters);
#endif
        default: return fma_loop_generic(iters);
    }
}

static double seconds_now(void) {
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double tg_fma_peak_gflops_f32(double seconds) {
    const int isa = tg_get_isa();
    if (!(seconds > 0)) seconds = 0; /* NaN or negative: just the calibration */
    if (seconds > 60) seconds = 60;
    double best = 0; /* GFLOP/s of the fastest block */
    int64_t iters = 1024;
    int timed = 0; /* blocks timed after calibration: at least 3, so that a first block slowed
                      by page faults, a JIT (qemu) or the clock ramping up is never the only one */
    const double start = seconds_now();
    for (;;) {
        const double t0 = seconds_now();
        const int64_t flops = fma_loop(isa, iters);
        const double t1 = seconds_now(), dt = t1 - t0;
        if (dt < 5e-4 && iters < ((int64_t)1 << 40)) {
            iters *= 2; /* still calibrating: too short to time well */
            continue;
        }
        if (dt > 0 && (double)flops / dt / 1e9 > best) best = (double)flops / dt / 1e9;
        if (++timed >= 3 && t1 - start >= seconds) break;
    }
    return best;
}
