/* tinygrad_mnist C kernels: every kernel the Python side calls is declared here.
 *
 * Conventions: arrays are dense, C-contiguous, row-major; sizes are int64_t so that products
 * of dimensions cannot overflow; each kernel exists for float (_f32) and double (_f64).
 * The Python wrapper (tinygrad_mnist/backends/c_backend.py) checks shapes and dtypes before
 * calling, so the kernels trust their arguments. Calls from several threads are safe: the
 * elementwise, softmax and linear kernels use only the caller's arrays (workspaces such as
 * linear's dz are passed in), and the GEMM behind matmul and linear keeps its packing buffers
 * per thread (thread-local, reused between calls; csrc/gemm/gemm.c), never shared.
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

/* ===== isa.c: the instruction set of the kernels, chosen at run time =======================
 * One setting for all kernels: at every call the GEMM (matmul, linear) picks its microkernels
 * by it, and the elementwise, activation, sum_axis, softmax, cross-entropy, optimizer and
 * linear loops their copy compiled for it (isa.h). The rest have one copy for every ISA:
 * sum_all (an ordered sum), argmax/argmin, gather/scatter and pow_tensor (off the training
 * path, index bookkeeping or libm calls). Generic is portable C (vectorized for the baseline:
 * SSE2 on x86-64, NEON on aarch64); AVX2 (with FMA) and AVX-512 exist in x86-64 builds, NEON
 * in aarch64 builds. The Python side reads these names through cffi:
 * this enum is the one list of ISA codes. The default is the best the CPU and the build have,
 * or env TINYGRAD_ISA=generic|avx2|avx512|neon (the names below in lower case; read once).
 * tg_set_isa(isa) switches (isa < 0: back to the best); it refuses an ISA the CPU or the
 * build lacks, and returns the ISA in use afterwards. */
enum tg_isa { TG_ISA_GENERIC = 0, TG_ISA_AVX2 = 1, TG_ISA_AVX512 = 2, TG_ISA_NEON = 3 };
int tg_set_isa(int isa);
int tg_get_isa(void);

/* ===== gemm.c: threads and cache blocking of the GEMM behind matmul and linear =============
 * Threads (OpenMP builds only, used on big products): env TINYGRAD_NUM_THREADS, default 1;
 * counts are capped at 256; tg_set_num_threads returns the count in use (1 without OpenMP).
 * env TINYGRAD_GEMM_PATH=auto|packed|direct (read once; default auto) forces a driver. */
int tg_set_num_threads(int n);
int tg_get_num_threads(void);
/* The cache blocking the GEMM chose on this machine (csrc/gemm/gemm.c, blocking_for), for
 * float32 and the ISA in use: out = {L1d, L2, L3 bytes (read at run time), KC, MC, NC,
 * DIRECT_KC elements}. Benchmarks print it. */
void tg_gemm_blocking(int64_t out[7]);
/* The same rule for any cache sizes (bytes; 0 unknown) and ISA (enum tg_isa; one this build
 * lacks gives the generic kernel's), elem 4 (float32) or 8: out = {KC, MC, NC, DIRECT_KC,
 * MR, NR}. A pure function, for tests. */
void tg_gemm_blocking_for(int64_t l1, int64_t l2, int64_t l3, int isa, int elem, int64_t out[6]);

/* ===== the activation codes, shared by C and Python ========================================
 * linear.c's `act` argument. The C backend (c_backend.py) reads these names through cffi, so
 * this enum is the one list of codes; the math of each activation is in activation_math.h. */
enum tg_activation {
    TG_ACT_NONE = 0,
    TG_ACT_RELU = 1,
    TG_ACT_SIGMOID = 2,
    TG_ACT_TANH = 3,
    TG_ACT_LEAKY_RELU = 4
};

/* ===== linear.c: a Linear layer with its activation, forward and backward ==================
 * act: a TG_ACT_* code above (leaky_relu needs slope > 0 for the backward).
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
/* All arrays are C-contiguous; n counts elements. out may be the same buffer as an input.
 * Each f32 kernel has an f64 twin with the same arguments (float -> double). */

/* ---- elementwise.c: out = a OP b, a is the full-size operand, b the broadcast one.
 * TG_RSUB and TG_RDIV put b on the left (out = b - a, b / a), for `row - A` or `1 / A`. */
enum { TG_ADD = 0, TG_SUB = 1, TG_MUL = 2, TG_DIV = 3, TG_RSUB = 4, TG_RDIV = 5 };
/* a, b, out (n,) */
void tg_binary_f32(int op, int64_t n, const float *a, const float *b, float *out);
void tg_binary_f64(int op, int64_t n, const double *a, const double *b, double *out);
/* a, out (M,N); row (N,): out[i][j] = a[i][j] OP row[j] */
void tg_binary_row_f32(int op, int64_t M, int64_t N, const float *a, const float *row,
                       float *out);
void tg_binary_row_f64(int op, int64_t M, int64_t N, const double *a, const double *row,
                       double *out);
/* a, out (M,N); col (M,) (an (M,1) column): out[i][j] = a[i][j] OP col[i] */
void tg_binary_col_f32(int op, int64_t M, int64_t N, const float *a, const float *col,
                       float *out);
void tg_binary_col_f64(int op, int64_t M, int64_t N, const double *a, const double *col,
                       double *out);
/* a, out (n,); s a scalar: out[i] = a[i] OP s */
void tg_binary_scalar_f32(int op, int64_t n, const float *a, float s, float *out);
void tg_binary_scalar_f64(int op, int64_t n, const double *a, double s, double *out);
/* a, out (n,): -a, a^p, e^a, ln a */
void tg_neg_f32(int64_t n, const float *a, float *out);
void tg_neg_f64(int64_t n, const double *a, double *out);
void tg_pow_f32(int64_t n, const float *a, float p, float *out);
void tg_pow_f64(int64_t n, const double *a, double p, double *out);
void tg_exp_f32(int64_t n, const float *a, float *out);
void tg_exp_f64(int64_t n, const double *a, double *out);
void tg_log_f32(int64_t n, const float *a, float *out);
void tg_log_f64(int64_t n, const double *a, double *out);

/* ---- activations.c: all arrays (n,). Backward of sigmoid/tanh takes the output y,
 * of relu/leaky_relu the input x. */
void tg_sigmoid_f32(int64_t n, const float *x, float *y);
void tg_sigmoid_f64(int64_t n, const double *x, double *y);
void tg_sigmoid_backward_f32(int64_t n, const float *y, const float *dy, float *dx);
void tg_sigmoid_backward_f64(int64_t n, const double *y, const double *dy, double *dx);
void tg_tanh_f32(int64_t n, const float *x, float *y);
void tg_tanh_f64(int64_t n, const double *x, double *y);
void tg_tanh_backward_f32(int64_t n, const float *y, const float *dy, float *dx);
void tg_tanh_backward_f64(int64_t n, const double *y, const double *dy, double *dx);
void tg_relu_f32(int64_t n, const float *x, float *y);
void tg_relu_f64(int64_t n, const double *x, double *y);
void tg_relu_backward_f32(int64_t n, const float *x, const float *dy, float *dx);
void tg_relu_backward_f64(int64_t n, const double *x, const double *dy, double *dx);
void tg_leaky_relu_f32(int64_t n, const float *x, float slope, float *y);
void tg_leaky_relu_f64(int64_t n, const double *x, double slope, double *y);
void tg_leaky_relu_backward_f32(int64_t n, const float *x, const float *dy, float slope,
                                float *dx);
void tg_leaky_relu_backward_f64(int64_t n, const double *x, const double *dy, double slope,
                                double *dx);

/* ---- reduce.c: x (outer, n, inner) -> out (outer, inner), summing over the middle axis;
 * sum_all: x (n,) -> out (1,). Both accumulate in double (so does linear's db, through
 * sum_axis; the GEMM's dot products accumulate in the array's own type). */
void tg_sum_axis_f32(int64_t outer, int64_t n, int64_t inner, const float *x, float *out);
void tg_sum_axis_f64(int64_t outer, int64_t n, int64_t inner, const double *x, double *out);
void tg_sum_all_f32(int64_t n, const float *x, float *out);
void tg_sum_all_f64(int64_t n, const double *x, double *out);

/* ---- softmax.c: over the last axis of (rows, cols), cols >= 1; x, y, dy, dx (rows, cols).
 * The backwards take the forward's output y. */
void tg_softmax_f32(int64_t rows, int64_t cols, const float *x, float *y);
void tg_softmax_f64(int64_t rows, int64_t cols, const double *x, double *y);
void tg_softmax_backward_f32(int64_t rows, int64_t cols, const float *y, const float *dy,
                             float *dx);
void tg_softmax_backward_f64(int64_t rows, int64_t cols, const double *y, const double *dy,
                             double *dx);
void tg_log_softmax_f32(int64_t rows, int64_t cols, const float *x, float *y);
void tg_log_softmax_f64(int64_t rows, int64_t cols, const double *x, double *y);
void tg_log_softmax_backward_f32(int64_t rows, int64_t cols, const float *y, const float *dy,
                                 float *dx);
void tg_log_softmax_backward_f64(int64_t rows, int64_t cols, const double *y,
                                 const double *dy, double *dx);
/* logits, dlogits (B,C); labels (B,); loss (1,) = mean over rows of
 * -log softmax(logits)[label]; dlogits = (softmax(logits) - onehot(labels)) / B. B >= 1.
 * Returns -1, or the first row whose label is outside [0, C) (then loss is not written). */
int64_t tg_cross_entropy_f32(int64_t B, int64_t C, const float *logits, const int64_t *labels,
                             float *loss, float *dlogits);
int64_t tg_cross_entropy_f64(int64_t B, int64_t C, const double *logits,
                             const int64_t *labels, double *loss, double *dlogits);

/* ---- optim.c: in-place updates of p (n,) and its state, given the gradient g (n,).
 * buf (n,) is SGD's momentum buffer (may be NULL when momentum == 0); m, v (n,) are Adam's
 * moment estimates; step counts from 1. */
void tg_sgd_step_f32(int64_t n, float *p, const float *g, float *buf, double lr,
                     double momentum, double weight_decay, int nesterov);
void tg_sgd_step_f64(int64_t n, double *p, const double *g, double *buf, double lr,
                     double momentum, double weight_decay, int nesterov);
void tg_adam_step_f32(int64_t n, float *p, const float *g, float *m, float *v, double lr,
                      double beta1, double beta2, double eps, double weight_decay,
                      int64_t step);
void tg_adam_step_f64(int64_t n, double *p, const double *g, double *m, double *v, double lr,
                      double beta1, double beta2, double eps, double weight_decay,
                      int64_t step);
/* The same steps over `count` tensors in one call: tensor j has sizes[j] elements at params[j],
 * gradient grads[j], state bufs[j] (bufs may be NULL when momentum == 0) or ms[j], vs[j].
 * Returns -1 when all are updated, else the first j whose arrays overlap, updating none. */
int64_t tg_sgd_step_many_f32(int64_t count, const int64_t *sizes, float *const *params,
                             const float *const *grads, float *const *bufs, double lr,
                             double momentum, double weight_decay, int nesterov);
int64_t tg_sgd_step_many_f64(int64_t count, const int64_t *sizes, double *const *params,
                             const double *const *grads, double *const *bufs, double lr,
                             double momentum, double weight_decay, int nesterov);
int64_t tg_adam_step_many_f32(int64_t count, const int64_t *sizes, float *const *params,
                              const float *const *grads, float *const *ms, float *const *vs,
                              double lr, double beta1, double beta2, double eps,
                              double weight_decay, int64_t step);
int64_t tg_adam_step_many_f64(int64_t count, const int64_t *sizes, double *const *params,
                              const double *const *grads, double *const *ms, double *const *vs,
                              double lr, double beta1, double beta2, double eps,
                              double weight_decay, int64_t step);

/* ===== ops a PyTorch user expects: max/min, gather rows, tensor powers =====================
 * minmax.c: max/min along the middle axis of x (outer, n, inner), n >= 1: val, idx (outer,
 * inner) get the value and the first index of the largest (smallest) element, NaN winning.
 * tg_select_dim_backward: dx (outer, n, inner) = g (outer, inner) at idx, 0 elsewhere. */
void tg_argmax_f32(int64_t outer, int64_t n, int64_t inner, const float *x, float *val,
                   int64_t *idx);
void tg_argmax_f64(int64_t outer, int64_t n, int64_t inner, const double *x, double *val,
                   int64_t *idx);
void tg_argmin_f32(int64_t outer, int64_t n, int64_t inner, const float *x, float *val,
                   int64_t *idx);
void tg_argmin_f64(int64_t outer, int64_t n, int64_t inner, const double *x, double *val,
                   int64_t *idx);
void tg_select_dim_backward_f32(int64_t outer, int64_t n, int64_t inner, const int64_t *idx,
                                const float *g, float *dx);
void tg_select_dim_backward_f64(int64_t outer, int64_t n, int64_t inner, const int64_t *idx,
                                const double *g, double *dx);

/* index.c: out (n, cols) = rows rows[0..n) of x (n_rows, cols); the backward scatter-adds
 * g (n, cols) into dx (n_rows, cols), which it zeroes first. 0 <= rows[j] < n_rows. */
void tg_gather_rows_f32(int64_t n, int64_t cols, const float *x, const int64_t *rows,
                        float *out);
void tg_gather_rows_f64(int64_t n, int64_t cols, const double *x, const int64_t *rows,
                        double *out);
void tg_scatter_add_rows_f32(int64_t n, int64_t cols, int64_t n_rows, const float *g,
                             const int64_t *rows, float *dx);
void tg_scatter_add_rows_f64(int64_t n, int64_t cols, int64_t n_rows, const double *g,
                             const int64_t *rows, double *dx);

/* pow_tensor.c: y (n,) = a ** b elementwise, a, b (n,); the backward gives da and db (each
 * may be NULL) with torch's conventions at b == 0 and a == 0. */
void tg_pow_tensor_f32(int64_t n, const float *a, const float *b, float *y);
void tg_pow_tensor_f64(int64_t n, const double *a, const double *b, double *y);
void tg_pow_tensor_backward_f32(int64_t n, const float *a, const float *b, const float *y,
                                const float *g, float *da, float *db);
void tg_pow_tensor_backward_f64(int64_t n, const double *a, const double *b, const double *y,
                                const double *g, double *da, double *db);

/* ===== plan.c: a captured training step, replayed with one call ============================
 * A plan is the list of kernel calls one training step made, recorded from Python while the
 * step ran eagerly (tinygrad_mnist/capture.py), with the same buffers and the same arguments.
 * Each call names its kernel (a TG_PLAN_* code: the float32 kernels a step can use) and holds
 * the kernel's arguments sorted by kind, each kind in the kernel's order: integers in i[],
 * pointers in p[] (arrays, or arrays of pointers for the *_step_many kernels), reals in r[].
 * Between replays Python rewrites the fields that change: the input batch's pointers, and the
 * optimizer's live scalars (learning rate, Adam's step count).
 * tg_plan_run makes the calls in order and stops at the first that fails (a label outside
 * [0, C), overlapping optimizer arrays): it returns -1 when every call ran, else the failed
 * call's index, with the kernel's own result in *status. seconds, when not NULL, gets each
 * call's wall time (for printing a plan with its timings; NULL costs nothing). */
enum tg_plan_kernel {
    TG_PLAN_MATMUL_F32 = 0,
    TG_PLAN_LINEAR_FORWARD_F32 = 1,
    TG_PLAN_LINEAR_BACKWARD_F32 = 2,
    TG_PLAN_BINARY_F32 = 3,
    TG_PLAN_BINARY_ROW_F32 = 4,
    TG_PLAN_BINARY_COL_F32 = 5,
    TG_PLAN_BINARY_SCALAR_F32 = 6,
    TG_PLAN_NEG_F32 = 7,
    TG_PLAN_POW_F32 = 8,
    TG_PLAN_EXP_F32 = 9,
    TG_PLAN_LOG_F32 = 10,
    TG_PLAN_SIGMOID_F32 = 11,
    TG_PLAN_SIGMOID_BACKWARD_F32 = 12,
    TG_PLAN_TANH_F32 = 13,
    TG_PLAN_TANH_BACKWARD_F32 = 14,
    TG_PLAN_RELU_F32 = 15,
    TG_PLAN_RELU_BACKWARD_F32 = 16,
    TG_PLAN_LEAKY_RELU_F32 = 17,
    TG_PLAN_LEAKY_RELU_BACKWARD_F32 = 18,
    TG_PLAN_SUM_AXIS_F32 = 19,
    TG_PLAN_SUM_ALL_F32 = 20,
    TG_PLAN_SOFTMAX_F32 = 21,
    TG_PLAN_SOFTMAX_BACKWARD_F32 = 22,
    TG_PLAN_LOG_SOFTMAX_F32 = 23,
    TG_PLAN_LOG_SOFTMAX_BACKWARD_F32 = 24,
    TG_PLAN_CROSS_ENTROPY_F32 = 25,
    TG_PLAN_SGD_STEP_F32 = 26,
    TG_PLAN_ADAM_STEP_F32 = 27,
    TG_PLAN_SGD_STEP_MANY_F32 = 28,
    TG_PLAN_ADAM_STEP_MANY_F32 = 29
};
struct tg_plan_call {
    int64_t kernel; /* a TG_PLAN_* code */
    int64_t i[6];
    void *p[10];
    double r[6];
};
int64_t tg_plan_run(int64_t n, const struct tg_plan_call *calls, int64_t *status,
                    double *seconds);

#endif
