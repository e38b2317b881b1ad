/* tinygrad_mnist C kernels: every kernel the Python side calls is declared here.
 *
 * Conventions: arrays are dense, C-contiguous, row-major; sizes are int64_t so that products
 * of dimensions cannot overflow; each kernel exists for float (_f32) and double (_f64).
 * The Python wrapper (tinygrad_mnist/backends/c_backend.py) checks shapes and dtypes before
 * calling, so the kernels trust their arguments. No kernel keeps static scratch memory:
 * workspaces are passed in by the caller, so calls from several threads are safe.
 *
 * This file is also read by cffi (build_kernels.py), which skips preprocessor lines: keep
 * declarations plain C, no macros.
 */
#ifndef TINYGRAD_MNIST_KERNELS_H
#define TINYGRAD_MNIST_KERNELS_H
#include <stdint.h>

/* ===== matmul.c: C = op(A) @ op(B) ==========================================================
 * op(A) is (M,K): A is stored (M,K), or (K,M) when transA != 0.
 * op(B) is (K,N): B is stored (K,N), or (N,K) when transB != 0.  C is (M,N) and is overwritten.
 * The transpose flags let backward compute dY @ W^T and X^T @ dY without copies.
 * tg_matmul_ref_* is the plain triple loop, kept as the reference the fast path is tested on. */
void tg_matmul_f32(int64_t M, int64_t N, int64_t K, const float *A, int transA,
                   const float *B, int transB, float *C);
void tg_matmul_f64(int64_t M, int64_t N, int64_t K, const double *A, int transA,
                   const double *B, int transB, double *C);
void tg_matmul_ref_f32(int64_t M, int64_t N, int64_t K, const float *A, int transA,
                       const float *B, int transB, float *C);
void tg_matmul_ref_f64(int64_t M, int64_t N, int64_t K, const double *A, int transA,
                       const double *B, int transB, double *C);

/* ===== linear.c: a Linear layer with its activation, forward and backward ==================
 * act: 0 none, 1 relu, 2 sigmoid, 3 tanh, 4 leaky_relu (slope > 0 for the backward).
 * forward:  y (B,OUT) = act(x (B,IN) @ w (OUT,IN)^T + b (OUT,)), b may be NULL.
 * backward: dz = act'(y) * dy, written to the caller's workspace dz (B,OUT);
 *           dx (B,IN) = dz @ w (skipped when dx is NULL);
 *           dw (OUT,IN) = dz^T @ x;  db (OUT,) = column sums of dz (skipped when db is NULL). */
void tg_linear_forward_f32(int64_t B, int64_t IN, int64_t OUT, const float *x, const float *w,
                           const float *b, float *y, int act, float slope);
void tg_linear_forward_f64(int64_t B, int64_t IN, int64_t OUT, const double *x, const double *w,
                           const double *b, double *y, int act, double slope);
void tg_linear_backward_f32(int64_t B, int64_t IN, int64_t OUT, const float *x, const float *w,
                            const float *y, const float *dy, float *dz, float *dx, float *dw,
                            float *db, int act, float slope);
void tg_linear_backward_f64(int64_t B, int64_t IN, int64_t OUT, const double *x,
                            const double *w, const double *y, const double *dy, double *dz,
                            double *dx, double *dw, double *db, int act, double slope);

/* ===== elementwise.c, activations.c, reduce.c, softmax.c, optim.c ========================== */

#endif
