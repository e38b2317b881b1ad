/* Matrix multiplication, C = op(A) @ op(B)  (see kernels.h for the layout).
 *
 *   C[i][j] = sum_k opA[i][k] * opB[k][j]
 *
 * tg_matmul_* is the fast path: the blocked, packed, SIMD GEMM of csrc/gemm/ (BLIS design,
 * explained in csrc/gemm/gemm.h and gemm_driver.h).
 *
 * tg_matmul_ref_* is the reference: three plain loops in i-k-j order. The inner loop walks a
 * row of B and a row of C, both contiguous, so it is already cache-friendly when neither
 * operand is transposed. The tests compare the fast path against it. */
#include "gemm/gemm.h"
#include "kernels.h"

#define DEFINE_MATMUL_REF(T, SUF)                                                           \
    void tg_matmul_ref_##SUF(int64_t M, int64_t N, int64_t K, const T *A, int transA,       \
                             const T *B, int transB, T *C) {                                \
        for (int64_t i = 0; i < M * N; i++) C[i] = 0;                                       \
        for (int64_t i = 0; i < M; i++) {                                                   \
            for (int64_t k = 0; k < K; k++) {                                               \
                T a = transA ? A[k * M + i] : A[i * K + k];                                 \
                T *c = C + i * N;                                                           \
                if (transB) {                                                               \
                    for (int64_t j = 0; j < N; j++) c[j] += a * B[j * K + k];               \
                } else {                                                                    \
                    const T *b = B + k * N;                                                 \
                    for (int64_t j = 0; j < N; j++) c[j] += a * b[j];                       \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
    void tg_matmul_##SUF(int64_t M, int64_t N, int64_t K, const T *A, int transA,           \
                         const T *B, int transB, T *C) {                                    \
        tg_gemm_##SUF(M, N, K, A, transA, B, transB, C, NULL, NULL);                        \
    }

DEFINE_MATMUL_REF(float, f32)
DEFINE_MATMUL_REF(double, f64)
