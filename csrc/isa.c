/* The instruction set every kernel uses, chosen at run time (see kernels.h and isa.h).
 *
 * One setting for the whole library: the GEMM picks its microkernels by it (csrc/gemm), and
 * every other kernel its compiled copy of the loops (isa.h). The default is the best ISA this
 * CPU and this build have; env TINYGRAD_ISA (read once, at the first call) or tg_set_isa
 * choose another. An ISA the CPU or the build lacks, or an unknown name, is ignored here:
 * the Python side (c_backend.py) reports a misspelled or unavailable TINYGRAD_ISA. */
#include <stdlib.h>
#include <string.h>

#include "call_once.h"
#include "isa.h"
#include "kernels.h"

/* Can this CPU run the code of `isa`, and does this build have it? */
static int isa_supported(int isa) {
    switch (isa) {
        case TG_ISA_GENERIC: return 1;
#if TG_X86
        case TG_ISA_AVX2: /* the features of TG_TARGET_AVX2 */
            __builtin_cpu_init();
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        case TG_ISA_AVX512: /* the features of TG_TARGET_AVX512 */
            __builtin_cpu_init();
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("fma");
#endif
#if TG_NEON
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
static tg_once_t g_isa_once = TG_ONCE_INIT;

/* TINYGRAD_ISA=generic|avx2|avx512|neon, the enum's names in lower case */
static void isa_from_env(void) {
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
}

int tg_get_isa(void) {
    tg_call_once(&g_isa_once, isa_from_env);
    return g_isa;
}

int tg_set_isa(int isa) {
    tg_call_once(&g_isa_once, isa_from_env); /* first, so that it cannot overwrite isa later */
    if (isa < 0) isa = best_isa();
    if (isa_supported(isa)) g_isa = isa;
    return g_isa;
}
