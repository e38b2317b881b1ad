/* Private helpers of the run-time ISA dispatch (isa.c); not read by cffi.
 *
 * The wheel must run on any CPU of its architecture, so the library is built for the
 * baseline ISA (SSE2 on x86-64, no -march=native) and the code that wants more carries its
 * own target attribute, compiled in beside the baseline copy and called only after a
 * run-time check (tg_get_isa in kernels.h, isa.c). Each kernel with ISA copies follows one
 * pattern (a file with several kernels of one signature shares one loop function that takes
 * the kernel as an argument, e.g. activation_loop_f32 in activations.c):
 *
 *   TG_INLINE void relu_loop_f32(...) { the plain loop }           the kernel, written once
 *   TG_TARGET_AVX2 static void relu_avx2_f32(...) { relu_loop_f32(...); }     (x86 builds)
 *   TG_TARGET_AVX512 static void relu_avx512_f32(...) { relu_loop_f32(...); } (x86 builds)
 *   void tg_relu_f32(...) { switch (tg_get_isa()) ... }      the public entry picks a copy
 *
 * TG_INLINE forces the loop into each copy, so the compiler vectorizes it once per target:
 * the loops stay plain C, only their compilation changes. On AArch64, Advanced SIMD (NEON)
 * is part of the baseline, so the plain loop is already vectorized with it: the generic and
 * the NEON paths run the same code there, except in the GEMM (csrc/gemm), which has its own
 * NEON microkernel. Any other build (MSVC, other CPUs) has the generic copy only. */
#ifndef TINYGRAD_MNIST_ISA_H
#define TINYGRAD_MNIST_ISA_H

/* x86 builds with GCC or Clang: the AVX2 and AVX-512 copies (they need the target attribute
 * and the intrinsics headers of those compilers) */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define TG_X86 1
#else
#define TG_X86 0
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define TG_NEON 1
#else
#define TG_NEON 0
#endif

/* The CPU features each x86 ISA code requires (isa.c checks the same list at run time). */
#if TG_X86
#define TG_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define TG_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#define TG_INLINE static __forceinline
#else
#define TG_INLINE static inline __attribute__((always_inline))
#endif

#endif
