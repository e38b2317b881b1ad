/* A Linear layer with its activation: forward and backward side by side (see kernels.h).
 *
 *   forward:  z = x @ w^T + b,  y = act(z)
 *   backward: dz = act'(y) * dy        (every activation here has a derivative in terms of y)
 *             dx = dz @ w,  dw = dz^T @ x,  db = sum over the batch of dz
 *
 * act and act' are the functions of activation_math.h, the same ones the standalone
 * activation kernels (activations.c) call; `act` is one of the TG_ACT_* codes of kernels.h.
 *
 * Fusion: the forward GEMM calls an *epilogue* on each tile of y right after computing it
 * (still in L1), which adds the bias and applies the activation: one pass over y instead of
 * a GEMM followed by a second sweep through memory. The backward computes dz in one pass
 * over dy, sums it into db (in double, as every sum in reduce.c), then the two GEMMs read dz
 * with transpose flags (no transposed copies).
 *
 * ISA: the epilogue and the backward's dz pass are compiled once per ISA (see isa.h); the
 * GEMM picks its microkernels by the same tg_get_isa(). */
#include "activation_math.h"
#include "gemm/gemm.h"
#include "isa.h"
#include "kernels.h"

/* ---- float ----------------------------------------------------------------------------------- */

/* y[j] = act(y[j]) over one row of n values. The switch sits outside the loops, so each loop
 * body is one inlined function from activation_math.h that the compiler can vectorise. */
TG_INLINE void activate_row_f32(float *y, int64_t n, int act, float slope) {
    switch (act) {
        case TG_ACT_RELU:
            for (int64_t j = 0; j < n; j++) y[j] = relu_f32(y[j]);
            break;
        case TG_ACT_SIGMOID:
            for (int64_t j = 0; j < n; j++) y[j] = sigmoid_f32(y[j]);
            break;
        case TG_ACT_TANH:
            for (int64_t j = 0; j < n; j++) y[j] = tanh_f32(y[j]);
            break;
        case TG_ACT_LEAKY_RELU:
            for (int64_t j = 0; j < n; j++) y[j] = leaky_relu_f32(y[j], slope);
            break;
        default: break; /* TG_ACT_NONE */
    }
}

/* dz[j] = act'(y[j]) * dy[j] over one row, from the layer's output y. */
TG_INLINE void activate_row_backward_f32(const float *y, const float *dy, float *dz, int64_t n,
                                         int act, float slope) {
    switch (act) {
        case TG_ACT_RELU:
            for (int64_t j = 0; j < n; j++) dz[j] = relu_backward_f32(y[j], dy[j]);
            break;
        case TG_ACT_SIGMOID:
            for (int64_t j = 0; j < n; j++) dz[j] = sigmoid_backward_f32(y[j], dy[j]);
            break;
        case TG_ACT_TANH:
            for (int64_t j = 0; j < n; j++) dz[j] = tanh_backward_f32(y[j], dy[j]);
            break;
        case TG_ACT_LEAKY_RELU:
            for (int64_t j = 0; j < n; j++) dz[j] = leaky_relu_backward_f32(y[j], dy[j], slope);
            break;
        default: /* TG_ACT_NONE: z = y */
            for (int64_t j = 0; j < n; j++) dz[j] = dy[j];
    }
}

typedef struct {
    const float *bias;
    int act;
    float slope;
} epilogue_f32;

/* The GEMM epilogue: the tile y[0..m)[0..n) holds z for columns j0..j0+n; y = act(z + b). */
TG_INLINE void bias_activate_loop_f32(float *y, int64_t ldy, int64_t m, int64_t n, int64_t j0,
                                      const void *ctx) {
    const epilogue_f32 *e = ctx;
    const float *b = e->bias ? e->bias + j0 : NULL;
    for (int64_t i = 0; i < m; i++) {
        float *yi = y + i * ldy;
        if (b)
            for (int64_t j = 0; j < n; j++) yi[j] += b[j];
        activate_row_f32(yi, n, e->act, e->slope);
    }
}
/* ... compiled once per ISA, the epilogue of tg_get_isa() */
static void bias_activate_f32(float *y, int64_t ldy, int64_t m, int64_t n, int64_t j0,
                              const void *ctx) {
    bias_activate_loop_f32(y, ldy, m, n, j0, ctx);
}
#if TG_X86
TG_TARGET_AVX2 static void bias_activate_avx2_f32(float *y, int64_t ldy, int64_t m, int64_t n,
                                                  int64_t j0, const void *ctx) {
    bias_activate_loop_f32(y, ldy, m, n, j0, ctx);
}
TG_TARGET_AVX512 static void bias_activate_avx512_f32(float *y, int64_t ldy, int64_t m, int64_t n,
                                                      int64_t j0, const void *ctx) {
    bias_activate_loop_f32(y, ldy, m, n, j0, ctx);
}
#endif
static tg_epilogue_f32 bias_activate_for_isa_f32(void) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: return bias_activate_avx512_f32;
        case TG_ISA_AVX2: return bias_activate_avx2_f32;
#endif
        default: return bias_activate_f32;
    }
}

/* dz = act'(y) * dy for the whole (B,OUT) batch, compiled once per ISA */
TG_INLINE void activate_backward_loop_f32(int64_t B, int64_t OUT, const float *y, const float *dy,
                                          float *dz, int act, float slope) {
    for (int64_t i = 0; i < B; i++)
        activate_row_backward_f32(y + i * OUT, dy + i * OUT, dz + i * OUT, OUT, act, slope);
}
#if TG_X86
TG_TARGET_AVX2 static void activate_backward_avx2_f32(int64_t B, int64_t OUT, const float *y,
                                                      const float *dy, float *dz, int act,
                                                      float slope) {
    activate_backward_loop_f32(B, OUT, y, dy, dz, act, slope);
}
TG_TARGET_AVX512 static void activate_backward_avx512_f32(int64_t B, int64_t OUT, const float *y,
                                                          const float *dy, float *dz, int act,
                                                          float slope) {
    activate_backward_loop_f32(B, OUT, y, dy, dz, act, slope);
}
#endif
static void activate_backward_f32(int64_t B, int64_t OUT, const float *y, const float *dy,
                                  float *dz, int act, float slope) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: activate_backward_avx512_f32(B, OUT, y, dy, dz, act, slope); break;
        case TG_ISA_AVX2: activate_backward_avx2_f32(B, OUT, y, dy, dz, act, slope); break;
#endif
        default: activate_backward_loop_f32(B, OUT, y, dy, dz, act, slope);
    }
}

/* forward: y = act(x @ w^T + b) */
void tg_linear_forward_f32(int64_t B, int64_t IN, int64_t OUT, const float *x, const float *w,
                           const float *b, float *y, int act, float slope) {
    epilogue_f32 e = {b, act, slope};
    const int fused = b != NULL || act != TG_ACT_NONE;
    tg_gemm_f32(B, OUT, IN, x, 0, w, 1, y, fused ? bias_activate_for_isa_f32() : NULL, &e);
}

/* backward: dz = act'(y) dy;  db = column sums of dz;  dx = dz @ w;  dw = dz^T @ x */
void tg_linear_backward_f32(int64_t B, int64_t IN, int64_t OUT, const float *x, const float *w,
                            const float *y, const float *dy, float *dz, float *dx, float *dw,
                            float *db, int act, float slope) {
    activate_backward_f32(B, OUT, y, dy, dz, act, slope);
    if (db) tg_sum_axis_f32(1, B, OUT, dz, db); /* sums over the batch, in double */
    if (dx) tg_gemm_f32(B, IN, OUT, dz, 0, w, 0, dx, NULL, NULL); /* dz @ w */
    tg_gemm_f32(OUT, IN, B, dz, 1, x, 0, dw, NULL, NULL);         /* dz^T @ x */
}

/* ---- double ---------------------------------------------------------------------------------- */

/* y[j] = act(y[j]) over one row of n values. The switch sits outside the loops, so each loop
 * body is one inlined function from activation_math.h that the compiler can vectorise. */
TG_INLINE void activate_row_f64(double *y, int64_t n, int act, double slope) {
    switch (act) {
        case TG_ACT_RELU:
            for (int64_t j = 0; j < n; j++) y[j] = relu_f64(y[j]);
            break;
        case TG_ACT_SIGMOID:
            for (int64_t j = 0; j < n; j++) y[j] = sigmoid_f64(y[j]);
            break;
        case TG_ACT_TANH:
            for (int64_t j = 0; j < n; j++) y[j] = tanh_f64(y[j]);
            break;
        case TG_ACT_LEAKY_RELU:
            for (int64_t j = 0; j < n; j++) y[j] = leaky_relu_f64(y[j], slope);
            break;
        default: break; /* TG_ACT_NONE */
    }
}

/* dz[j] = act'(y[j]) * dy[j] over one row, from the layer's output y. */
TG_INLINE void activate_row_backward_f64(const double *y, const double *dy, double *dz, int64_t n,
                                         int act, double slope) {
    switch (act) {
        case TG_ACT_RELU:
            for (int64_t j = 0; j < n; j++) dz[j] = relu_backward_f64(y[j], dy[j]);
            break;
        case TG_ACT_SIGMOID:
            for (int64_t j = 0; j < n; j++) dz[j] = sigmoid_backward_f64(y[j], dy[j]);
            break;
        case TG_ACT_TANH:
            for (int64_t j = 0; j < n; j++) dz[j] = tanh_backward_f64(y[j], dy[j]);
            break;
        case TG_ACT_LEAKY_RELU:
            for (int64_t j = 0; j < n; j++) dz[j] = leaky_relu_backward_f64(y[j], dy[j], slope);
            break;
        default: /* TG_ACT_NONE: z = y */
            for (int64_t j = 0; j < n; j++) dz[j] = dy[j];
    }
}

typedef struct {
    const double *bias;
    int act;
    double slope;
} epilogue_f64;

/* The GEMM epilogue: the tile y[0..m)[0..n) holds z for columns j0..j0+n; y = act(z + b). */
TG_INLINE void bias_activate_loop_f64(double *y, int64_t ldy, int64_t m, int64_t n, int64_t j0,
                                      const void *ctx) {
    const epilogue_f64 *e = ctx;
    const double *b = e->bias ? e->bias + j0 : NULL;
    for (int64_t i = 0; i < m; i++) {
        double *yi = y + i * ldy;
        if (b)
            for (int64_t j = 0; j < n; j++) yi[j] += b[j];
        activate_row_f64(yi, n, e->act, e->slope);
    }
}
/* ... compiled once per ISA, the epilogue of tg_get_isa() */
static void bias_activate_f64(double *y, int64_t ldy, int64_t m, int64_t n, int64_t j0,
                              const void *ctx) {
    bias_activate_loop_f64(y, ldy, m, n, j0, ctx);
}
#if TG_X86
TG_TARGET_AVX2 static void bias_activate_avx2_f64(double *y, int64_t ldy, int64_t m, int64_t n,
                                                  int64_t j0, const void *ctx) {
    bias_activate_loop_f64(y, ldy, m, n, j0, ctx);
}
TG_TARGET_AVX512 static void bias_activate_avx512_f64(double *y, int64_t ldy, int64_t m, int64_t n,
                                                      int64_t j0, const void *ctx) {
    bias_activate_loop_f64(y, ldy, m, n, j0, ctx);
}
#endif
static tg_epilogue_f64 bias_activate_for_isa_f64(void) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: return bias_activate_avx512_f64;
        case TG_ISA_AVX2: return bias_activate_avx2_f64;
#endif
        default: return bias_activate_f64;
    }
}

/* dz = act'(y) * dy for the whole (B,OUT) batch, compiled once per ISA */
TG_INLINE void activate_backward_loop_f64(int64_t B, int64_t OUT, const double *y, const double *dy,
                                          double *dz, int act, double slope) {
    for (int64_t i = 0; i < B; i++)
        activate_row_backward_f64(y + i * OUT, dy + i * OUT, dz + i * OUT, OUT, act, slope);
}
#if TG_X86
TG_TARGET_AVX2 static void activate_backward_avx2_f64(int64_t B, int64_t OUT, const double *y,
                                                      const double *dy, double *dz, int act,
                                                      double slope) {
    activate_backward_loop_f64(B, OUT, y, dy, dz, act, slope);
}
TG_TARGET_AVX512 static void activate_backward_avx512_f64(int64_t B, int64_t OUT, const double *y,
                                                          const double *dy, double *dz, int act,
                                                          double slope) {
    activate_backward_loop_f64(B, OUT, y, dy, dz, act, slope);
}
#endif
static void activate_backward_f64(int64_t B, int64_t OUT, const double *y, const double *dy,
                                  double *dz, int act, double slope) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: activate_backward_avx512_f64(B, OUT, y, dy, dz, act, slope); break;
        case TG_ISA_AVX2: activate_backward_avx2_f64(B, OUT, y, dy, dz, act, slope); break;
#endif
        default: activate_backward_loop_f64(B, OUT, y, dy, dz, act, slope);
    }
}

/* forward: y = act(x @ w^T + b) */
void tg_linear_forward_f64(int64_t B, int64_t IN, int64_t OUT, const double *x, const double *w,
                           const double *b, double *y, int act, double slope) {
    epilogue_f64 e = {b, act, slope};
    const int fused = b != NULL || act != TG_ACT_NONE;
    tg_gemm_f64(B, OUT, IN, x, 0, w, 1, y, fused ? bias_activate_for_isa_f64() : NULL, &e);
}

/* backward: dz = act'(y) dy;  db = column sums of dz;  dx = dz @ w;  dw = dz^T @ x */
void tg_linear_backward_f64(int64_t B, int64_t IN, int64_t OUT, const double *x, const double *w,
                            const double *y, const double *dy, double *dz, double *dx, double *dw,
                            double *db, int act, double slope) {
    activate_backward_f64(B, OUT, y, dy, dz, act, slope);
    if (db) tg_sum_axis_f64(1, B, OUT, dz, db); /* sums over the batch, in double */
    if (dx) tg_gemm_f64(B, IN, OUT, dz, 0, w, 0, dx, NULL, NULL); /* dz @ w */
    tg_gemm_f64(OUT, IN, B, dz, 1, x, 0, dw, NULL, NULL);         /* dz^T @ x */
}
