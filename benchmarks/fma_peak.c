/* fma_peak.c: the measured float32 FMA peak of one core, for the benchmarks' "fraction of peak".
 *
 * A training step's speed only means something against what the CPU can do, so the benchmarks
 * measure that at run time instead of trusting a datasheet: many independent chains of
 *
 *     acc[c] = acc[c] + acc[c] * m          (one fused multiply-add per lane: 2 FLOPs)
 *
 * with the instruction set the GEMM uses (the caller passes its name). An FMA has a latency of
 * about 4 cycles and modern cores issue 2 (sometimes 4) per cycle, so at least 8 (16) chains
 * must be in flight to keep every FMA unit busy: we use more than that where the registers
 * allow (16 zmm of 32 for AVX-512, 12 ymm of 16 for AVX2, 24 q of 32 for NEON), leaving room
 * for m.
 *
 * m = -2^-20: each step multiplies a chain by 1 - 2^-20, so over the few million steps of a
 * block the values shrink by well under 2^-20 x 10^7 ~ e^-10 and stay normal (no denormal slow
 * path, no overflow). Both operands of the multiply are variables, so the compiler cannot fold
 * it into a constant; each result is summed into a volatile sink, so it cannot drop the loop;
 * and without -ffast-math it cannot reassociate the chains.
 *
 * Timing: blocks of `iters` iterations, `iters` doubled until a block lasts >= 0.5 ms, then
 * blocks until `seconds` have passed and at least 3 were timed. The result is the best block:
 * interruptions by other programs (and the clock ramping up) only make a block slower.
 *
 * This file is not part of the package: benchmarks/fma_peak.py compiles it on its own when a
 * benchmark runs (it needs nothing from csrc/). */
#include <stdint.h>
#include <string.h>
#include <time.h>

/* The same architecture tests as csrc/gemm/gemm.h: x86 paths need GCC or Clang (target
 * attributes), aarch64 always has NEON. */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define FMA_PEAK_X86 1
#include <immintrin.h>
#else
#define FMA_PEAK_X86 0
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define FMA_PEAK_NEON 1
#include <arm_neon.h>
#else
#define FMA_PEAK_NEON 0
#endif

double fma_peak_gflops_f32(const char *isa, double seconds);

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
#if FMA_PEAK_X86
/* 12 chains of 8 floats: 12 accumulators + m = 13 of the 16 ymm registers. The chains are
 * named variables, written out (an array of vectors may live in memory at -O2). */
__attribute__((target("avx2,fma"))) static int64_t fma_loop_avx2(int64_t iters) {
    const __m256 m = _mm256_set1_ps(FMA_M);
    __m256 c0 = _mm256_set1_ps(0.1f); __m256 c1 = _mm256_set1_ps(0.2f);
    __m256 c2 = _mm256_set1_ps(0.3f); __m256 c3 = _mm256_set1_ps(0.4f);
    __m256 c4 = _mm256_set1_ps(0.5f); __m256 c5 = _mm256_set1_ps(0.6f);
    __m256 c6 = _mm256_set1_ps(0.7f); __m256 c7 = _mm256_set1_ps(0.8f);
    __m256 c8 = _mm256_set1_ps(0.9f); __m256 c9 = _mm256_set1_ps(1.0f);
    __m256 c10 = _mm256_set1_ps(1.1f); __m256 c11 = _mm256_set1_ps(1.2f);
    for (int64_t i = 0; i < iters; i++) { /* c = c * m + c, 12 times */
        c0 = _mm256_fmadd_ps(c0, m, c0); c1 = _mm256_fmadd_ps(c1, m, c1);
        c2 = _mm256_fmadd_ps(c2, m, c2);
        c3 = _mm256_fmadd_ps(c3, m, c3); c4 = _mm256_fmadd_ps(c4, m, c4);
        c5 = _mm256_fmadd_ps(c5, m, c5);
        c6 = _mm256_fmadd_ps(c6, m, c6); c7 = _mm256_fmadd_ps(c7, m, c7);
        c8 = _mm256_fmadd_ps(c8, m, c8);
        c9 = _mm256_fmadd_ps(c9, m, c9); c10 = _mm256_fmadd_ps(c10, m, c10);
        c11 = _mm256_fmadd_ps(c11, m, c11);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                             _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    g_fma_sink = lanes[0] + lanes[1] + lanes[2] + lanes[3] + lanes[4] + lanes[5] + lanes[6] +
                 lanes[7];
    return 2 * iters * 12 * 8;
}

/* 16 chains of 16 floats: 16 accumulators + m = 17 of the 32 zmm registers. */
__attribute__((target("avx512f,fma"))) static int64_t fma_loop_avx512(int64_t iters) {
    const __m512 m = _mm512_set1_ps(FMA_M);
    __m512 c0 = _mm512_set1_ps(0.1f); __m512 c1 = _mm512_set1_ps(0.2f);
    __m512 c2 = _mm512_set1_ps(0.3f); __m512 c3 = _mm512_set1_ps(0.4f);
    __m512 c4 = _mm512_set1_ps(0.5f); __m512 c5 = _mm512_set1_ps(0.6f);
    __m512 c6 = _mm512_set1_ps(0.7f); __m512 c7 = _mm512_set1_ps(0.8f);
    __m512 c8 = _mm512_set1_ps(0.9f); __m512 c9 = _mm512_set1_ps(1.0f);
    __m512 c10 = _mm512_set1_ps(1.1f); __m512 c11 = _mm512_set1_ps(1.2f);
    __m512 c12 = _mm512_set1_ps(1.3f); __m512 c13 = _mm512_set1_ps(1.4f);
    __m512 c14 = _mm512_set1_ps(1.5f); __m512 c15 = _mm512_set1_ps(1.6f);
    for (int64_t i = 0; i < iters; i++) { /* c = c * m + c, 16 times */
        c0 = _mm512_fmadd_ps(c0, m, c0); c1 = _mm512_fmadd_ps(c1, m, c1);
        c2 = _mm512_fmadd_ps(c2, m, c2);
        c3 = _mm512_fmadd_ps(c3, m, c3); c4 = _mm512_fmadd_ps(c4, m, c4);
        c5 = _mm512_fmadd_ps(c5, m, c5);
        c6 = _mm512_fmadd_ps(c6, m, c6); c7 = _mm512_fmadd_ps(c7, m, c7);
        c8 = _mm512_fmadd_ps(c8, m, c8);
        c9 = _mm512_fmadd_ps(c9, m, c9); c10 = _mm512_fmadd_ps(c10, m, c10);
        c11 = _mm512_fmadd_ps(c11, m, c11);
        c12 = _mm512_fmadd_ps(c12, m, c12); c13 = _mm512_fmadd_ps(c13, m, c13);
        c14 = _mm512_fmadd_ps(c14, m, c14);
        c15 = _mm512_fmadd_ps(c15, m, c15);
    }
    __m512 s = c0;
    s = _mm512_add_ps(s, c1); s = _mm512_add_ps(s, c2); s = _mm512_add_ps(s, c3);
    s = _mm512_add_ps(s, c4); s = _mm512_add_ps(s, c5); s = _mm512_add_ps(s, c6);
    s = _mm512_add_ps(s, c7); s = _mm512_add_ps(s, c8); s = _mm512_add_ps(s, c9);
    s = _mm512_add_ps(s, c10); s = _mm512_add_ps(s, c11); s = _mm512_add_ps(s, c12);
    s = _mm512_add_ps(s, c13); s = _mm512_add_ps(s, c14); s = _mm512_add_ps(s, c15);
    g_fma_sink = _mm512_reduce_add_ps(s);
    return 2 * iters * 16 * 16;
}
#endif

/* ---------------------------------------------------------------- aarch64: NEON --------- */
#if FMA_PEAK_NEON
/* 24 chains of 4 floats: 24 accumulators + m = 25 of the 32 q registers (cores with four FMA
 * pipes of latency 4 need 16 chains in flight). Named variables, as for AVX2. */
static int64_t fma_loop_neon(int64_t iters) {
    const float32x4_t m = vdupq_n_f32(FMA_M);
    float32x4_t c0 = vdupq_n_f32(0.1f); float32x4_t c1 = vdupq_n_f32(0.2f);
    float32x4_t c2 = vdupq_n_f32(0.3f); float32x4_t c3 = vdupq_n_f32(0.4f);
    float32x4_t c4 = vdupq_n_f32(0.5f); float32x4_t c5 = vdupq_n_f32(0.6f);
    float32x4_t c6 = vdupq_n_f32(0.7f); float32x4_t c7 = vdupq_n_f32(0.8f);
    float32x4_t c8 = vdupq_n_f32(0.9f); float32x4_t c9 = vdupq_n_f32(1.0f);
    float32x4_t c10 = vdupq_n_f32(1.1f); float32x4_t c11 = vdupq_n_f32(1.2f);
    float32x4_t c12 = vdupq_n_f32(1.3f); float32x4_t c13 = vdupq_n_f32(1.4f);
    float32x4_t c14 = vdupq_n_f32(1.5f); float32x4_t c15 = vdupq_n_f32(1.6f);
    float32x4_t c16 = vdupq_n_f32(1.7f); float32x4_t c17 = vdupq_n_f32(1.8f);
    float32x4_t c18 = vdupq_n_f32(1.9f); float32x4_t c19 = vdupq_n_f32(2.0f);
    float32x4_t c20 = vdupq_n_f32(2.1f); float32x4_t c21 = vdupq_n_f32(2.2f);
    float32x4_t c22 = vdupq_n_f32(2.3f); float32x4_t c23 = vdupq_n_f32(2.4f);
    for (int64_t i = 0; i < iters; i++) { /* c = c + c * m (fmla in place), 24 times */
        c0 = vfmaq_f32(c0, c0, m); c1 = vfmaq_f32(c1, c1, m); c2 = vfmaq_f32(c2, c2, m);
        c3 = vfmaq_f32(c3, c3, m); c4 = vfmaq_f32(c4, c4, m); c5 = vfmaq_f32(c5, c5, m);
        c6 = vfmaq_f32(c6, c6, m); c7 = vfmaq_f32(c7, c7, m); c8 = vfmaq_f32(c8, c8, m);
        c9 = vfmaq_f32(c9, c9, m); c10 = vfmaq_f32(c10, c10, m); c11 = vfmaq_f32(c11, c11, m);
        c12 = vfmaq_f32(c12, c12, m); c13 = vfmaq_f32(c13, c13, m); c14 = vfmaq_f32(c14, c14, m);
        c15 = vfmaq_f32(c15, c15, m); c16 = vfmaq_f32(c16, c16, m); c17 = vfmaq_f32(c17, c17, m);
        c18 = vfmaq_f32(c18, c18, m); c19 = vfmaq_f32(c19, c19, m); c20 = vfmaq_f32(c20, c20, m);
        c21 = vfmaq_f32(c21, c21, m); c22 = vfmaq_f32(c22, c22, m); c23 = vfmaq_f32(c23, c23, m);
    }
    float32x4_t s = c0;
    s = vaddq_f32(s, c1); s = vaddq_f32(s, c2); s = vaddq_f32(s, c3); s = vaddq_f32(s, c4);
    s = vaddq_f32(s, c5); s = vaddq_f32(s, c6); s = vaddq_f32(s, c7); s = vaddq_f32(s, c8);
    s = vaddq_f32(s, c9); s = vaddq_f32(s, c10); s = vaddq_f32(s, c11); s = vaddq_f32(s, c12);
    s = vaddq_f32(s, c13); s = vaddq_f32(s, c14); s = vaddq_f32(s, c15); s = vaddq_f32(s, c16);
    s = vaddq_f32(s, c17); s = vaddq_f32(s, c18); s = vaddq_f32(s, c19); s = vaddq_f32(s, c20);
    s = vaddq_f32(s, c21); s = vaddq_f32(s, c22); s = vaddq_f32(s, c23);
    g_fma_sink = vaddvq_f32(s);
    return 2 * iters * 24 * 4;
}
#endif

enum { ISA_UNSUPPORTED = -1, ISA_GENERIC = 0, ISA_AVX2 = 1, ISA_AVX512 = 2, ISA_NEON = 3 };

/* The loop for the ISA called `name` ("generic", "avx2", "avx512", "neon"), or
 * ISA_UNSUPPORTED when this build or this CPU cannot run it: an AVX-512 loop on a CPU without
 * AVX-512 would stop the process with an illegal instruction. */
static int isa_code(const char *name) {
    if (strcmp(name, "generic") == 0) return ISA_GENERIC;
#if FMA_PEAK_X86
    __builtin_cpu_init();
    if (strcmp(name, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? ISA_AVX2
                                                                                : ISA_UNSUPPORTED;
    if (strcmp(name, "avx512") == 0)
        return __builtin_cpu_supports("avx512f") ? ISA_AVX512 : ISA_UNSUPPORTED;
#endif
#if FMA_PEAK_NEON
    if (strcmp(name, "neon") == 0) return ISA_NEON;
#endif
    return ISA_UNSUPPORTED;
}

/* FLOPs done by `iters` iterations of the loop of `isa`. */
static int64_t fma_loop(int isa, int64_t iters) {
    switch (isa) {
#if FMA_PEAK_X86
        case ISA_AVX512: return fma_loop_avx512(iters);
        case ISA_AVX2: return fma_loop_avx2(iters);
#endif
#if FMA_PEAK_NEON
        case ISA_NEON: return fma_loop_neon(iters);
#endif
        default: return fma_loop_generic(iters);
    }
}

static double seconds_now(void) {
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* GFLOP/s of the fastest block of the `isa` loop over about `seconds` (0: just the
 * calibration and 3 blocks; capped at 60), or -1 when this build or CPU cannot run `isa`. */
double fma_peak_gflops_f32(const char *isa_name, double seconds) {
    const int isa = isa_code(isa_name);
    if (isa == ISA_UNSUPPORTED) return -1;
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
