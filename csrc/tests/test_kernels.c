/* test_kernels.c: every kernel of csrc/kernels.h against naive reference loops, in C alone.
 *
 * In the spirit of llm.c's test_gpt2.c: no Python, no NumPy, just the library and the math.
 * Each reference below is the formula from the comment in kernels.h, written as plain loops
 * in double precision. Inputs are random (a fixed seed), rounded to the kernel's precision
 * first, so that the reference and the kernel see exactly the same numbers.
 *
 * Agreement is measured norm-wise, as in the Python tests:
 *     max |got - ref| <= tol * max |ref|,   tol = 1e-5 (f32), 1e-12 (f64)
 * (the GEMM and linear tolerances grow slowly with K, the length of each dot product).
 * Where a result is a cancellation of bigger terms (the linear layer's activations and
 * gradients, the softmax backwards), max |ref| becomes the larger of it and the same formula
 * evaluated on absolute values: the size the rounding errors actually scale with.
 * The reference is rounded to the kernel's precision before comparing, and non-finite entries
 * (inf, NaN) must match exactly. Every output buffer starts as NaN, so an element the kernel
 * forgets to write shows, and is followed by guard elements that must stay untouched.
 *
 * Every kernel is tested on every ISA path this CPU has (tg_set_isa: generic, AVX2, AVX-512,
 * NEON; one setting governs all kernels), the GEMM also on odd shapes and every transpose
 * combination. Which GEMM driver runs (packed or direct) is read once from
 * TINYGRAD_GEMM_PATH, so csrc/tests/run_c_tests.sh runs this program three times.
 *
 * Output: one line per group, "OK   gemm f32 isa=avx2 path=auto (2092 cases, worst err/tol
 * 0.0275, 0.60 s)" or "FAIL ..." with the worst case (groups filled in the same loop show that
 * loop's time), then "N passed, M failed" counting cases; exit status 1 if any case failed.
 *
 * Build and run: csrc/tests/run_c_tests.sh [CC] [RUNNER] compiles every .c file of csrc and
 * csrc/gemm with this one (-O2 -std=c11 -Wall -Wextra -Werror, -fopenmp if the compiler has it). */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gemm/gemm.h" /* tg_gemm_force: tiny blocks for the block-edge tests */
#include "kernels.h"

/* ================================================================ precision plumbing ==== */

/* Every test runs once per precision. Buffers are void *, holding float (F32) or double (F64);
 * each kernel call picks the _f32 or _f64 function explicitly. */
typedef enum { F32 = 0, F64 = 1 } dtype_t;
static const char *const DT_NAME[2] = {"f32", "f64"};
static const double BASE_TOL[2] = {1e-5, 1e-12};

static double round_to(dtype_t dt, double v) { return dt == F32 ? (double)(float)v : v; }

static void round_all(dtype_t dt, double *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = round_to(dt, x[i]);
}

/* Allocations of one test case are tracked and freed together by free_case(). */
enum { MAX_TRACKED = 256 };
static void *g_tracked[MAX_TRACKED];
static int g_ntracked;

static void *alloc_tracked(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p || g_ntracked == MAX_TRACKED) {
        fprintf(stderr, "test_kernels: out of memory\n");
        exit(2);
    }
    g_tracked[g_ntracked++] = p;
    return p;
}

static void free_case(void) {
    while (g_ntracked > 0) free(g_tracked[--g_ntracked]);
}

static double *dnew(int64_t n) { return alloc_tracked((size_t)n * sizeof(double)); }

/* Guard elements after each typed buffer: the kernel must not write there. */
enum { GUARD = 16 };
static const double SENTINEL = 1234.5; /* exact in float */

static size_t elem_size(dtype_t dt) { return dt == F32 ? sizeof(float) : sizeof(double); }

static double tget(dtype_t dt, const void *p, int64_t i) {
    return dt == F32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

static void tset(dtype_t dt, void *p, int64_t i, double v) {
    if (dt == F32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}

/* A typed buffer of n elements (plus guards): a copy of src, or NaN everywhere if src is NULL. */
static void *tnew(dtype_t dt, const double *src, int64_t n) {
    void *p = alloc_tracked((size_t)(n + GUARD) * elem_size(dt));
    for (int64_t i = 0; i < n; i++) tset(dt, p, i, src ? src[i] : NAN);
    for (int64_t i = n; i < n + GUARD; i++) tset(dt, p, i, SENTINEL);
    return p;
}

/* ================================================================ random inputs ========= */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static double urand(double lo, double hi) { /* splitmix64 -> uniform [lo, hi) */
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return lo + (hi - lo) * (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* n values uniform in [lo, hi), rounded to dt */
static double *rand_arr(dtype_t dt, int64_t n, double lo, double hi) {
    double *x = dnew(n);
    for (int64_t i = 0; i < n; i++) x[i] = urand(lo, hi);
    round_all(dt, x, n);
    return x;
}

/* |x| in [0.5, 2) with a random sign: safe divisors */
static double *away_from_zero(dtype_t dt, int64_t n) {
    double *x = rand_arr(dt, n, 0.5, 2.0);
    for (int64_t i = 0; i < n; i++)
        if (urand(0, 1) < 0.5) x[i] = -x[i];
    return x;
}

/* ================================================================ comparing and counting = */

typedef struct {
    double err; /* max |got - ref| / max |ref|; INFINITY for a non-finite mismatch */
    int64_t at; /* where */
    const char *why;
} cmp_t;

/* absref (may be NULL): per entry, the size the rounding error scales with when the result is
 * a cancellation (a sum of terms of both signs, 1 - y^2 near |y| = 1): the same formula on
 * absolute values. The error is then measured relative to max(max |ref|, max absref). */
static cmp_t compare_scaled(dtype_t dt, const void *got, const double *ref, const double *absref,
                            int64_t n) {
    cmp_t c = {0, -1, "max rel err"};
    for (int64_t i = n; i < n + GUARD; i++)
        if (tget(dt, got, i) != SENTINEL) {
            c.err = INFINITY, c.at = i, c.why = "wrote past the end of the output";
            return c;
        }
    double scale = dt == F32 ? FLT_MIN : DBL_MIN;
    for (int64_t i = 0; i < n; i++) {
        const double r = round_to(dt, ref[i]);
        if (isfinite(r) && fabs(r) > scale) scale = fabs(r);
        if (absref && isfinite(absref[i]) && absref[i] > scale) scale = absref[i];
    }
    for (int64_t i = 0; i < n; i++) {
        const double g = tget(dt, got, i), r = round_to(dt, ref[i]);
        if (!isfinite(r)) {
            if (!(isnan(r) ? isnan(g) : g == r)) {
                c.err = INFINITY, c.at = i, c.why = "non-finite reference not matched";
                return c;
            }
        } else if (!isfinite(g)) {
            c.err = INFINITY, c.at = i, c.why = isnan(g) ? "NaN (not written?)" : "inf";
            return c;
        } else if (fabs(g - r) / scale > c.err) {
            c.err = fabs(g - r) / scale, c.at = i;
        }
    }
    return c;
}

static cmp_t compare(dtype_t dt, const void *got, const double *ref, int64_t n) {
    return compare_scaled(dt, got, ref, NULL, n);
}

/* A group of cases: one output line. */
typedef struct {
    char name[96];
    long cases, failed;
    double worst; /* err / tol of the worst case */
    char worst_case[256];
    struct timespec start;
} group_t;

static long g_passed, g_failed;
/* the ISA the kernels below the GEMM are being run on, appended to their group names */
static const char *g_isa_label = "";

static void group_begin(group_t *g, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->name, sizeof g->name, fmt, ap);
    va_end(ap);
    if (g_isa_label[0]) {
        const size_t len = strlen(g->name);
        snprintf(g->name + len, sizeof g->name - len, " isa=%s", g_isa_label);
    }
    g->cases = g->failed = 0;
    g->worst = -1;
    g->worst_case[0] = 0;
    timespec_get(&g->start, TIME_UTC);
}

static double seconds_since(struct timespec t0) {
    struct timespec t1;
    timespec_get(&t1, TIME_UTC);
    return (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
}

/* One case: the output `what` of the call described by fmt..., compared with tolerance tol. */
static void check(group_t *g, cmp_t c, double tol, const char *fmt, ...) {
    const double ratio = c.err / tol;
    const int fail = !(c.err <= tol); /* NaN fails too */
    g->cases++;
    g->failed += fail;
    if (fail ? (g->failed == 1 || ratio > g->worst) : (g->failed == 0 && ratio > g->worst)) {
        char desc[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(desc, sizeof desc, fmt, ap);
        va_end(ap);
        g->worst = ratio;
        snprintf(g->worst_case, sizeof g->worst_case, "%s: %s %.3g at [%lld] (tol %.3g)", desc,
                 c.why, c.err, (long long)c.at, tol);
    }
}

/* One case that is a yes/no property (a return value, an untouched output). */
static void check_true(group_t *g, int ok, const char *fmt, ...) {
    g->cases++;
    if (ok) return;
    g->failed++;
    if (g->failed == 1) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g->worst_case, sizeof g->worst_case, fmt, ap);
        va_end(ap);
        g->worst = INFINITY;
    }
}

static void group_end(const group_t *g) {
    if (g->failed == 0)
        printf("OK   %s (%ld cases, worst err/tol %.3g, %.2f s)\n", g->name, g->cases,
               g->worst < 0 ? 0.0 : g->worst, seconds_since(g->start));
    else
        printf("FAIL %s (%ld of %ld cases failed; worst: %s; %.2f s)\n", g->name, g->failed,
               g->cases, g->worst_case, seconds_since(g->start));
    fflush(stdout);
    g_passed += g->cases - g->failed;
    g_failed += g->failed;
}

/* ================================================================ GEMM ==================== */

/* C (M,N) = opA (M,K) @ opB (K,N), all row-major, in double: one dot product per entry. */
static void ref_matmul(int64_t M, int64_t N, int64_t K, const double *opA, const double *opB,
                       double *C) {
    double *bt = dnew(N * K); /* opB transposed, so that both dot operands are contiguous */
    for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < N; j++) bt[j * K + k] = opB[k * N + j];
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++) s += opA[i * K + k] * bt[j * K + k];
            C[i * N + j] = s;
        }
}

/* The stored layout of an (R,C) matrix x: itself, or its transpose (C,R) when trans. */
static void *stored(dtype_t dt, const double *x, int64_t R, int64_t C, int trans) {
    if (!trans) return tnew(dt, x, R * C);
    double *t = dnew(R * C);
    for (int64_t r = 0; r < R; r++)
        for (int64_t c = 0; c < C; c++) t[c * R + r] = x[r * C + c];
    return tnew(dt, t, R * C);
}

/* A dot product of length K adds K rounding errors; relative to max|C| (which grows like K
 * with these positive-mean inputs) they grow no faster than sqrt(K): a little slack. */
static double gemm_tol(dtype_t dt, int64_t K) {
    return BASE_TOL[dt] * (1 + sqrt((double)K) / 8);
}

static const char *isa_name(int isa) {
    switch (isa) {
        case TG_ISA_GENERIC: return "generic";
        case TG_ISA_AVX2: return "avx2";
        case TG_ISA_AVX512: return "avx512";
        case TG_ISA_NEON: return "neon";
        default: return "?";
    }
}

/* the driver choice as gemm.c reads it: "packed" or "direct" force one, anything else (unset,
 * "auto", an unknown value) leaves the choice to the GEMM */
static const char *gemm_path(void) {
    const char *s = getenv("TINYGRAD_GEMM_PATH");
    return s && !strcmp(s, "packed") ? "packed" : s && !strcmp(s, "direct") ? "direct" : "auto";
}

enum { MAX_ISA = TG_ISA_NEON + 1 };
static int g_isas[MAX_ISA], g_nisa, g_best; /* g_best: the ISA in use at the start */

typedef struct {
    int64_t M, N, K;
} shape_t;

/* The GEMM on one shape, all four transpose flags: tg_matmul on every ISA in isas[] (counted
 * in groups[]), and tg_matmul_ref too when ref_group is not NULL. */
static void gemm_shape(dtype_t dt, shape_t s, const int *isas, int nisa, group_t *groups,
                       group_t *ref_group) {
    const int64_t M = s.M, N = s.N, K = s.K;
    /* values in [-0.5, 1): mixed signs, but a positive mean so max|ref| is no cancellation */
    const double *opA = rand_arr(dt, M * K, -0.5, 1.0), *opB = rand_arr(dt, K * N, -0.5, 1.0);
    double *ref = dnew(M * N);
    ref_matmul(M, N, K, opA, opB, ref);
    const double tol = gemm_tol(dt, K);
    for (int tA = 0; tA < 2; tA++)
        for (int tB = 0; tB < 2; tB++) {
            const void *A = stored(dt, opA, M, K, tA), *B = stored(dt, opB, K, N, tB);
            for (int q = 0; q < nisa; q++) {
                tg_set_isa(isas[q]);
                void *C = tnew(dt, NULL, M * N);
                if (dt == F32)
                    tg_matmul_f32(M, N, K, A, tA, B, tB, C);
                else
                    tg_matmul_f64(M, N, K, A, tA, B, tB, C);
                check(&groups[q], compare(dt, C, ref, M * N), tol,
                      "M=%lld N=%lld K=%lld transA=%d transB=%d", (long long)M, (long long)N,
                      (long long)K, tA, tB);
            }
            if (ref_group) {
                void *C = tnew(dt, NULL, M * N);
                if (dt == F32)
                    tg_matmul_ref_f32(M, N, K, A, tA, B, tB, C);
                else
                    tg_matmul_ref_f64(M, N, K, A, tA, B, tB, C);
                check(ref_group, compare(dt, C, ref, M * N), tol,
                      "M=%lld N=%lld K=%lld transA=%d transB=%d", (long long)M, (long long)N,
                      (long long)K, tA, tB);
            }
        }
    free_case();
}

/* The blocking rule (gemm.c, blocking_from_caches) on other machines' caches, for every ISA
 * (one this build lacks gives the generic kernel's) and both precisions: every block a
 * positive multiple of its unit and bounded, and every packed buffer inside the cache it is
 * meant for. The Xeon's and Zen 3's float32 blocks are the figures gemm.c's comment gives. */
static void test_gemm_blocking_rule(void) {
    static const struct {
        const char *name;
        int64_t l1, l2, l3;
    } CACHES[] = {
        {"Xeon Emerald Rapids", 48 << 10, 2 << 20, (int64_t)260 << 20},
        {"Zen 3", 32 << 10, 512 << 10, 32 << 20},
        {"Apple M, no L3", 128 << 10, 16 << 20, 0},
        {"unknown", 0, 0, 0},
        {"small", 16 << 10, 128 << 10, 256 << 10},
        {"huge", 1 << 20, (int64_t)64 << 20, (int64_t)1 << 30},
    };
    group_t g;
    group_begin(&g, "gemm blocking rule: %d cache sets x %d ISAs x f32, f64",
                (int)(sizeof CACHES / sizeof CACHES[0]), (int)MAX_ISA);
    for (size_t c = 0; c < sizeof CACHES / sizeof CACHES[0]; c++)
        for (int isa = 0; isa < MAX_ISA; isa++)
            for (int64_t e = 4; e <= 8; e += 4) {
                int64_t o[6];
                tg_gemm_blocking_for(CACHES[c].l1, CACHES[c].l2, CACHES[c].l3, isa, (int)e, o);
                const int64_t kc = o[0], mc = o[1], nc = o[2], dkc = o[3], mr = o[4], nr = o[5];
                const int64_t l1 = CACHES[c].l1 ? CACHES[c].l1 : 32 << 10; /* the fallbacks */
                const int64_t l2 = CACHES[c].l2 ? CACHES[c].l2 : 512 << 10, l3 = CACHES[c].l3;
                const int64_t share = l3 > 0 ? (l3 / 4 < 2 * l2 ? l3 / 4 : 2 * l2) : l2 / 2;
                char what[128];
                snprintf(what, sizeof what, "%s isa=%s elem %lld: KC %lld MC %lld NC %lld DKC %lld",
                         CACHES[c].name, isa_name(isa), (long long)e, (long long)kc,
                         (long long)mc, (long long)nc, (long long)dkc);
                check_true(&g, mr >= 1 && mr <= 16 && nr >= 1 && nr <= 64, "tile: %s", what);
                check_true(&g, kc >= 32 && kc <= 2048 && kc % 8 == 0, "KC: %s", what);
                check_true(&g, mc >= mr && mc <= 1 << 16 && mc % mr == 0, "MC: %s", what);
                check_true(&g, nc >= nr && nc <= 1 << 20 && nc % nr == 0, "NC: %s", what);
                check_true(&g, dkc >= 64 && dkc <= 8192 && dkc % 8 == 0, "DKC: %s", what);
                /* L1: the B micro-panel in half, the A micro-panel in a quarter, with C */
                check_true(&g,
                           kc * nr * e <= l1 / 2 && kc * mr * e <= l1 / 4 &&
                               (kc * (mr + nr) + mr * nr) * e <= l1,
                           "micro-panels beyond L1: %s", what);
                /* L2: the A block in a quarter (plus at most the micro-panel MC was rounded
                 * up by), inside half of L2 in any case */
                check_true(&g, mc * kc * e <= l2 / 4 + mr * kc * e && mc * kc * e <= l2 / 2,
                           "A block beyond L2: %s", what);
                /* L3: the B block in this core's share: a quarter of L3, at most twice L2 */
                check_true(&g, nc * kc * e <= share, "B block beyond the L3 share: %s", what);
                check_true(&g, dkc * (nr * e + 64) <= l2 / 4, "direct B panel: %s", what);
                if (c == 0 && e == 4 && mr == 12) /* AVX-512 f32 on the Xeon */
                    check_true(&g, kc == 192 && mc == 684 && nc == 5440 && dkc == 2728,
                               "not gemm.c's figures: %s", what);
                if (c == 1 && e == 4 && mr == 6) /* AVX2 f32 on Zen 3 */
                    check_true(&g, kc == 256 && mc == 132 && nc == 1024 && dkc == 1024,
                               "not gemm.c's figures: %s", what);
            }
    group_end(&g);
}

static void test_gemm(void) {
    /* every (M, N, K) from these: below, at and above the tile sizes (MR 4..12, NR 8..32); in
     * the automatic run, N <= 16 with K >= 32 and transB also reaches the dot-product kernel */
    static const int64_t ODD[] = {1, 2, 3, 7, 16, 17, 33, 129};
    enum { NODD = sizeof ODD / sizeof ODD[0] };
    /* Shapes that reach the drivers' block edges (on Zen 3): K = 0 (C = 0), empty C, K beyond
     * the direct driver's K block (1024) and the packed one's (256), N beyond the packed NC
     * (1024), M beyond MC (132), and the MLP's shapes (784 inputs, 128 hidden, 10 outputs).
     * The work is kept moderate: under qemu-aarch64 this runs about 25 times slower. */
    static const shape_t EDGE[] = {
        {1, 1, 0},     {3, 4, 0},    {0, 5, 3},      {5, 0, 3},       {17, 33, 1100},
        {5, 7, 2100},  {3, 4100, 5}, {130, 10, 784}, {128, 128, 784}, {64, 10, 128},
        {128, 784, 32}, {256, 512, 32}, /* the dW of the MLPs at batch 32 (K = the batch) */
    };
    /* big enough for several blocks of every loop, and (f64, transposed A) over the 2 MB above
     * which the automatic choice is the packed driver */
    static const shape_t LARGE[] = {{300, 257, 513}};
    enum { NEDGE = sizeof EDGE / sizeof EDGE[0], NLARGE = sizeof LARGE / sizeof LARGE[0] };

    for (int dt = F32; dt <= F64; dt++) {
        group_t groups[MAX_ISA], ref_group;
        for (int q = 0; q < g_nisa; q++)
            group_begin(&groups[q], "gemm %s isa=%s path=%s", DT_NAME[dt],
                        isa_name(g_isas[q]), gemm_path());
        group_begin(&ref_group, "matmul_ref %s", DT_NAME[dt]);
        for (int a = 0; a < NODD; a++)
            for (int b = 0; b < NODD; b++)
                for (int c = 0; c < NODD; c++) {
                    const shape_t s = {ODD[a], ODD[b], ODD[c]};
                    gemm_shape((dtype_t)dt, s, g_isas, g_nisa, groups, &ref_group);
                }
        for (int e = 0; e < NEDGE; e++) /* tg_matmul_ref is a slow loop: only on small ones */
            gemm_shape((dtype_t)dt, EDGE[e], g_isas, g_nisa, groups,
                       EDGE[e].M * EDGE[e].N * EDGE[e].K <= 1000000 ? &ref_group : NULL);
        for (int e = 0; e < NLARGE; e++)
            gemm_shape((dtype_t)dt, LARGE[e], g_isas, g_nisa, groups, NULL);
        for (int q = 0; q < g_nisa; q++) group_end(&groups[q]);
        group_end(&ref_group);
    }

    /* The block sizes come from this machine's caches (gemm.c, blocking_for), so the shapes
     * above may not cross every block edge here: force tiny blocks on both drivers, then go
     * back. Two sets, neither made of multiples of the tiles (MR 4..12, NR 8..32): KC 8,
     * MC 12, NC 32, DIRECT_KC 8, and odder still KC 3, MC 5, NC 17, DIRECT_KC 3 (the
     * driver rounds MC and NC up to whole tiles, so every tile size meets a block edge). */
    static const shape_t BLOCKED[] = {{37, 70, 29}, {13, 33, 17}, {64, 40, 100}, {25, 97, 7}};
    static const int64_t TINY[][4] = {{8, 12, 32, 8}, {3, 5, 17, 3}};
    for (int t = 0; t < 2; t++)
        for (int drv = 0; drv < 2; drv++) {
            tg_gemm_force(TINY[t][0], TINY[t][1], TINY[t][2], TINY[t][3], drv);
            for (int dt = F32; dt <= F64; dt++)
                for (int q = 0; q < g_nisa; q++) {
                    group_t g;
                    group_begin(&g, "gemm %s isa=%s path=%s tiny blocks KC %lld MC %lld NC %lld",
                                DT_NAME[dt], isa_name(g_isas[q]), drv ? "direct" : "packed",
                                (long long)TINY[t][0], (long long)TINY[t][1],
                                (long long)TINY[t][2]);
                    for (size_t e = 0; e < sizeof BLOCKED / sizeof BLOCKED[0]; e++)
                        gemm_shape((dtype_t)dt, BLOCKED[e], &g_isas[q], 1, &g, NULL);
                    group_end(&g);
                }
        }
    const char *path = getenv("TINYGRAD_GEMM_PATH"); /* back to the env's choice */
    tg_gemm_force(0, 0, 0, 0, !path ? -1 : !strcmp(path, "direct"));
    int64_t blk[7]; /* L1, L2, L3 bytes; KC, MC, NC, DIRECT_KC elements */
    tg_gemm_blocking(blk);
    group_t gb;
    group_begin(&gb, "gemm blocking L1 %lld L2 %lld L3 %lld: KC %lld MC %lld NC %lld DKC %lld",
                (long long)blk[0], (long long)blk[1], (long long)blk[2], (long long)blk[3],
                (long long)blk[4], (long long)blk[5], (long long)blk[6]);
    check_true(&gb, blk[0] >= 8 << 10 && blk[0] <= 1 << 20, "L1 %lld", (long long)blk[0]);
    check_true(&gb, blk[1] >= 64 << 10 && blk[1] <= (int64_t)64 << 20, "L2 %lld", (long long)blk[1]);
    check_true(&gb, blk[2] >= 256 << 10 && blk[2] <= (int64_t)1 << 30, "L3 %lld", (long long)blk[2]);
    /* the packed B micro-panel (KC x NR floats, NR <= 32) fits in L1, the A block in L2 */
    check_true(&gb, blk[3] >= 32 && blk[3] * 32 * 4 <= blk[0] * 2, "KC %lld", (long long)blk[3]);
    check_true(&gb, blk[4] >= 4 && blk[4] * blk[3] * 4 <= blk[1], "MC %lld", (long long)blk[4]);
    check_true(&gb, blk[5] >= 4 && blk[6] >= 32, "NC %lld DKC %lld", (long long)blk[5],
               (long long)blk[6]);
    group_end(&gb);

    test_gemm_blocking_rule();

    /* OpenMP builds: the tile loops shared by 2 threads (only big products are split) */
    const int threads = tg_get_num_threads();
    if (tg_set_num_threads(2) == 2) {
        for (int dt = F32; dt <= F64; dt++)
            for (int q = 0; q < g_nisa; q++) {
                group_t g;
                group_begin(&g, "gemm %s isa=%s path=%s threads=2", DT_NAME[dt],
                            isa_name(g_isas[q]), gemm_path());
                gemm_shape((dtype_t)dt, LARGE[0], &g_isas[q], 1, &g, NULL);
                group_end(&g);
            }
        tg_set_num_threads(threads);
    } else {
        printf("--   gemm threads=2 not tested (built without OpenMP)\n");
    }
    tg_set_isa(g_best);
}

/* ================================================================ linear ================== */

/* act(z) and act'(y) from kernels.h: 0 none, 1 relu, 2 sigmoid, 3 tanh, 4 leaky_relu */
static double ref_act(int act, double z, double slope) {
    switch (act) {
        case 1: return isnan(z) ? z : z > 0 ? z : 0;
        case 2: return 1 / (1 + exp(-z));
        case 3: return tanh(z);
        case 4: return z > 0 ? z : slope * z;
        default: return z;
    }
}

static double ref_act_grad(int act, double y, double slope) {
    switch (act) {
        case 1: return y > 0 ? 1 : 0;
        case 2: return y * (1 - y);
        case 3: return 1 - y * y;
        case 4: return y > 0 ? 1 : slope;
        default: return 1;
    }
}

static const char *const ACT_NAME[5] = {"none", "relu", "sigmoid", "tanh", "leaky_relu"};

static void linear_case(dtype_t dt, int64_t B, int64_t IN, int64_t OUT, int act, int bias,
                        double scale, group_t *gf, group_t *gb) {
    const double slope = round_to(dt, 0.05); /* scale 20: sigmoid and tanh saturate */
    double *x = rand_arr(dt, B * IN, -2 * scale, 2 * scale), *w = rand_arr(dt, OUT * IN, -1, 1);
    double *b = bias ? rand_arr(dt, OUT, -1, 1) : NULL;
    if (B >= 2) /* a zero row: z = b, or exactly 0 (y = 0, where relu' and leaky' are decided) */
        for (int64_t k = 0; k < IN; k++) x[k] = 0;
    const double tol = gemm_tol(dt, IN);
    char desc[96];
    snprintf(desc, sizeof desc, "B=%lld IN=%lld OUT=%lld act=%s bias=%d scale=%g", (long long)B,
             (long long)IN, (long long)OUT, ACT_NAME[act], bias, scale);

    /* forward: y = act(x @ w^T + b). z is a sum of terms of both signs whose float rounding
     * error scales with sum |x| |w| + |b|; every act here has |act'| <= 1, so that is the
     * scale of y's error too (tanh of a big z loses all relative precision near z = 0). */
    double *y = dnew(B * OUT), *yabs = dnew(B * OUT);
    for (int64_t i = 0; i < B; i++)
        for (int64_t o = 0; o < OUT; o++) {
            double z = b ? b[o] : 0, za = b ? fabs(b[o]) : 0;
            for (int64_t k = 0; k < IN; k++) {
                z += x[i * IN + k] * w[o * IN + k];
                za += fabs(x[i * IN + k] * w[o * IN + k]);
            }
            y[i * OUT + o] = ref_act(act, z, slope);
            yabs[i * OUT + o] = za;
        }
    void *tx = tnew(dt, x, B * IN), *tw = tnew(dt, w, OUT * IN), *tb = b ? tnew(dt, b, OUT) : NULL;
    void *ty = tnew(dt, NULL, B * OUT);
    if (dt == F32)
        tg_linear_forward_f32(B, IN, OUT, tx, tw, tb, ty, act, (float)slope);
    else
        tg_linear_forward_f64(B, IN, OUT, tx, tw, tb, ty, act, slope);
    check(gf, compare_scaled(dt, ty, y, yabs, B * OUT), tol, "%s", desc);

    /* backward from the reference y (rounded): dz = act'(y) dy, dx = dz @ w, dw = dz^T @ x,
     * db = column sums of dz. The error scales (the *a arrays) are the same sums over
     * absolute values with |act'| <= 1: act'(y) = 1 - y^2 near |y| = 1 is a cancellation. */
    round_all(dt, y, B * OUT);
    double *dy = rand_arr(dt, B * OUT, -1, 1), *dz = dnew(B * OUT), *dza = dnew(B * OUT);
    double *dx = dnew(B * IN), *dw = dnew(OUT * IN), *db = dnew(OUT);
    double *dxa = dnew(B * IN), *dwa = dnew(OUT * IN), *dba = dnew(OUT);
    for (int64_t i = 0; i < B * OUT; i++) {
        dz[i] = ref_act_grad(act, y[i], slope) * dy[i];
        dza[i] = fabs(dy[i]);
    }
    for (int64_t i = 0; i < B; i++)
        for (int64_t k = 0; k < IN; k++) {
            double s = 0, sa = 0;
            for (int64_t o = 0; o < OUT; o++) {
                s += dz[i * OUT + o] * w[o * IN + k];
                sa += dza[i * OUT + o] * fabs(w[o * IN + k]);
            }
            dx[i * IN + k] = s, dxa[i * IN + k] = sa;
        }
    for (int64_t o = 0; o < OUT; o++) {
        double sb = 0, sba = 0;
        for (int64_t i = 0; i < B; i++) sb += dz[i * OUT + o], sba += dza[i * OUT + o];
        db[o] = sb, dba[o] = sba;
        for (int64_t k = 0; k < IN; k++) {
            double s = 0, sa = 0;
            for (int64_t i = 0; i < B; i++) {
                s += dz[i * OUT + o] * x[i * IN + k];
                sa += dza[i * OUT + o] * fabs(x[i * IN + k]);
            }
            dw[o * IN + k] = s, dwa[o * IN + k] = sa;
        }
    }
    const double btol = gemm_tol(dt, B > OUT ? B : OUT);
    void *tyr = tnew(dt, y, B * OUT), *tdy = tnew(dt, dy, B * OUT);
    for (int need_dx = 0; need_dx < 2; need_dx++)
        for (int need_db = 0; need_db < 2; need_db++) {
            void *tdz = tnew(dt, NULL, B * OUT), *tdw = tnew(dt, NULL, OUT * IN);
            void *tdx = need_dx ? tnew(dt, NULL, B * IN) : NULL;
            void *tdb = need_db ? tnew(dt, NULL, OUT) : NULL;
            if (dt == F32)
                tg_linear_backward_f32(B, IN, OUT, tx, tw, tyr, tdy, tdz, tdx, tdw, tdb, act,
                                       (float)slope);
            else
                tg_linear_backward_f64(B, IN, OUT, tx, tw, tyr, tdy, tdz, tdx, tdw, tdb, act,
                                       slope);
            check(gb, compare_scaled(dt, tdz, dz, dza, B * OUT), btol, "dz %s", desc);
            check(gb, compare_scaled(dt, tdw, dw, dwa, OUT * IN), btol, "dw %s dx=%d db=%d", desc,
                  need_dx, need_db);
            if (tdx)
                check(gb, compare_scaled(dt, tdx, dx, dxa, B * IN), btol, "dx %s db=%d", desc,
                      need_db);
            if (tdb)
                check(gb, compare_scaled(dt, tdb, db, dba, OUT), btol, "db %s dx=%d", desc,
                      need_dx);
        }
    free_case();
}

static void test_linear(void) {
    /* (B, IN, OUT): odd, thin (OUT <= 16 with IN >= 32 takes the dot-product kernel), MLP */
    static const int64_t SIZES[][3] = {{1, 3, 17},  {17, 129, 3}, {129, 17, 10}, {3, 784, 16},
                                       {33, 100, 40}, {2, 1, 1},  {9, 200, 33}};
    enum { NSIZES = sizeof SIZES / sizeof SIZES[0] };
    for (int dt = F32; dt <= F64; dt++)
        for (int q = 0; q < g_nisa; q++) {
            tg_set_isa(g_isas[q]);
            group_t gf, gb;
            group_begin(&gf, "linear_forward %s isa=%s path=%s", DT_NAME[dt],
                        isa_name(g_isas[q]), gemm_path());
            group_begin(&gb, "linear_backward %s isa=%s path=%s", DT_NAME[dt],
                        isa_name(g_isas[q]), gemm_path());
            for (int s = 0; s < NSIZES; s++)
                for (int act = 0; act <= 4; act++)
                    for (int bias = 0; bias < 2; bias++)
                        for (int big = 0; big < (act == 2 || act == 3 ? 2 : 1); big++)
                            linear_case((dtype_t)dt, SIZES[s][0], SIZES[s][1], SIZES[s][2], act,
                                        bias, big ? 20 : 1, &gf, &gb);
            group_end(&gf);
            group_end(&gb);
        }
    /* the linear layer's products (forward, dx, dW, each with the epilogue on every tile)
     * across block edges too: the tiny blocks of test_gemm, on both drivers */
    static const int64_t BLOCKED[][3] = {{37, 70, 29}, {13, 33, 17}, {25, 97, 7}};
    for (int drv = 0; drv < 2; drv++) {
        tg_gemm_force(3, 5, 17, 3, drv);
        for (int dt = F32; dt <= F64; dt++)
            for (int q = 0; q < g_nisa; q++) {
                tg_set_isa(g_isas[q]);
                group_t gf, gb;
                group_begin(&gf, "linear_forward %s isa=%s path=%s tiny blocks", DT_NAME[dt],
                            isa_name(g_isas[q]), drv ? "direct" : "packed");
                group_begin(&gb, "linear_backward %s isa=%s path=%s tiny blocks", DT_NAME[dt],
                            isa_name(g_isas[q]), drv ? "direct" : "packed");
                for (int s = 0; s < 3; s++)
                    for (int act = 0; act <= 1; act++)
                        linear_case((dtype_t)dt, BLOCKED[s][0], BLOCKED[s][1], BLOCKED[s][2],
                                    act, 1, 1, &gf, &gb);
                group_end(&gf);
                group_end(&gb);
            }
    }
    const char *path = getenv("TINYGRAD_GEMM_PATH"); /* back to the env's choice */
    tg_gemm_force(0, 0, 0, 0, !path ? -1 : !strcmp(path, "direct"));
    tg_set_isa(g_best);
}

/* ================================================================ elementwise ============= */

/* sizes of the elementwise tests; 0: nothing may be written */
static const int64_t NS[] = {0, 1, 3, 17, 129, 1000, 4099};
enum { NNS = sizeof NS / sizeof NS[0] };
static const int64_t MN[][2] = {{1, 1}, {17, 129}, {129, 3}, {3, 1}, {1, 1000}, {7, 33}, {0, 5}};
enum { NMN = sizeof MN / sizeof MN[0] };
static const char *const OP_NAME[6] = {"add", "sub", "mul", "div", "rsub", "rdiv"};

/* out = a OP b, TG_RSUB / TG_RDIV with b on the left */
static double ref_binop(int op, double x, double y) {
    switch (op) {
        case TG_ADD: return x + y;
        case TG_SUB: return x - y;
        case TG_MUL: return x * y;
        case TG_DIV: return x / y;
        case TG_RSUB: return y - x;
        case TG_RDIV: return y / x;
        default: return NAN;
    }
}

static void test_binary(void) {
    for (int dt = F32; dt <= F64; dt++) {
        group_t gs, gr, gc, gk;
        group_begin(&gs, "binary %s", DT_NAME[dt]);
        group_begin(&gr, "binary_row %s", DT_NAME[dt]);
        group_begin(&gc, "binary_col %s", DT_NAME[dt]);
        group_begin(&gk, "binary_scalar %s", DT_NAME[dt]);
        const double tol = BASE_TOL[dt];
        for (int op = TG_ADD; op <= TG_RDIV; op++) {
            for (int s = 0; s < NNS; s++) { /* same shape; then out aliasing a, and b */
                const int64_t n = NS[s];
                double *a = away_from_zero((dtype_t)dt, n), *b = away_from_zero((dtype_t)dt, n);
                double *ref = dnew(n);
                for (int64_t i = 0; i < n; i++) ref[i] = ref_binop(op, a[i], b[i]);
                for (int alias = 0; alias < 3; alias++) {
                    void *ta = tnew((dtype_t)dt, a, n), *tb = tnew((dtype_t)dt, b, n);
                    void *out = alias == 1 ? ta : alias == 2 ? tb : tnew((dtype_t)dt, NULL, n);
                    if (dt == F32)
                        tg_binary_f32(op, n, ta, tb, out);
                    else
                        tg_binary_f64(op, n, ta, tb, out);
                    check(&gs, compare((dtype_t)dt, out, ref, n), tol, "%s n=%lld out=%s",
                          OP_NAME[op], (long long)n, alias == 1 ? "a" : alias == 2 ? "b" : "new");
                }
                free_case();
            }
            for (int s = 0; s < NMN; s++) { /* row and column broadcasts */
                const int64_t M = MN[s][0], N = MN[s][1];
                double *a = away_from_zero((dtype_t)dt, M * N);
                double *row = away_from_zero((dtype_t)dt, N), *col = away_from_zero((dtype_t)dt, M);
                double *rref = dnew(M * N), *cref = dnew(M * N);
                for (int64_t i = 0; i < M; i++)
                    for (int64_t j = 0; j < N; j++) {
                        rref[i * N + j] = ref_binop(op, a[i * N + j], row[j]);
                        cref[i * N + j] = ref_binop(op, a[i * N + j], col[i]);
                    }
                for (int alias = 0; alias < 2; alias++) {
                    void *ta = tnew((dtype_t)dt, a, M * N), *trow = tnew((dtype_t)dt, row, N);
                    void *out = alias ? ta : tnew((dtype_t)dt, NULL, M * N);
                    if (dt == F32)
                        tg_binary_row_f32(op, M, N, ta, trow, out);
                    else
                        tg_binary_row_f64(op, M, N, ta, trow, out);
                    check(&gr, compare((dtype_t)dt, out, rref, M * N), tol,
                          "%s M=%lld N=%lld out=%s", OP_NAME[op], (long long)M, (long long)N,
                          alias ? "a" : "new");
                    void *ta2 = tnew((dtype_t)dt, a, M * N), *tcol = tnew((dtype_t)dt, col, M);
                    void *out2 = alias ? ta2 : tnew((dtype_t)dt, NULL, M * N);
                    if (dt == F32)
                        tg_binary_col_f32(op, M, N, ta2, tcol, out2);
                    else
                        tg_binary_col_f64(op, M, N, ta2, tcol, out2);
                    check(&gc, compare((dtype_t)dt, out2, cref, M * N), tol,
                          "%s M=%lld N=%lld out=%s", OP_NAME[op], (long long)M, (long long)N,
                          alias ? "a" : "new");
                }
                free_case();
            }
            static const double SCALARS[] = {2, -0.3, 1e-3, 1, -7.5};
            for (int k = 0; k < 5; k++)
                for (int s = 0; s < NNS; s++) {
                    const int64_t n = NS[s];
                    const double sc = round_to((dtype_t)dt, SCALARS[k]);
                    double *a = away_from_zero((dtype_t)dt, n), *ref = dnew(n);
                    for (int64_t i = 0; i < n; i++) ref[i] = ref_binop(op, a[i], sc);
                    for (int alias = 0; alias < 2; alias++) {
                        void *ta = tnew((dtype_t)dt, a, n);
                        void *out = alias ? ta : tnew((dtype_t)dt, NULL, n);
                        if (dt == F32)
                            tg_binary_scalar_f32(op, n, ta, (float)sc, out);
                        else
                            tg_binary_scalar_f64(op, n, ta, sc, out);
                        check(&gk, compare((dtype_t)dt, out, ref, n), tol, "%s n=%lld s=%g out=%s",
                              OP_NAME[op], (long long)n, sc, alias ? "a" : "new");
                    }
                    free_case();
                }
        }
        group_end(&gs);
        group_end(&gr);
        group_end(&gc);
        group_end(&gk);
    }
}

/* The one-input maps (neg, pow, exp, log and the activations) share one loop: each has a
 * reference, an input range, and a call. */
enum { U_NEG, U_POW, U_EXP, U_LOG, U_SIGMOID, U_TANH, U_RELU, U_LEAKY, NUNARY };
static const char *const UNARY_NAME[NUNARY] = {"neg",     "pow",  "exp",  "log",
                                               "sigmoid", "tanh", "relu", "leaky_relu"};

static double ref_unary(int u, double x, double p) {
    switch (u) {
        case U_NEG: return -x;
        case U_POW: return pow(x, p);
        case U_EXP: return exp(x);
        case U_LOG: return log(x);
        case U_SIGMOID: return ref_act(2, x, 0);
        case U_TANH: return tanh(x);
        case U_RELU: return ref_act(1, x, 0);
        case U_LEAKY: return ref_act(4, x, p);
        default: return NAN;
    }
}

static void call_unary(dtype_t dt, int u, int64_t n, const void *a, double p, void *out) {
    if (dt == F32) {
        switch (u) {
            case U_NEG: tg_neg_f32(n, a, out); break;
            case U_POW: tg_pow_f32(n, a, (float)p, out); break;
            case U_EXP: tg_exp_f32(n, a, out); break;
            case U_LOG: tg_log_f32(n, a, out); break;
            case U_SIGMOID: tg_sigmoid_f32(n, a, out); break;
            case U_TANH: tg_tanh_f32(n, a, out); break;
            case U_RELU: tg_relu_f32(n, a, out); break;
            case U_LEAKY: tg_leaky_relu_f32(n, a, (float)p, out); break;
            default: break;
        }
    } else {
        switch (u) {
            case U_NEG: tg_neg_f64(n, a, out); break;
            case U_POW: tg_pow_f64(n, a, p, out); break;
            case U_EXP: tg_exp_f64(n, a, out); break;
            case U_LOG: tg_log_f64(n, a, out); break;
            case U_SIGMOID: tg_sigmoid_f64(n, a, out); break;
            case U_TANH: tg_tanh_f64(n, a, out); break;
            case U_RELU: tg_relu_f64(n, a, out); break;
            case U_LEAKY: tg_leaky_relu_f64(n, a, p, out); break;
            default: break;
        }
    }
}

typedef struct {
    int u;
    double p;      /* pow's exponent, leaky_relu's slope */
    double lo, hi; /* input range */
} unary_case_t;

/* Values every map must get right at the edges: zeros, huge, tiny, infinities, NaN. */
static const double SPECIAL[] = {0.0,   -0.0, 1.0,  -1.0,  100.0,    -100.0, 800.0,
                                 -800.0, 1e4, -1e4, 1e-30, INFINITY, -INFINITY, NAN};
enum { NSPECIAL = sizeof SPECIAL / sizeof SPECIAL[0] };

static void test_unary(void) {
    static const unary_case_t CASES[] = {
        {U_NEG, 0, -2, 2},       {U_POW, 2, -2, 2},      {U_POW, 3, -2, 2},
        {U_POW, 0.5, 0.01, 2},   {U_POW, -1.5, 0.5, 2},  {U_POW, 1, -2, 2},
        {U_EXP, 0, -2, 2},       {U_EXP, 0, -100, 100},  {U_LOG, 0, 0.01, 2},
        {U_LOG, 0, 1e-3, 1e6},   {U_SIGMOID, 0, -2, 2},  {U_SIGMOID, 0, -120, 120},
        {U_TANH, 0, -2, 2},      {U_TANH, 0, -40, 40},   {U_RELU, 0, -2, 2},
        {U_LEAKY, 0.1, -2, 2},   {U_LEAKY, 0.01, -2, 2},
    };
    enum { NCASES = sizeof CASES / sizeof CASES[0] };
    for (int dt = F32; dt <= F64; dt++) {
        group_t groups[NUNARY];
        for (int u = 0; u < NUNARY; u++)
            group_begin(&groups[u], "%s %s", UNARY_NAME[u], DT_NAME[dt]);
        for (int c = 0; c < NCASES; c++) {
            const unary_case_t uc = CASES[c];
            const double p = round_to((dtype_t)dt, uc.p);
            for (int s = 0; s < NNS; s++) {
                const int64_t n = NS[s];
                double *a = rand_arr((dtype_t)dt, n, uc.lo, uc.hi), *ref = dnew(n);
                if (n > 3) a[n / 2] = uc.lo < 0 && uc.hi > 0 ? 0 : a[n / 2]; /* an exact zero */
                for (int64_t i = 0; i < n; i++) ref[i] = ref_unary(uc.u, a[i], p);
                for (int alias = 0; alias < 2; alias++) {
                    void *ta = tnew((dtype_t)dt, a, n);
                    void *out = alias ? ta : tnew((dtype_t)dt, NULL, n);
                    call_unary((dtype_t)dt, uc.u, n, ta, p, out);
                    check(&groups[uc.u], compare((dtype_t)dt, out, ref, n), BASE_TOL[dt],
                          "p=%g x in [%g, %g) n=%lld out=%s", p, uc.lo, uc.hi, (long long)n,
                          alias ? "a" : "new");
                }
                free_case();
            }
        }
        /* edge values, one at a time (so max|ref| is that value's) */
        static const double POWS[] = {2, 3, 0.5, -1.5};
        for (int u = 0; u < NUNARY; u++)
            for (int k = 0; k < (u == U_POW ? 4 : 1); k++)
                for (int e = 0; e < NSPECIAL; e++) {
                    const double p = u == U_POW     ? POWS[k]
                                     : u == U_LEAKY ? round_to((dtype_t)dt, 0.1)
                                                    : 0;
                    double x = round_to((dtype_t)dt, SPECIAL[e]);
                    double ref = ref_unary(u, x, p);
                    void *ta = tnew((dtype_t)dt, &x, 1), *out = tnew((dtype_t)dt, NULL, 1);
                    call_unary((dtype_t)dt, u, 1, ta, p, out);
                    check(&groups[u], compare((dtype_t)dt, out, &ref, 1), BASE_TOL[dt],
                          "x=%g p=%g", x, p);
                    free_case();
                }
        for (int u = 0; u < NUNARY; u++) group_end(&groups[u]);
    }
}

/* Backward of the activations: sigmoid/tanh from the output y, relu/leaky_relu from x. */
static void test_activation_backward(void) {
    static const char *const NAME[4] = {"sigmoid_backward", "tanh_backward", "relu_backward",
                                        "leaky_relu_backward"};
    for (int dt = F32; dt <= F64; dt++) {
        group_t groups[4];
        for (int k = 0; k < 4; k++) group_begin(&groups[k], "%s %s", NAME[k], DT_NAME[dt]);
        for (int k = 0; k < 4; k++)
            for (int big = 0; big < 2; big++)
                for (int s = 0; s < NNS; s++) {
                    const int64_t n = NS[s];
                    const double slope = round_to((dtype_t)dt, big ? 0.2 : 0.1);
                    double *x = rand_arr((dtype_t)dt, n, big ? -30 : -2, big ? 30 : 2);
                    if (n > 3) x[1] = 0; /* relu'(0) = 0, leaky'(0) = slope */
                    double *in = dnew(n), *dy = rand_arr((dtype_t)dt, n, -1, 1), *ref = dnew(n);
                    for (int64_t i = 0; i < n; i++) {
                        if (k == 0) in[i] = round_to((dtype_t)dt, ref_act(2, x[i], 0));
                        if (k == 1) in[i] = round_to((dtype_t)dt, tanh(x[i]));
                        if (k >= 2) in[i] = x[i];
                        ref[i] = k == 0   ? dy[i] * in[i] * (1 - in[i])
                                 : k == 1 ? dy[i] * (1 - in[i] * in[i])
                                 : k == 2 ? (in[i] > 0 ? dy[i] : 0)
                                          : (in[i] > 0 ? dy[i] : slope * dy[i]);
                    }
                    for (int alias = 0; alias < 2; alias++) { /* out may be dy */
                        void *tin = tnew((dtype_t)dt, in, n), *tdy = tnew((dtype_t)dt, dy, n);
                        void *out = alias ? tdy : tnew((dtype_t)dt, NULL, n);
                        if (dt == F32) {
                            if (k == 0) tg_sigmoid_backward_f32(n, tin, tdy, out);
                            if (k == 1) tg_tanh_backward_f32(n, tin, tdy, out);
                            if (k == 2) tg_relu_backward_f32(n, tin, tdy, out);
                            if (k == 3) tg_leaky_relu_backward_f32(n, tin, tdy, (float)slope, out);
                        } else {
                            if (k == 0) tg_sigmoid_backward_f64(n, tin, tdy, out);
                            if (k == 1) tg_tanh_backward_f64(n, tin, tdy, out);
                            if (k == 2) tg_relu_backward_f64(n, tin, tdy, out);
                            if (k == 3) tg_leaky_relu_backward_f64(n, tin, tdy, slope, out);
                        }
                        check(&groups[k], compare((dtype_t)dt, out, ref, n), BASE_TOL[dt],
                              "n=%lld range=%s out=%s", (long long)n, big ? "+-30" : "+-2",
                              alias ? "dy" : "new");
                    }
                    free_case();
                }
        for (int k = 0; k < 4; k++) group_end(&groups[k]);
    }
}

/* ================================================================ sums ==================== */

static void test_sums(void) {
    /* (outer, n, inner); inner > 64 spans several accumulator blocks */
    static const int64_t SHAPES[][3] = {{1, 1000, 1}, {17, 129, 1}, {1, 17, 129}, {2, 3, 4},
                                        {3, 200, 70}, {5, 1, 7},    {1, 1, 1},    {129, 3, 17},
                                        {4, 5000, 1}, {1, 3, 200}};
    enum { NSHAPES = sizeof SHAPES / sizeof SHAPES[0] };
    static const int64_t ALL[] = {0, 1, 3, 17, 129, 1000, 100003}; /* the sum of none is 0 */
    enum { NALL = sizeof ALL / sizeof ALL[0] };
    for (int dt = F32; dt <= F64; dt++) {
        group_t ga, gl;
        group_begin(&ga, "sum_axis %s", DT_NAME[dt]);
        group_begin(&gl, "sum_all %s", DT_NAME[dt]);
        for (int s = 0; s < NSHAPES; s++) {
            const int64_t O = SHAPES[s][0], n = SHAPES[s][1], I = SHAPES[s][2];
            double *x = rand_arr((dtype_t)dt, O * n * I, -0.5, 1.0), *ref = dnew(O * I);
            for (int64_t o = 0; o < O; o++)
                for (int64_t i = 0; i < I; i++) {
                    double acc = 0;
                    for (int64_t k = 0; k < n; k++) acc += x[(o * n + k) * I + i];
                    ref[o * I + i] = acc;
                }
            void *tx = tnew((dtype_t)dt, x, O * n * I), *out = tnew((dtype_t)dt, NULL, O * I);
            if (dt == F32)
                tg_sum_axis_f32(O, n, I, tx, out);
            else
                tg_sum_axis_f64(O, n, I, tx, out);
            check(&ga, compare((dtype_t)dt, out, ref, O * I), BASE_TOL[dt],
                  "outer=%lld n=%lld inner=%lld", (long long)O, (long long)n, (long long)I);
            free_case();
        }
        for (int s = 0; s < NALL; s++) {
            const int64_t n = ALL[s];
            double *x = rand_arr((dtype_t)dt, n, -0.5, 1.0), ref = 0;
            for (int64_t i = 0; i < n; i++) ref += x[i];
            void *tx = tnew((dtype_t)dt, x, n), *out = tnew((dtype_t)dt, NULL, 1);
            if (dt == F32)
                tg_sum_all_f32(n, tx, out);
            else
                tg_sum_all_f64(n, tx, out);
            check(&gl, compare((dtype_t)dt, out, &ref, 1), BASE_TOL[dt], "n=%lld", (long long)n);
            free_case();
        }
        /* 1e6 copies of 0.1 (a running float sum is off by ~1%); also as 1000 x 1000 */
        {
            const int64_t n = 1000000;
            const double v = round_to((dtype_t)dt, 0.1), ref = (double)n * v;
            double *x = dnew(n), ref_rows[1000], ref_cols[1000];
            for (int64_t i = 0; i < n; i++) x[i] = v;
            for (int i = 0; i < 1000; i++) ref_rows[i] = ref_cols[i] = 1000 * v;
            void *tx = tnew((dtype_t)dt, x, n), *out = tnew((dtype_t)dt, NULL, 1);
            void *rows = tnew((dtype_t)dt, NULL, 1000), *cols = tnew((dtype_t)dt, NULL, 1000);
            if (dt == F32) {
                tg_sum_all_f32(n, tx, out);
                tg_sum_axis_f32(1000, 1000, 1, tx, rows);
                tg_sum_axis_f32(1, 1000, 1000, tx, cols);
            } else {
                tg_sum_all_f64(n, tx, out);
                tg_sum_axis_f64(1000, 1000, 1, tx, rows);
                tg_sum_axis_f64(1, 1000, 1000, tx, cols);
            }
            const double tol = dt == F32 ? 1e-6 : 1e-12;
            check(&gl, compare((dtype_t)dt, out, &ref, 1), tol, "1e6 x 0.1");
            check(&ga, compare((dtype_t)dt, rows, ref_rows, 1000), tol, "1e6 x 0.1, rows");
            check(&ga, compare((dtype_t)dt, cols, ref_cols, 1000), tol, "1e6 x 0.1, columns");
            free_case();
        }
        group_end(&ga);
        group_end(&gl);
    }
}

/* ================================================================ softmax, cross-entropy = */

/* y = softmax(x) (or log_softmax) over each row of (rows, cols), in double */
static void ref_softmax(int64_t rows, int64_t cols, const double *x, double *y, int log_) {
    for (int64_t r = 0; r < rows; r++) {
        const double *xr = x + r * cols;
        double m = xr[0], s = 0;
        for (int64_t j = 1; j < cols; j++) m = xr[j] > m ? xr[j] : m;
        for (int64_t j = 0; j < cols; j++) s += exp(xr[j] - m);
        for (int64_t j = 0; j < cols; j++)
            y[r * cols + j] = log_ ? xr[j] - m - log(s) : exp(xr[j] - m) / s;
    }
}

static const int64_t SOFTMAX_SHAPES[][2] = {{1, 1000}, {17, 129}, {129, 3}, {3, 1},
                                            {2, 12},   {1, 10},   {1000, 10}, {5, 1}};
enum { NSOFTMAX = sizeof SOFTMAX_SHAPES / sizeof SOFTMAX_SHAPES[0] };

static void test_softmax(void) {
    static const char *const NAME[4] = {"softmax", "softmax_backward", "log_softmax",
                                        "log_softmax_backward"};
    for (int dt = F32; dt <= F64; dt++) {
        group_t g[4];
        for (int k = 0; k < 4; k++) group_begin(&g[k], "%s %s", NAME[k], DT_NAME[dt]);
        for (int s = 0; s < NSOFTMAX; s++)
            for (int big = 0; big < 2; big++)
                for (int log_ = 0; log_ < 2; log_++) {
                    const int64_t R = SOFTMAX_SHAPES[s][0], C = SOFTMAX_SHAPES[s][1], n = R * C;
                    const double scale = big ? 1e4 : 1;
                    double *x = rand_arr((dtype_t)dt, n, -2 * scale, 2 * scale), *y = dnew(n);
                    ref_softmax(R, C, x, y, log_);
                    char desc[64];
                    snprintf(desc, sizeof desc, "rows=%lld cols=%lld scale=%g", (long long)R,
                             (long long)C, scale);
                    void *tx = tnew((dtype_t)dt, x, n), *ty = tnew((dtype_t)dt, NULL, n);
                    if (dt == F32)
                        (log_ ? tg_log_softmax_f32 : tg_softmax_f32)(R, C, tx, ty);
                    else
                        (log_ ? tg_log_softmax_f64 : tg_softmax_f64)(R, C, tx, ty);
                    check(&g[2 * log_], compare((dtype_t)dt, ty, y, n), BASE_TOL[dt], "%s", desc);
                    /* backward from the rounded reference output:
                     *   softmax:      dx_j = y_j (dy_j - sum_k dy_k y_k)
                     *   log_softmax:  dx_j = dy_j - e^(y_j) sum_k dy_k */
                    round_all((dtype_t)dt, y, n);
                    /* dxa: the error scale, the same formula on absolute values (with a
                     * saturated softmax, dy_j - sum_k dy_k y_k is a cancellation) */
                    double *dy = rand_arr((dtype_t)dt, n, -2, 2), *dx = dnew(n), *dxa = dnew(n);
                    for (int64_t r = 0; r < R; r++) {
                        const double *yr = y + r * C, *dyr = dy + r * C;
                        double dot = 0, sum = 0, dota = 0, suma = 0;
                        for (int64_t j = 0; j < C; j++) {
                            dot += dyr[j] * yr[j], sum += dyr[j];
                            dota += fabs(dyr[j] * yr[j]), suma += fabs(dyr[j]);
                        }
                        for (int64_t j = 0; j < C; j++) {
                            const double e = exp(yr[j]);
                            dx[r * C + j] = log_ ? dyr[j] - e * sum : yr[j] * (dyr[j] - dot);
                            dxa[r * C + j] = log_ ? fabs(dyr[j]) + e * suma
                                                  : fabs(yr[j]) * (fabs(dyr[j]) + dota);
                        }
                    }
                    void *tyr = tnew((dtype_t)dt, y, n), *tdy = tnew((dtype_t)dt, dy, n);
                    void *tdx = tnew((dtype_t)dt, NULL, n);
                    if (dt == F32)
                        (log_ ? tg_log_softmax_backward_f32 : tg_softmax_backward_f32)(R, C, tyr,
                                                                                       tdy, tdx);
                    else
                        (log_ ? tg_log_softmax_backward_f64 : tg_softmax_backward_f64)(R, C, tyr,
                                                                                       tdy, tdx);
                    check(&g[2 * log_ + 1], compare_scaled((dtype_t)dt, tdx, dx, dxa, n),
                          BASE_TOL[dt], "%s", desc);
                    free_case();
                }
        for (int k = 0; k < 4; k++) group_end(&g[k]);
    }
}

static int64_t call_cross_entropy(dtype_t dt, int64_t B, int64_t C, const void *logits,
                                  const int64_t *labels, void *loss, void *dlogits) {
    return dt == F32 ? tg_cross_entropy_f32(B, C, logits, labels, loss, dlogits)
                     : tg_cross_entropy_f64(B, C, logits, labels, loss, dlogits);
}

static void test_cross_entropy(void) {
    for (int dt = F32; dt <= F64; dt++) {
        group_t g;
        group_begin(&g, "cross_entropy %s", DT_NAME[dt]);
        for (int s = 0; s < NSOFTMAX; s++)
            for (int big = 0; big < 2; big++) {
                const int64_t B = SOFTMAX_SHAPES[s][0], C = SOFTMAX_SHAPES[s][1];
                const double scale = big ? 1e4 : 1;
                double *x = rand_arr((dtype_t)dt, B * C, -2 * scale, 2 * scale);
                int64_t *labels = alloc_tracked((size_t)B * sizeof *labels);
                for (int64_t r = 0; r < B; r++) labels[r] = (int64_t)urand(0, (double)C) % C;
                /* loss = mean_r -log softmax(x_r)[label_r];  dlogits = (softmax - onehot) / B */
                double *p = dnew(B * C), loss = 0;
                ref_softmax(B, C, x, p, 0);
                double *logp = dnew(B * C);
                ref_softmax(B, C, x, logp, 1);
                for (int64_t r = 0; r < B; r++) {
                    loss -= logp[r * C + labels[r]] / (double)B;
                    for (int64_t j = 0; j < C; j++)
                        p[r * C + j] = (p[r * C + j] - (j == labels[r])) / (double)B;
                }
                void *tx = tnew((dtype_t)dt, x, B * C), *tl = tnew((dtype_t)dt, NULL, 1);
                void *tg = tnew((dtype_t)dt, NULL, B * C);
                const int64_t ret = call_cross_entropy((dtype_t)dt, B, C, tx, labels, tl, tg);
                check_true(&g, ret == -1, "B=%lld C=%lld: returned %lld for valid labels",
                           (long long)B, (long long)C, (long long)ret);
                check(&g, compare((dtype_t)dt, tl, &loss, 1), BASE_TOL[dt],
                      "loss B=%lld C=%lld scale=%g", (long long)B, (long long)C, scale);
                check(&g, compare((dtype_t)dt, tg, p, B * C), BASE_TOL[dt],
                      "dlogits B=%lld C=%lld scale=%g", (long long)B, (long long)C, scale);
                /* a label out of range: the first bad row comes back, loss is not written */
                if (B >= 3) {
                    for (int bad = 0; bad < 3; bad++) {
                        const int64_t row = bad == 0 ? B - 1 : 1;
                        const int64_t saved = labels[row];
                        labels[row] = bad == 0 ? C : bad == 1 ? -1 : INT64_MAX;
                        if (bad == 2) labels[B - 1] = C + 5; /* a later bad row too */
                        void *l2 = tnew((dtype_t)dt, NULL, 1), *g2 = tnew((dtype_t)dt, NULL, B * C);
                        tset((dtype_t)dt, l2, 0, SENTINEL);
                        const int64_t r2 =
                            call_cross_entropy((dtype_t)dt, B, C, tx, labels, l2, g2);
                        check_true(&g, r2 == row && tget((dtype_t)dt, l2, 0) == SENTINEL,
                                   "B=%lld C=%lld label[%lld]=%lld: returned %lld (want %lld), "
                                   "loss %s",
                                   (long long)B, (long long)C, (long long)row,
                                   (long long)labels[row], (long long)r2, (long long)row,
                                   tget((dtype_t)dt, l2, 0) == SENTINEL ? "untouched" : "written");
                        labels[row] = saved;
                    }
                }
                free_case();
            }
        group_end(&g);
    }
}

/* ================================================================ optimizers ============== */

static void test_sgd(void) {
    static const double CONFIGS[][3] = {/* momentum, weight_decay, nesterov */
                                        {0, 0, 0},     {0, 0.01, 0},  {0.9, 0, 0},
                                        {0.9, 0.01, 0}, {0.9, 0.01, 1}, {0.5, 0, 1}};
    static const int64_t SIZES[] = {1, 17 * 129, 1000, 3};
    for (int dt = F32; dt <= F64; dt++) {
        group_t g;
        group_begin(&g, "sgd_step %s", DT_NAME[dt]);
        for (int c = 0; c < 6; c++)
            for (int s = 0; s < 4; s++) {
                const int64_t n = SIZES[s];
                const double mu = CONFIGS[c][0], wd = CONFIGS[c][1], lr = 0.1;
                const int nesterov = (int)CONFIGS[c][2];
                double *p = rand_arr((dtype_t)dt, n, -2, 2), *buf = dnew(n);
                for (int64_t i = 0; i < n; i++) buf[i] = 0;
                void *tp = tnew((dtype_t)dt, p, n);
                void *tbuf = mu != 0 ? tnew((dtype_t)dt, buf, n) : NULL; /* NULL: no momentum */
                for (int step = 0; step < 4; step++) {
                    /* g += wd p;  b = mu b + g;  p -= lr (nesterov ? g + mu b : b) */
                    double *grad = rand_arr((dtype_t)dt, n, -2, 2);
                    for (int64_t i = 0; i < n; i++) {
                        double gi = grad[i] + wd * p[i];
                        if (mu != 0) {
                            buf[i] = mu * buf[i] + gi;
                            gi = nesterov ? gi + mu * buf[i] : buf[i];
                        }
                        p[i] -= lr * gi;
                    }
                    void *tg = tnew((dtype_t)dt, grad, n);
                    if (dt == F32)
                        tg_sgd_step_f32(n, tp, tg, tbuf, lr, mu, wd, nesterov);
                    else
                        tg_sgd_step_f64(n, tp, tg, tbuf, lr, mu, wd, nesterov);
                }
                check(&g, compare((dtype_t)dt, tp, p, n), BASE_TOL[dt],
                      "p n=%lld momentum=%g wd=%g nesterov=%d", (long long)n, mu, wd, nesterov);
                if (tbuf)
                    check(&g, compare((dtype_t)dt, tbuf, buf, n), BASE_TOL[dt],
                          "buf n=%lld momentum=%g wd=%g nesterov=%d", (long long)n, mu, wd,
                          nesterov);
                free_case();
            }
        group_end(&g);
    }
}

static void test_adam(void) {
    static const int64_t SIZES[] = {1, 17 * 129, 1000, 3};
    const double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (int dt = F32; dt <= F64; dt++) {
        group_t g;
        group_begin(&g, "adam_step %s", DT_NAME[dt]);
        for (int w = 0; w < 2; w++)
            for (int s = 0; s < 4; s++) {
                const int64_t n = SIZES[s];
                const double wd = w ? 0.01 : 0;
                double *p = rand_arr((dtype_t)dt, n, -2, 2), *m = dnew(n), *v = dnew(n);
                for (int64_t i = 0; i < n; i++) m[i] = v[i] = 0;
                void *tp = tnew((dtype_t)dt, p, n), *tm = tnew((dtype_t)dt, m, n);
                void *tv = tnew((dtype_t)dt, v, n);
                for (int64_t step = 1; step <= 5; step++) {
                    /* g += wd p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
                     * p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) */
                    double *grad = rand_arr((dtype_t)dt, n, -2, 2);
                    for (int64_t i = 0; i < n; i++) {
                        const double gi = grad[i] + wd * p[i];
                        m[i] = b1 * m[i] + (1 - b1) * gi;
                        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                        const double mhat = m[i] / (1 - pow(b1, (double)step));
                        const double vhat = v[i] / (1 - pow(b2, (double)step));
                        p[i] -= lr * mhat / (sqrt(vhat) + eps);
                    }
                    void *tg = tnew((dtype_t)dt, grad, n);
                    if (dt == F32)
                        tg_adam_step_f32(n, tp, tg, tm, tv, lr, b1, b2, eps, wd, step);
                    else
                        tg_adam_step_f64(n, tp, tg, tm, tv, lr, b1, b2, eps, wd, step);
                }
                check(&g, compare((dtype_t)dt, tp, p, n), BASE_TOL[dt], "p n=%lld wd=%g",
                      (long long)n, wd);
                check(&g, compare((dtype_t)dt, tm, m, n), BASE_TOL[dt], "m n=%lld wd=%g",
                      (long long)n, wd);
                check(&g, compare((dtype_t)dt, tv, v, n), BASE_TOL[dt], "v n=%lld wd=%g",
                      (long long)n, wd);
                free_case();
            }
        group_end(&g);
    }
}

/* The _many kernels must give exactly what one single-tensor call per tensor gives: the same
 * arithmetic, bit for bit. Three tensors of odd sizes, four steps, SGD with and without
 * momentum (bufs NULL) and Adam. */
static void test_optim_many(void) {
    enum { COUNT = 3 };
    static const int64_t SIZES[COUNT] = {1, 17 * 129, 3};
    for (int dt = F32; dt <= F64; dt++) {
        group_t g;
        group_begin(&g, "sgd_step_many, adam_step_many %s", DT_NAME[dt]);
        const size_t es = elem_size((dtype_t)dt);
        for (int opt = 0; opt < 4; opt++) { /* SGD mu=0, SGD mu=0.9, nesterov+wd, Adam */
            const double mu = opt == 0 ? 0 : 0.9, wd = opt >= 2 ? 0.01 : 0;
            const int nesterov = opt == 2;
            void *a[COUNT], *b[COUNT], *sa[COUNT], *sb[COUNT], *ta[COUNT], *tb[COUNT];
            for (int j = 0; j < COUNT; j++) {
                const int64_t n = SIZES[j];
                double *p = rand_arr((dtype_t)dt, n, -2, 2), *zero = dnew(n);
                for (int64_t i = 0; i < n; i++) zero[i] = 0;
                a[j] = tnew((dtype_t)dt, p, n), b[j] = tnew((dtype_t)dt, p, n);
                sa[j] = tnew((dtype_t)dt, zero, n), sb[j] = tnew((dtype_t)dt, zero, n);
                ta[j] = tnew((dtype_t)dt, zero, n), tb[j] = tnew((dtype_t)dt, zero, n);
            }
            for (int64_t step = 1; step <= 4; step++) {
                void *grads[COUNT];
                for (int j = 0; j < COUNT; j++)
                    grads[j] = tnew((dtype_t)dt, rand_arr((dtype_t)dt, SIZES[j], -2, 2),
                                    SIZES[j]);
                for (int j = 0; j < COUNT; j++) { /* the reference: one call per tensor */
                    const int64_t n = SIZES[j];
                    if (opt == 3 && dt == F32)
                        tg_adam_step_f32(n, b[j], grads[j], sb[j], tb[j], 1e-2, 0.9, 0.999, 1e-8,
                                         wd, step);
                    else if (opt == 3)
                        tg_adam_step_f64(n, b[j], grads[j], sb[j], tb[j], 1e-2, 0.9, 0.999, 1e-8,
                                         wd, step);
                    else if (dt == F32)
                        tg_sgd_step_f32(n, b[j], grads[j], mu != 0 ? sb[j] : NULL, 0.1, mu, wd,
                                        nesterov);
                    else
                        tg_sgd_step_f64(n, b[j], grads[j], mu != 0 ? sb[j] : NULL, 0.1, mu, wd,
                                        nesterov);
                }
                int64_t bad;
                if (opt == 3 && dt == F32)
                    bad = tg_adam_step_many_f32(COUNT, SIZES, (float *const *)a,
                                          (const float *const *)grads, (float *const *)sa,
                                          (float *const *)ta, 1e-2, 0.9, 0.999, 1e-8, wd, step);
                else if (opt == 3)
                    bad = tg_adam_step_many_f64(COUNT, SIZES, (double *const *)a,
                                          (const double *const *)grads, (double *const *)sa,
                                          (double *const *)ta, 1e-2, 0.9, 0.999, 1e-8, wd, step);
                else if (dt == F32)
                    bad = tg_sgd_step_many_f32(COUNT, SIZES, (float *const *)a,
                                         (const float *const *)grads,
                                         mu != 0 ? (float *const *)sa : NULL, 0.1, mu, wd,
                                         nesterov);
                else
                    bad = tg_sgd_step_many_f64(COUNT, SIZES, (double *const *)a,
                                         (const double *const *)grads,
                                         mu != 0 ? (double *const *)sa : NULL, 0.1, mu, wd,
                                         nesterov);
                check_true(&g, bad == -1, "optimizer %d step %lld: returned %lld, not -1", opt,
                           (long long)step, (long long)bad);
            }
            for (int j = 0; j < COUNT; j++) {
                const size_t bytes = (size_t)SIZES[j] * es;
                check_true(&g,
                           memcmp(a[j], b[j], bytes) == 0 && memcmp(sa[j], sb[j], bytes) == 0 &&
                               memcmp(ta[j], tb[j], bytes) == 0,
                           "optimizer %d tensor %d (n=%lld): one call differs from separate calls",
                           opt, j, (long long)SIZES[j]);
            }
            free_case();
        }
        /* a gradient that overlaps its parameter: refused (returns its index), nothing changed */
        double *p = rand_arr((dtype_t)dt, 8, -2, 2);
        void *tp = tnew((dtype_t)dt, p, 8), *other = tnew((dtype_t)dt, p, 8);
        void *params[2] = {other, tp}, *grads[2] = {tp, (char *)tp + 3 * es};
        const int64_t sizes[2] = {8, 4};
        const int64_t bad = dt == F32 ? tg_sgd_step_many_f32(2, sizes, (float *const *)params,
                                                             (const float *const *)grads, NULL,
                                                             0.1, 0, 0, 0)
                                      : tg_sgd_step_many_f64(2, sizes, (double *const *)params,
                                                             (const double *const *)grads, NULL,
                                                             0.1, 0, 0, 0);
        check_true(&g, bad == 1 && memcmp(tp, other, 8 * es) == 0,
                   "overlapping p and g: returned %lld (want 1), arrays changed: %d",
                   (long long)bad, memcmp(tp, other, 8 * es) != 0);
        free_case();
        group_end(&g);
    }
}

/* A captured step (plan.c): the same kernel calls made directly and through tg_plan_run give
 * the same bits; a failing call stops the plan and says which and why. One step of a
 * 129-17-3 MLP at batch B: linear+relu, linear, cross-entropy, its scaling, two linear
 * backwards, one SGD step over the four tensors. */
static void plan_step_direct(int64_t B, float *x, int64_t *labels, float **w, float **b,
                             float **h, float *loss, float *dlog, float *g, float **dz,
                             float *dh, float **dw, float **db, float **buf,
                             const int64_t *sizes) {
    tg_linear_forward_f32(B, 129, 17, x, w[0], b[0], h[0], TG_ACT_RELU, 0.1f);
    tg_linear_forward_f32(B, 17, 3, h[0], w[1], b[1], h[1], TG_ACT_NONE, 0.1f);
    tg_cross_entropy_f32(B, 3, h[1], labels, loss, dlog);
    tg_binary_scalar_f32(TG_MUL, B * 3, dlog, 1.0f, g);
    tg_linear_backward_f32(B, 17, 3, h[0], w[1], h[1], g, dz[1], dh, dw[1], db[1], TG_ACT_NONE,
                           0.1f);
    tg_linear_backward_f32(B, 129, 17, x, w[0], h[0], dh, dz[0], NULL, dw[0], db[0],
                           TG_ACT_RELU, 0.1f);
    float *params[4] = {w[0], b[0], w[1], b[1]}, *grads[4] = {dw[0], db[0], dw[1], db[1]};
    tg_sgd_step_many_f32(4, sizes, params, (const float *const *)grads, buf, 0.05, 0.9, 1e-3, 1);
}

static void test_plan(void) {
    group_t g;
    group_begin(&g, "tg_plan_run f32 (a captured MLP step)");
    static const int64_t BATCHES[] = {1, 3, 17, 129};
    for (size_t q = 0; q < sizeof BATCHES / sizeof BATCHES[0]; q++) {
        const int64_t B = BATCHES[q];
        const int64_t sizes[4] = {17 * 129, 17, 3 * 17, 3};
        /* two copies of every array: [0] for direct calls, [1] for the plan */
        float *x = tnew(F32, rand_arr(F32, B * 129, -1, 1), B * 129);
        int64_t *labels = alloc_tracked((size_t)B * sizeof(int64_t));
        for (int64_t i = 0; i < B; i++) labels[i] = (i * 7) % 3;
        float *w[2][2], *b[2][2], *h[2][2], *dz[2][2], *dw[2][2], *db[2][2], *buf[2][4];
        float *loss[2], *dlog[2], *g_[2], *dh[2];
        const int64_t in[2] = {129, 17}, out[2] = {17, 3};
        for (int l = 0; l < 2; l++) {
            double *wv = rand_arr(F32, out[l] * in[l], -0.3, 0.3);
            double *bv = rand_arr(F32, out[l], -0.1, 0.1);
            double *zero = dnew(out[l] * in[l]);
            for (int64_t i = 0; i < out[l] * in[l]; i++) zero[i] = 0;
            for (int c = 0; c < 2; c++) {
                w[c][l] = tnew(F32, wv, out[l] * in[l]), b[c][l] = tnew(F32, bv, out[l]);
                h[c][l] = alloc_tracked((size_t)(B * out[l]) * sizeof(float));
                dz[c][l] = alloc_tracked((size_t)(B * out[l]) * sizeof(float));
                dw[c][l] = alloc_tracked((size_t)(out[l] * in[l]) * sizeof(float));
                db[c][l] = alloc_tracked((size_t)out[l] * sizeof(float));
                buf[c][2 * l] = tnew(F32, zero, out[l] * in[l]);
                buf[c][2 * l + 1] = tnew(F32, zero, out[l]);
            }
        }
        for (int c = 0; c < 2; c++) {
            loss[c] = alloc_tracked(sizeof(float));
            dlog[c] = alloc_tracked((size_t)(B * 3) * sizeof(float));
            g_[c] = alloc_tracked((size_t)(B * 3) * sizeof(float));
            dh[c] = alloc_tracked((size_t)(B * 17) * sizeof(float));
        }
        /* the plan: the same calls, arguments sorted by kind in each kernel's order */
        float *params[4] = {w[1][0], b[1][0], w[1][1], b[1][1]};
        float *grads[4] = {dw[1][0], db[1][0], dw[1][1], db[1][1]};
        struct tg_plan_call calls[7];
        memset(calls, 0, sizeof calls);
        calls[0] = (struct tg_plan_call){TG_PLAN_LINEAR_FORWARD_F32, {B, 129, 17, TG_ACT_RELU},
                                         {x, w[1][0], b[1][0], h[1][0]}, {0.1}};
        calls[1] = (struct tg_plan_call){TG_PLAN_LINEAR_FORWARD_F32, {B, 17, 3, TG_ACT_NONE},
                                         {h[1][0], w[1][1], b[1][1], h[1][1]}, {0.1}};
        calls[2] = (struct tg_plan_call){TG_PLAN_CROSS_ENTROPY_F32, {B, 3},
                                         {h[1][1], labels, loss[1], dlog[1]}, {0}};
        calls[3] = (struct tg_plan_call){TG_PLAN_BINARY_SCALAR_F32, {TG_MUL, B * 3},
                                         {dlog[1], g_[1]}, {1.0}};
        calls[4] = (struct tg_plan_call){TG_PLAN_LINEAR_BACKWARD_F32, {B, 17, 3, TG_ACT_NONE},
                                         {h[1][0], w[1][1], h[1][1], g_[1], dz[1][1], dh[1],
                                          dw[1][1], db[1][1]},
                                         {0.1}};
        calls[5] = (struct tg_plan_call){TG_PLAN_LINEAR_BACKWARD_F32, {B, 129, 17, TG_ACT_RELU},
                                         {x, w[1][0], h[1][0], dh[1], dz[1][0], NULL, dw[1][0],
                                          db[1][0]},
                                         {0.1}};
        calls[6] = (struct tg_plan_call){TG_PLAN_SGD_STEP_MANY_F32, {4, 1},
                                         {(void *)sizes, params, grads, buf[1]},
                                         {0.05, 0.9, 1e-3}};
        int ok = 1;
        for (int step = 0; step < 3; step++) {
            plan_step_direct(B, x, labels, w[0], b[0], h[0], loss[0], dlog[0], g_[0], dz[0],
                             dh[0], dw[0], db[0], buf[0], sizes);
            int64_t status = 0;
            double seconds[7];
            const int64_t failed = tg_plan_run(7, calls, &status, step == 1 ? seconds : NULL);
            ok = ok && failed == -1 && status == -1;
        }
        ok = ok && memcmp(loss[0], loss[1], sizeof(float)) == 0;
        for (int l = 0; l < 2; l++) {
            ok = ok && memcmp(w[0][l], w[1][l], (size_t)(out[l] * in[l]) * sizeof(float)) == 0;
            ok = ok && memcmp(b[0][l], b[1][l], (size_t)out[l] * sizeof(float)) == 0;
            ok = ok && memcmp(dw[0][l], dw[1][l], (size_t)(out[l] * in[l]) * sizeof(float)) == 0;
            ok = ok && memcmp(buf[0][2 * l], buf[1][2 * l],
                              (size_t)(out[l] * in[l]) * sizeof(float)) == 0;
        }
        check_true(&g, ok, "B=%lld: three steps through tg_plan_run differ from direct calls",
                   (long long)B);
        /* a label outside [0, 3) in the last row: the plan stops at call 2, nothing after it
         * runs (the weights stay as they were) */
        labels[B - 1] = 3;
        float before = w[1][0][0];
        int64_t status = 0;
        const int64_t failed = tg_plan_run(7, calls, &status, NULL);
        check_true(&g, failed == 2 && status == B - 1 && w[1][0][0] == before,
                   "B=%lld bad label: stopped at %lld (want 2), status %lld (want %lld)",
                   (long long)B, (long long)failed, (long long)status, (long long)(B - 1));
        free_case();
    }
    /* a kernel code plan.c does not know: refused, with status -2 */
    struct tg_plan_call unknown = {1000, {0}, {0}, {0}};
    int64_t status = 0;
    check_true(&g, tg_plan_run(1, &unknown, &status, NULL) == 0 && status == -2,
               "an unknown kernel code was not refused");
    group_end(&g);
}

/* ================================================================ main ==================== */

int main(void) {
    struct timespec t0;
    timespec_get(&t0, TIME_UTC);
    const int best = g_best = tg_get_isa();
    /* every ISA path the CPU has: tg_set_isa refuses (returns another) what it lacks */
    printf("test_kernels: TINYGRAD_GEMM_PATH=%s, best ISA %s; ISA paths tested:", gemm_path(),
           isa_name(best));
    for (int isa = 0; isa < MAX_ISA; isa++)
        if (tg_set_isa(isa) == isa) {
            g_isas[g_nisa++] = isa;
            printf(" %s", isa_name(isa));
        }
    printf(" (not on this CPU:");
    for (int isa = 0; isa < MAX_ISA; isa++)
        if (tg_set_isa(isa) != isa) printf(" %s", isa_name(isa));
    printf(")\n");
    tg_set_isa(best);

    test_gemm(); /* these two go through the ISAs themselves */
    test_linear();
    /* every other kernel, once per ISA path: tg_set_isa governs them all (isa.c) */
    for (int q = 0; q < g_nisa; q++) {
        g_isa_label = isa_name(g_isas[q]);
        group_t g;
        group_begin(&g, "tg_set_isa");
        check_true(&g, tg_set_isa(g_isas[q]) == g_isas[q] && tg_get_isa() == g_isas[q],
                   "tg_set_isa(%s) did not switch", g_isa_label);
        group_end(&g);
        test_binary();
        test_unary();
        test_activation_backward();
        test_sums();
        test_softmax();
        test_cross_entropy();
        test_sgd();
        test_adam();
        test_optim_many();
        test_plan();
    }
    g_isa_label = "";
    tg_set_isa(best);

    printf("(%.1f s in all)\n", seconds_since(t0));
    printf("%ld passed, %ld failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
