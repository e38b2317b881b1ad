/* The CPU's data cache sizes, read at run time, for the GEMM's cache blocking (gemm.c).
 *
 * The blocking of a BLIS-style GEMM follows from three numbers: the L1 data cache holds the
 * B micro-panel the microkernel sweeps, L2 holds the packed block of A, L3 the packed block
 * of B. Tuning them as constants on one CPU makes another CPU slow (a 48 KB L1 and a 32 KB
 * one want different K blocks), so they are asked of the machine, in this order:
 *
 *   1. Linux: /sys/devices/system/cpu/cpu0/cache/index<i>/{level,type,size} (the kernel's
 *      view, right in VMs where glibc's sysconf reports the whole package's L3);
 *   2. sysconf(_SC_LEVEL1_DCACHE_SIZE) etc., where libc has them (glibc; not musl);
 *   3. macOS: sysctlbyname("hw.l1dcachesize") etc. (Apple silicon reports its P cores);
 *   4. x86: the cpuid cache leaves (4 on Intel, 0x8000001D on AMD): size = ways x partitions
 *      x line size x sets;
 *   5. otherwise (Windows on ARM, an emulator with nothing to say) common sizes of current
 *      cores: 32 KB L1, 512 KB L2, 4 MB L3.
 * Any value outside a plausible range is replaced by the fallback, so that a firmware quirk
 * cannot produce a zero or absurd block. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"

#if defined(__linux__) || defined(__APPLE__)
#include <unistd.h>
#endif
#if defined(__APPLE__)
#include <sys/sysctl.h>
#include <sys/types.h>
#endif
#if TG_X86
#include <cpuid.h>
#endif

enum { FALLBACK_L1 = 32 << 10, FALLBACK_L2 = 512 << 10, FALLBACK_L3 = 4 << 20 };

/* Linux sysfs: the data (or unified) cache of `level` of cpu0, in bytes; 0 if unknown. */
static int64_t cache_from_sysfs(int level) {
#if defined(__linux__)
    for (int idx = 0; idx < 8; idx++) {
        char path[96], buf[32];
        int64_t lv = 0, size = 0;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", idx);
        FILE *f = fopen(path, "r");
        if (!f) break;
        if (fgets(buf, sizeof buf, f)) lv = strtol(buf, NULL, 10);
        fclose(f);
        if (lv != level) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", idx);
        if (!(f = fopen(path, "r"))) continue;
        int data = fgets(buf, sizeof buf, f) && strncmp(buf, "Instruction", 11) != 0;
        fclose(f);
        if (!data) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", idx);
        if (!(f = fopen(path, "r"))) continue;
        if (fgets(buf, sizeof buf, f)) { /* "32K", "1024K", "32768K" or "32M" */
            char *end;
            size = strtol(buf, &end, 10);
            size *= *end == 'K' ? 1024 : *end == 'M' ? 1024 * 1024 : 1;
        }
        fclose(f);
        return size;
    }
#else
    (void)level;
#endif
    return 0;
}

static int64_t cache_from_sysconf(int level) {
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE) && \
    defined(_SC_LEVEL3_CACHE_SIZE)
    long v = sysconf(level == 1 ? _SC_LEVEL1_DCACHE_SIZE
                     : level == 2 ? _SC_LEVEL2_CACHE_SIZE
                                  : _SC_LEVEL3_CACHE_SIZE);
    return v > 0 ? (int64_t)v : 0;
#else
    (void)level;
    return 0;
#endif
}

static int64_t cache_from_sysctl(int level) {
#if defined(__APPLE__)
    const char *name = level == 1 ? "hw.l1dcachesize" : level == 2 ? "hw.l2cachesize"
                                                                    : "hw.l3cachesize";
    int64_t v = 0;
    size_t len = sizeof v;
    if (sysctlbyname(name, &v, &len, NULL, 0) == 0 && len == sizeof v) return v;
#else
    (void)level;
#endif
    return 0;
}

/* cpuid leaf 4 (Intel) or 0x8000001D (AMD, same layout): one sub-leaf per cache; eax[4:0] is
 * the type (0 = no more, 1 data, 2 instruction, 3 unified), eax[7:5] the level;
 * size = (ways + 1) * (partitions + 1) * (line size + 1) * (sets + 1). */
static int64_t cache_from_cpuid(int level) {
#if TG_X86
    unsigned eax, ebx, ecx, edx;
    unsigned leaf = 4;
    if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) && eax >= 0x8000001Du &&
        __get_cpuid(0, &eax, &ebx, &ecx, &edx) && ebx == 0x68747541u) /* "Auth"enticAMD */
        leaf = 0x8000001Du;
    for (unsigned sub = 0; sub < 16; sub++) {
        if (!__get_cpuid_count(leaf, sub, &eax, &ebx, &ecx, &edx)) return 0;
        const unsigned type = eax & 31u, lv = (eax >> 5) & 7u;
        if (type == 0) break;
        if (type == 2 || (int)lv != level) continue;
        return (int64_t)((ebx >> 22) + 1) * (((ebx >> 12) & 1023u) + 1) * ((ebx & 4095u) + 1) *
               ((int64_t)ecx + 1);
    }
#else
    (void)level;
#endif
    return 0;
}

static int64_t cache_size(int level, int64_t lo, int64_t hi, int64_t fallback) {
    int64_t (*const sources[])(int) = {cache_from_sysfs, cache_from_sysconf, cache_from_sysctl,
                                       cache_from_cpuid};
    for (size_t s = 0; s < sizeof sources / sizeof sources[0]; s++) {
        const int64_t v = sources[s](level);
        if (v >= lo && v <= hi) return v;
    }
    return fallback;
}

/* The three sizes in bytes, looked up once (gemm.c calls this under its one-time init). */
void tg_cache_sizes(int64_t *l1, int64_t *l2, int64_t *l3) {
    *l1 = cache_size(1, 8 << 10, 1 << 20, FALLBACK_L1);
    *l2 = cache_size(2, 64 << 10, (int64_t)64 << 20, FALLBACK_L2);
    *l3 = cache_size(3, 256 << 10, (int64_t)1 << 30, FALLBACK_L3);
}
