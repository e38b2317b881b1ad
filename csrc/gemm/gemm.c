/* GEMM engine: ISA dispatch, thread count, scratch memory, and the driver (gemm_driver.h)
 * instantiated for float and double. See gemm.h for the overall design. */
#include "gemm.h"

#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "../kernels.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Cache blocking (elements). KC x NR of packed B (the panel the microkernel sweeps over all of
 * A's panels) stays in the 48 KB L1; MC x KC of packed A stays in the 1 MB L2. */
enum { GEMM_KC = 256, GEMM_MC = 128, GEMM_NC = 4096, DIRECT_KC = 1024 };
/* x @ w^T with at most this many outputs goes to the ISA's dot-product kernel, if it has one
 * (K must be long enough for the horizontal sums at the end of each dot to amortize). */
enum { DOT_NT_MAX_N = 16, DOT_NT_MIN_K = 32 };

/* ---------------------------------------------------------------- ISA selection ---------- */

static int isa_supported(int isa) {
    __builtin_cpu_init();
    switch (isa) {
        case TG_ISA_GENERIC: return 1;
        case TG_ISA_AVX2:
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        case TG_ISA_AVX512:
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("fma");
        default: return 0;
    }
}

static int best_isa(void) {
    return isa_supported(TG_ISA_AVX512) ? TG_ISA_AVX512
           : isa_supported(TG_ISA_AVX2) ? TG_ISA_AVX2
                                        : TG_ISA_GENERIC;
}

static _Atomic int g_isa = TG_ISA_GENERIC;
static _Atomic int g_threads = 1;
static int g_path = -1; /* TINYGRAD_GEMM_PATH=packed|direct forces a driver (benchmarks) */
static once_flag g_init_once = ONCE_FLAG_INIT;

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

/* Read TINYGRAD_ISA (generic|avx2|avx512) and TINYGRAD_NUM_THREADS once, at the first call. */
static void init_from_env(void) {
    int isa = best_isa();
    const char *s = getenv("TINYGRAD_ISA");
    if (s) {
        int want = !strcmp(s, "generic") ? TG_ISA_GENERIC
                   : !strcmp(s, "avx2")  ? TG_ISA_AVX2
                   : !strcmp(s, "avx512") ? TG_ISA_AVX512
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
    call_once(&g_init_once, init_from_env);
    return g_isa;
}

int tg_set_isa(int isa) {
    call_once(&g_init_once, init_from_env);
    if (isa < 0) isa = best_isa();
    if (isa_supported(isa)) g_isa = isa;
    return g_isa;
}

int tg_set_num_threads(int n) {
    /* Initialise first, so that a later first call cannot overwrite n with the env value. */
    call_once(&g_init_once, init_from_env);
    g_threads = clamp_threads(n);
    return g_threads;
}

int tg_get_num_threads(void) {
    call_once(&g_init_once, init_from_env);
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
    return isa == TG_ISA_AVX512 ? &tg_kernel_avx512_f32
           : isa == TG_ISA_AVX2 ? &tg_kernel_avx2_f32
                                : &tg_kernel_generic_f32;
}

static const tg_kernel_f64 *kernel_for_isa_f64(int isa) {
    return isa == TG_ISA_AVX512 ? &tg_kernel_avx512_f64
           : isa == TG_ISA_AVX2 ? &tg_kernel_avx2_f64
                                : &tg_kernel_generic_f64;
}

/* ---------------------------------------------------------------- scratch memory --------- */

/* Each thread owns its packing buffers (two slots): no static scratch is shared, so calls
 * from several Python threads (cffi releases the GIL) and OpenMP workers never collide.
 * The buffers are kept between calls, because a fresh malloc of a few hundred KB is an mmap
 * plus page faults on every call; they are freed by the tss destructor at thread exit. */
typedef struct {
    void *ptr[2];
    size_t size[2];
} scratch_t;

static tss_t g_scratch_key;
static once_flag g_scratch_once = ONCE_FLAG_INIT;

static void scratch_free(void *p) {
    scratch_t *s = p;
    free(s->ptr[0]);
    free(s->ptr[1]);
    free(s);
}

static void scratch_key_init(void) { tss_create(&g_scratch_key, scratch_free); }

void *tg_scratch(int slot, size_t bytes) {
    call_once(&g_scratch_once, scratch_key_init);
    scratch_t *s = tss_get(g_scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return NULL;
        tss_set(g_scratch_key, s);
    }
    if (s->size[slot] < bytes) {
        free(s->ptr[slot]);
        size_t rounded = (bytes + 4095) / 4096 * 4096; /* aligned_alloc wants a multiple */
        s->ptr[slot] = aligned_alloc(64, rounded);
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
