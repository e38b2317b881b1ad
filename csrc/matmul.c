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

/* ---- float ----------------------------------------------------------------------------------- */

/* reference: C[i][j] = sum_k opA[i][k] * opB[k][j], three plain loops in i-k-j order */
void tg_matmul_ref_f32(int64_t M, int64_t N, int64_t K, const float *A, int transA,
                       const float *B, int transB, float *C) {
    for (int64_t i = 0; i < M * N; i++) C[i] = 0;
    for (int64_t i = 0; i < M; i++) {
        for (int64_t k = 0; k < K; k++) {
            const float a = transA ? A[k * M + i] : A[i * K + k];
            float *c = C + i * N;
            if (transB) {
                for (int64_t j = 0; j < N; j++) c[j] += a * B[j * K + k];
            } else {
                const float *b = B + k * N;
                for (int64_t j = 0; j < N; j++) c[j] += a * b[j];
            }
        }
    }
}

/* fast path: the same product through the GEMM engine */
void tg_matmul_f32(int64_t M, int64_t N, int64_t K, const float *A, int transA, const float *B,
                   int transB, float *C) {
    tg_gemm_f32(M, N, K, A, transA, B, transB, C, NULL, NULL);
}

/* ---- double ---------------------------------------------------------------------------------- */

/* reference: C[i][j] = sum_k opA[i][k] * opB[k][j], three plain loops in i-k-j order */
void tg_matmul_ref_f64(int64_t M, int64_t N, int64_t K, const double *A, int transA,
                       const double *B, int transB, double *C) {
    for (int64_t i = 0; i < M * N; i++) C[i] = 0;
    for (int64_t i = 0; i < M; i++) {
        for (int64_t k = 0; k < K; k++) {
            const double a = transA ? A[k * M + i] : A[i * K + k];
            double *c = C + i * N;
            if (transB) {
                for (int64_t j = 0; j < N; j++) c[j] += a * B[j * K + k];
            } else {
                const double *b = B + k * N;
                for (int64_t j = 0; j < N; j++) c[j] += a * b[j];
            }
        }
    }
}

/* fast path: the same product through the GEMM engine */
void tg_matmul_f64(int64_t M, int64_t N, int64_t K, const double *A, int transA,
                   const double *B, int transB, double *C) {
    tg_gemm_f64(M, N, K, A, transA, B, transB, C, NULL, NULL);
}
