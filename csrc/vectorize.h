/* TG_VECTORIZE: compile a plain loop once per x86 vector width and let the loader pick.
 *
 * We may not build with -march=native (the wheel must run on any x86-64), so by default GCC
 * vectorizes loops with SSE2 only. target_clones makes GCC emit AVX-512, AVX2 and baseline
 * copies of the function and choose one when the library loads (an ifunc), from what the
 * CPU supports. The loops stay plain C; only their compilation changes. Not applied to the
 * GEMM, which picks its own hand-written microkernels (csrc/gemm/). */
#ifndef TINYGRAD_MNIST_VECTORIZE_H
#define TINYGRAD_MNIST_VECTORIZE_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define TG_VECTORIZE __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TG_VECTORIZE
#endif

#endif
