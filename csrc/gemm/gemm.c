/* GEMM engine: the microkernels of the ISA in use (tg_get_isa, isa.c), thread count, scratch
 * memory, and the driver (gemm_driver.h) instantiated for float and double. See gemm.h for
 * the overall design. */
/* posix_memalign and pthreads are POSIX, not ISO C: ask for them under -std=c11 */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "gemm.h"

#include <stdlib.h>
#include <string.h>

#include "../call_once.h"
#include "../kernels.h"

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(_WIN32)
#include <malloc.h> /* _aligned_malloc */
#endif

/* x @ w^T with at most this many outputs goes to the ISA's dot-product kernel, if it has one
 * (K must be long enough for the horizontal sums at the end of each dot to amortize). */
enum { DOT_NT_MAX_N = 16, DOT_NT_MIN_K = 32 };
/* ... and, if the ISA's kernel handles any N (kern->dot_nt_small_m), x @ w^T with at most
 * this many rows, on one thread: it beats the direct driver on the MLPs' forward products at
 * batch 32 and loses from about batch 128 on, where each row of w is re-read from L2 for
 * every 3 rows of x (docs/performance.md, "Measurements behind the C thresholds"). */
enum { DOT_NT_MAX_M = 32 };

/* ---------------------------------------------------------------- settings --------------- */

static TG_ATOMIC int g_threads = 1;
/* TINYGRAD_GEMM_PATH=packed|direct forces a driver (benchmarks, tests): 0 packed, 1 direct,
 * -1 (auto, the default) the choice of use_direct below */
static int g_path = -1;
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

/* Read TINYGRAD_GEMM_PATH and TINYGRAD_NUM_THREADS once, at the first call. A value that is
 * not understood is ignored (c_backend.py reports a misspelled TINYGRAD_GEMM_PATH). */
static void init_from_env(void) {
    const char *s = getenv("TINYGRAD_GEMM_PATH");
    if (s && !strcmp(s, "packed")) g_path = 0;
    if (s && !strcmp(s, "direct")) g_path = 1;
    s = getenv("TINYGRAD_NUM_THREADS");
    if (s) {
        /* strtol, not atoi: "1e9" or a number past INT_MAX must not wrap to a random count. */
        char *end;
        long n = strtol(s, &end, 10);
        if (end != s && *end == '\0' && n > 0) g_threads = clamp_threads(n);
    }
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

static const tg_kernel_f32 *kernel_for_isa_f32(int isa) {
    switch (isa) {
#if TG_X86
        case TG_ISA_AVX512: return &tg_kernel_avx512_f32;
        case TG_ISA_AVX2: return &tg_kernel_avx2_f32;
#endif
#if TG_NEON
        case TG_ISA_NEON: return &tg_kernel_neon_f32;
#endif
        default: return &tg_kernel_generic_f32;
    }
}

static const tg_kernel_f64 *kernel_for_isa_f64(int isa) {
    switch (isa) {
#if TG_X86
        case TG_ISA_AVX512: return &tg_kernel_avx512_f64;
        case TG_ISA_AVX2: return &tg_kernel_avx2_f64;
#endif
#if TG_NEON
        case TG_ISA_NEON: return &tg_kernel_neon_f64;
#endif
        default: return &tg_kernel_generic_f64;
    }
}

/* ---------------------------------------------------------------- cache blocking -------- */

/* The cache sizes (cache_size.c), looked up once; TINYGRAD_GEMM_KC / _MC / _NC / _DIRECT_KC
 * (elements) override the computed blocks, for experiments and benchmarks. */
static int64_t g_l1, g_l2, g_l3, g_force_kc, g_force_mc, g_force_nc, g_force_dkc;
static tg_once_t g_cache_once = TG_ONCE_INIT;

static int64_t env_int(const char *name) {
    const char *s = getenv(name);
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    return s && end != s && *end == '\0' && v > 0 && v < (1L << 24) ? (int64_t)v : 0;
}

static void cache_init(void) {
    tg_cache_sizes(&g_l1, &g_l2, &g_l3);
    g_force_kc = env_int("TINYGRAD_GEMM_KC");
    g_force_mc = env_int("TINYGRAD_GEMM_MC");
    g_force_nc = env_int("TINYGRAD_GEMM_NC");
    g_force_dkc = env_int("TINYGRAD_GEMM_DIRECT_KC");
}

/* Block sizes in elements, for a microkernel of mr x nr and elements of `elem` bytes, from
 * the cache sizes l1, l2, l3 in bytes (0: unknown; l3 0 also means "no L3"):
 *
 *   KC: the packed B micro-panel (KC x nr) is what the microkernel re-reads for every row
 *       tile of A, so it must stay in L1: it gets half of it; the A micro-panel (mr x KC),
 *       which streams past it once per B micro-panel, at most a quarter, which leaves the
 *       C tile and the next A micro-panel's lines room. A multiple of 8 (the kernels unroll
 *       the p loop by 4).             KC = min(L1 / 2 / (nr * elem), L1 / 4 / (mr * elem))
 *   MC: the packed A block (MC x KC) is re-read for every B micro-panel, from L2, which also
 *       sees the B micro-panels and C tiles stream through: a quarter of L2 (a half was
 *       measured slower, docs/performance.md). Rounded up to a multiple of mr: the
 *       driver's equal blocks (block_size in gemm_driver.h) are rounded up to mr too, and
 *       from an MC that is a multiple of mr they never exceed it, so the A block is at most
 *       one micro-panel (mr x KC) over the quarter, and only the last block of the last
 *       row ends in a partial tile (rounding down instead would split M = 128 into two
 *       blocks of 66 rows on Zen 3, each ending in a partial tile).
 *                                              MC = L2 / 4 / (KC * elem), up to a multiple of mr
 *   NC: the packed B block (KC x NC) is re-read for every A block, from L3. The L3 is
 *       shared by all the cores of a chip (a 260 MB L3 is 48 or more cores' share, and a
 *       VM reports the whole of it), so what one core may count on is not a quarter of it
 *       but about its own slice: 1.4 to 5 MB on current server parts, 1 to 8 times L2. So a
 *       quarter of L3 but never more than twice L2; with no L3, the B block lives in L2 next
 *       to the A block: half of L2. A multiple of nr (whole micro-panels). Re-reading B
 *       from further out costs little (once per A block: elem / (2 MC) bytes per flop); the
 *       bound mostly keeps the buffer and the page walks small.
 *                            NC = min(L3 / 4, 2 * L2) / (KC * elem), / nr * nr
 *   DIRECT_KC: the direct driver's K block. Each K block after the first re-reads and
 *       re-writes all of C, which costs more than a B panel (DIRECT_KC x nr, each row nr *
 *       elem bytes plus up to one more line when unpacked) streaming from L2 instead of L1
 *       (sequential, so prefetched); it only has to stay well inside L2: a quarter of it.
 *                                                 DIRECT_KC = L2 / 4 / (nr * elem + 64)
 * Zen 3 (32 KB L1, 512 KB L2, 32 MB L3), f32 AVX2 (6 x 16): KC 256, MC 132, NC 1024,
 * DIRECT_KC 1024. Xeon Emerald Rapids (48 KB, 2 MB, 260 MB), f32 AVX-512 (12 x 32): KC 192,
 * MC 684, NC 5440, DIRECT_KC 2728. Unknown sizes take cache_size.c's fallbacks. */
typedef struct {
    int64_t kc, mc, nc, direct_kc;
} blocking_t;

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* v rounded down (up: round_up = 1) to a multiple of `unit`, then into [unit, hi] (hi a
 * multiple of unit) */
static int64_t whole_units(int64_t v, int64_t unit, int round_up, int64_t hi) {
    return clamp64((v + (round_up ? unit - 1 : 0)) / unit * unit, unit, hi);
}

static blocking_t blocking_from_caches(int64_t l1, int64_t l2, int64_t l3, int mr, int nr,
                                       int64_t e) {
    if (l1 <= 0) l1 = 32 << 10; /* cache_size.c's fallbacks */
    if (l2 <= 0) l2 = 512 << 10;
    const int64_t l3_share = l3 > 0 ? (l3 / 4 < 2 * l2 ? l3 / 4 : 2 * l2) : l2 / 2;
    const int64_t kc_b = l1 / 2 / (nr * e), kc_a = l1 / 4 / (mr * e);
    blocking_t b;
    b.kc = clamp64((kc_b < kc_a ? kc_b : kc_a) / 8 * 8, 32, 2048);
    b.mc = whole_units(l2 / 4 / (b.kc * e), mr, 1, (1 << 16) / mr * mr);
    b.nc = whole_units(l3_share / (b.kc * e), nr, 0, (1 << 20) / nr * nr);
    b.direct_kc = clamp64(l2 / 4 / (nr * e + 64) / 8 * 8, 64, 8192);
    return b;
}

/* The blocks for this machine's caches, or those forced (TINYGRAD_GEMM_KC etc.,
 * tg_gemm_force). */
static blocking_t blocking_for(int mr, int nr, size_t elem) {
    tg_call_once(&g_cache_once, cache_init);
    blocking_t b = blocking_from_caches(g_l1, g_l2, g_l3, mr, nr, (int64_t)elem);
    if (g_force_kc) b.kc = g_force_kc;
    if (g_force_mc) b.mc = g_force_mc;
    if (g_force_nc) b.nc = g_force_nc;
    if (g_force_dkc) b.direct_kc = g_force_dkc;
    return b;
}

/* Which driver? Packing copies M*K + K*N elements so that the microkernel reads memory in
 * order; it pays off on big operands (TLB and cache misses of strided rows) and costs more
 * than it saves on small or thin ones. Chosen by measuring both drivers on every MLP shape
 * (the figures are in docs/performance.md, "Measurements behind the C thresholds"):
 *   - one dimension tiny (N = 10 outputs, K = 10 inputs, M = 10 rows), or M or N below 64
 *     (batch 32: packing B is paid for by too few rows of C); direct;
 *   - transposed A (the dW products) with M and N >= 256, or with A and B not fitting in
 *     L2 (the first layer's dW at batch 512): A is read with a stride of M elements, one
 *     cache line per step of p per row tile, which packing avoids; packed;
 *   - plain A and B (backward's dx = dz @ w) with K >= 256 and B larger than the reach of
 *     the L1 data TLB (TLB_REACH): the direct driver reads B in place, one row of N
 *     elements per step of p, so every row tile walks K rows spread over all of B, and
 *     once B spans more pages than the L1 TLB holds each of those steps can miss it;
 *     packed B is read in order (at K = 64 or 128 direct stays as fast); packed. The
 *     threshold does not grow with L2: 256 KB is also half of Zen 3's L2, where it was
 *     measured, and a 2 MB L2 holds B no better against TLB misses (docs/performance.md,
 *     "The GEMM on AVX-512");
 *   - otherwise direct while A and B fit in about 4 MB (the rows of A stay in L2 and L3
 *     while each B panel sweeps over them). */
/* What one core's first-level data TLB covers with 4 KB pages: 64 entries on Zen 3 and
 * Skylake, 72 on Zen 4, 96 on Golden Cove (Sapphire and Emerald Rapids): the smallest. */
enum { TLB_REACH = 64 * 4096 };

static int use_direct(int64_t M, int64_t N, int64_t K, int transA, int transB, size_t elem) {
    if (g_path >= 0) return g_path;
    if (M <= 16 || N <= 16 || K <= 16 || M < 64 || N < 64) return 1;
    tg_call_once(&g_cache_once, cache_init);
    const double bytes = (double)(M * K + K * N) * (double)elem, MB = 1024.0 * 1024.0;
    if (transA && ((M >= 256 && N >= 256) || bytes > (double)g_l2)) return 0;
    if (!transA && !transB && K >= 256 && (double)(K * N) * (double)elem > TLB_REACH) return 0;
    return bytes <= 4 * MB;
}

/* For benchmarks that compare block sizes in one process (A/B interleaved): force KC, MC, NC,
 * DIRECT_KC (0 = computed) and the driver (path -1 automatic, 0 packed, 1 direct). Not
 * thread safe; not in the cffi interface. */
void tg_gemm_force(int64_t kc, int64_t mc, int64_t nc, int64_t direct_kc, int path) {
    tg_call_once(&g_cache_once, cache_init);
    tg_call_once(&g_init_once, init_from_env);
    g_force_kc = kc, g_force_mc = mc, g_force_nc = nc, g_force_dkc = direct_kc, g_path = path;
}

/* The blocking of one ISA's kernel for any cache sizes (a pure function, for tests): out =
 * {KC, MC, NC, DIRECT_KC, MR, NR}, for float32 (elem 4) or float64 (elem 8). An ISA this
 * build has no kernel for gives the generic kernel's. */
void tg_gemm_blocking_for(int64_t l1, int64_t l2, int64_t l3, int isa, int elem,
                          int64_t out[6]) {
    int mr, nr;
    if (elem == 8) {
        const tg_kernel_f64 *k = kernel_for_isa_f64(isa);
        mr = k->mr, nr = k->nr;
    } else {
        const tg_kernel_f32 *k = kernel_for_isa_f32(isa);
        mr = k->mr, nr = k->nr;
    }
    const blocking_t b = blocking_from_caches(l1, l2, l3, mr, nr, elem == 8 ? 8 : 4);
    out[0] = b.kc, out[1] = b.mc, out[2] = b.nc, out[3] = b.direct_kc, out[4] = mr, out[5] = nr;
}

void tg_gemm_blocking(int64_t out[7]) {
    const tg_kernel_f32 *kern = kernel_for_isa_f32(tg_get_isa());
    const blocking_t b = blocking_for(kern->mr, kern->nr, sizeof(float));
    out[0] = g_l1, out[1] = g_l2, out[2] = g_l3;
    out[3] = b.kc, out[4] = b.mc, out[5] = b.nc, out[6] = b.direct_kc;
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

/* With OpenMP and a local `nthreads` > 1, PARALLEL_REGION starts the team (libgomp keeps its
 * threads between regions, so nothing is spawned per call) and SHARED_FOR splits the next
 * loop into equal contiguous parts, one per thread, with a barrier at its end. */
#ifdef _OPENMP
#define PARALLEL_REGION _Pragma("omp parallel num_threads(nthreads) if (nthreads > 1)")
#define SHARED_FOR _Pragma("omp for schedule(static)")
#else
#define PARALLEL_REGION
#define SHARED_FOR
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
