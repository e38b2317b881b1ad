/* GEMM engine: ISA dispatch, thread count, scratch memory, and the driver (gemm_driver.h)
 * instantiated for float and double. See gemm.h for the overall design. */
/* posix_memalign and pthreads are POSIX, not ISO C: ask for them under -std=c11 */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "gemm.h"

#include <stdlib.h>
#include <string.h>

#include "../kernels.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Threads without <threads.h> (macOS and MSVC lack it): the two things we need, a one-time
 * initialisation and a per-thread pointer with a destructor, come from POSIX threads, or
 * from the Win32 API on Windows. */
#if defined(_WIN32)
#include <malloc.h>
#include <windows.h>
typedef INIT_ONCE tg_once_t;
#define TG_ONCE_INIT INIT_ONCE_STATIC_INIT
static BOOL CALLBACK tg_once_trampoline(PINIT_ONCE once, PVOID fn, PVOID *ctx) {
    (void)once, (void)ctx;
    ((void (*)(void))fn)();
    return TRUE;
}
static void tg_call_once(tg_once_t *once, void (*fn)(void)) {
    InitOnceExecuteOnce(once, tg_once_trampoline, (PVOID)fn, NULL);
}
#else
#include <pthread.h>
typedef pthread_once_t tg_once_t;
#define TG_ONCE_INIT PTHREAD_ONCE_INIT
static void tg_call_once(tg_once_t *once, void (*fn)(void)) { pthread_once(once, fn); }
#endif

/* The settings below are written by tg_set_isa / tg_set_num_threads and read by every call:
 * atomics where the compiler has C11 atomics, plain ints (word-sized, so never torn) else. */
#if defined(__STDC_NO_ATOMICS__)
#define TG_ATOMIC volatile
#else
#define TG_ATOMIC _Atomic
#endif

/* Cache blocking (elements). KC x NR of packed B (the panel the microkernel sweeps over all of
 * A's panels) stays in the 48 KB L1; MC x KC of packed A stays in the 1 MB L2. */
enum { GEMM_KC = 256, GEMM_MC = 128, GEMM_NC = 4096, DIRECT_KC = 1024 };
/* x @ w^T with at most this many outputs goes to the ISA's dot-product kernel, if it has one
 * (K must be long enough for the horizontal sums at the end of each dot to amortize). */
enum { DOT_NT_MAX_N = 16, DOT_NT_MIN_K = 32 };

/* ---------------------------------------------------------------- ISA selection ---------- */

/* Can this CPU run the kernels of `isa`, and does this build have them? */
static int isa_supported(int isa) {
    switch (isa) {
        case TG_ISA_GENERIC: return 1;
#if TG_GEMM_X86
        case TG_ISA_AVX2:
            __builtin_cpu_init();
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        case TG_ISA_AVX512:
            __builtin_cpu_init();
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("fma");
#endif
#if TG_GEMM_NEON
        case TG_ISA_NEON: return 1; /* Advanced SIMD is mandatory in AArch64 */
#endif
        default: return 0;
    }
}

static int best_isa(void) {
    static const int by_preference[] = {TG_ISA_AVX512, TG_ISA_AVX2, TG_ISA_NEON};
    for (size_t i = 0; i < sizeof by_preference / sizeof by_preference[0]; i++)
        if (isa_supported(by_preference[i])) return by_preference[i];
    return TG_ISA_GENERIC;
}

static TG_ATOMIC int g_isa = TG_ISA_GENERIC;
static TG_ATOMIC int g_threads = 1;
static int g_path = -1; /* TINYGRAD_GEMM_PATH=packed|direct forces a driver (benchmarks) */
static tg_once_t g_init_once = TG_ONCE_INIT;

/* A thread count in [1, TG_MAX_THREADS] (1 without OpenMP). libgomp aborts the whole process
 * when it cannot create a thread, so an absurd count (--threads 1000000) must never reach
 * `omp parallel num_threads(...)`. Python caps further, at the CPU count, with a message. */
enum { TG_MAX_THREADS = 256 };
static int clamp_threads(long n) {
#ifdef _OPENMP
    return n < 1 ? 1 : n > TG_MAX_THREADS ? TG_MAX_THREADS : (int)n;
#else
    (void)n;
    return 1;
#endif
}

/* Read TINYGRAD_ISA (generic|avx2|avx512|neon) and TINYGRAD_NUM_THREADS once, at the first
 * call. An ISA the CPU or the build lacks is ignored: the best available one runs. */
static void init_from_env(void) {
    int isa = best_isa();
    const char *s = getenv("TINYGRAD_ISA");
    if (s) {
        int want = !strcmp(s, "generic") ? TG_ISA_GENERIC
                   : !strcmp(s, "avx2")  ? TG_ISA_AVX2
                   : !strcmp(s, "avx512") ? TG_ISA_AVX512
                   : !strcmp(s, "neon")   ? TG_ISA_NEON
                                          : -1;
        if (want >= 0 && isa_supported(want)) isa = want;
    }
    g_isa = isa;
    s = getenv("TINYGRAD_GEMM_PATH");
    if (s) g_path = !strcmp(s, "direct");
    s = getenv("TINYGRAD_NUM_THREADS");
    if (s) {
        /* strtol, not atoi: "1e9" or a number past INT_MAX must not wrap to a random count. */
        char *end;
        long n = strtol(s, &end, 10);
        if (end != s && *end == '\0' && n > 0) g_threads = clamp_threads(n);
    }
}

int tg_get_isa(void) {
    tg_call_once(&g_init_once, init_from_env);
    return g_isa;
}

int tg_set_isa(int isa) {
    tg_call_once(&g_init_once, init_from_env);
    if (isa < 0) isa = best_isa();
    if (isa_supported(isa)) g_isa = isa;
    return g_isa;
}

int tg_set_num_threads(int n) {
    /* Initialise first, so that a later first call cannot overwrite n with the env value. */
    tg_call_once(&g_init_once, init_from_env);
    g_threads = clamp_threads(n);
    return g_threads;
}

int tg_get_num_threads(void) {
    tg_call_once(&g_init_once, init_from_env);
    return g_threads;
}

/* Threads only pay off on big products: below ~4 MFLOP the fork/join costs more than it saves. */
static int threads_for(int64_t M, int64_t N, int64_t K) {
    int n = tg_get_num_threads();
    return (n > 1 && 2.0 * M * N * K >= 4e6) ? n : 1;
}

/* Which driver? Packing copies M*K + K*N elements so that the microkernel reads memory in
 * order; it pays off on big operands (TLB and cache misses of strided rows). Measured on the
 * MLP shapes (Zen 5), the direct driver is faster when one dimension is tiny (N=10 outputs,
 * K=10 inputs, M=10 rows: packing costs as much as the arithmetic it speeds up), and when
 * A and B together fit in about 2 MB (L2 + a bit of L3: the rows of A stay cached while each
 * B panel sweeps over them); up to 4 MB if A is not transposed (a transposed A is read with
 * a stride of M elements, one cache line per step of p, which packing avoids). */
static int use_direct(int64_t M, int64_t N, int64_t K, int transA, size_t elem_size) {
    if (g_path >= 0) return g_path;
    if (M <= 16 || N <= 16 || K <= 16) return 1;
    const double bytes = (double)(M * K + K * N) * (double)elem_size, MB = 1024.0 * 1024.0;
    return bytes <= 2 * MB || (!transA && bytes <= 4 * MB);
}

static const tg_kernel_f32 *kernel_for_isa_f32(int isa) {
    switch (isa) {
#if TG_GEMM_X86
        case TG_ISA_AVX512: return &tg_kernel_avx512_f32;
        case TG_ISA_AVX2: return &tg_kernel_avx2_f32;
#endif
#if TG_GEMM_NEON
        case TG_ISA_NEON: return &tg_kernel_neon_f32;
#endif
        default: return &tg_kernel_generic_f32;
    }
}

static const tg_kernel_f64 *kernel_for_isa_f64(int isa) {
    switch (isa) {
#if TG_GEMM_X86
        case TG_ISA_AVX512: return &tg_kernel_avx512_f64;
        case TG_ISA_AVX2: return &tg_kernel_avx2_f64;
#endif
#if TG_GEMM_NEON
        case TG_ISA_NEON: return &tg_kernel_neon_f64;
#endif
        default: return &tg_kernel_generic_f64;
    }
}

/* ---------------------------------------------------------------- scratch memory --------- */

/* Each thread owns its packing buffers (two slots): no scratch memory is shared between
 * threads, so calls from several Python threads (cffi releases the GIL) and OpenMP workers
 * never collide. The buffers are kept between calls, because a fresh malloc of a few hundred
 * KB is an mmap plus page faults on every call; they are freed when the thread exits (the
 * destructor of the thread-specific key). */
typedef struct {
    void *ptr[2];
    size_t size[2];
} scratch_t;

static void *aligned_alloc64(size_t bytes) {
#if defined(_WIN32)
    return _aligned_malloc(bytes, 64);
#else
    void *p = NULL; /* posix_memalign: unlike C11 aligned_alloc, on every macOS too */
    return posix_memalign(&p, 64, bytes) == 0 ? p : NULL;
#endif
}

static void aligned_free64(void *p) {
#if defined(_WIN32)
    _aligned_free(p);
#else
    free(p);
#endif
}

static void scratch_free(void *p) {
    scratch_t *s = p;
    if (!s) return;
    aligned_free64(s->ptr[0]);
    aligned_free64(s->ptr[1]);
    free(s);
}

#if defined(_WIN32)
static DWORD g_scratch_key = FLS_OUT_OF_INDEXES;
static void NTAPI scratch_free_fls(void *p) { scratch_free(p); }
static void scratch_key_init(void) { g_scratch_key = FlsAlloc(scratch_free_fls); }
static scratch_t *scratch_get(void) {
    return g_scratch_key == FLS_OUT_OF_INDEXES ? NULL : FlsGetValue(g_scratch_key);
}
static int scratch_set(scratch_t *s) {
    return g_scratch_key != FLS_OUT_OF_INDEXES && FlsSetValue(g_scratch_key, s);
}
#else
static pthread_key_t g_scratch_key;
static int g_scratch_key_ok;
static void scratch_key_init(void) {
    g_scratch_key_ok = pthread_key_create(&g_scratch_key, scratch_free) == 0;
}
static scratch_t *scratch_get(void) {
    return g_scratch_key_ok ? pthread_getspecific(g_scratch_key) : NULL;
}
static int scratch_set(scratch_t *s) {
    return g_scratch_key_ok && pthread_setspecific(g_scratch_key, s) == 0;
}
#endif
static tg_once_t g_scratch_once = TG_ONCE_INIT;

void *tg_scratch(int slot, size_t bytes) {
    tg_call_once(&g_scratch_once, scratch_key_init);
    scratch_t *s = scratch_get();
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        if (!scratch_set(s)) { /* no thread-specific slot: no scratch, the caller copes */
            free(s);
            return NULL;
        }
    }
    if (s->size[slot] < bytes) {
        aligned_free64(s->ptr[slot]);
        size_t rounded = (bytes + 4095) / 4096 * 4096; /* whole pages: fewer regrowths */
        s->ptr[slot] = aligned_alloc64(rounded);
        s->size[slot] = s->ptr[slot] ? rounded : 0;
    }
    return s->ptr[slot];
}

/* ---------------------------------------------------------------- the driver ------------- */

/* Tiles are independent: with OpenMP, and a local `nthreads` > 1, the tile loop is shared. */
#ifdef _OPENMP
#define PARALLEL_FOR_NTHREADS \
    _Pragma("omp parallel for num_threads(nthreads) if (nthreads > 1) schedule(static)")
#else
#define PARALLEL_FOR_NTHREADS
#endif

#define T float
#define SUF f32
#include "gemm_driver.h"
#undef T
#undef SUF

#define T double
#define SUF f64
#include "gemm_driver.h"
#undef T
#undef SUF
