/* Activation kernels over n elements, each forward next to its backward (see kernels.h).
 *
 * The math of each activation and of its derivative is written once, in activation_math.h;
 * these loops apply it elementwise, and the fused Linear (linear.c) applies the same
 * functions to each tile of its output.
 *
 *   sigmoid     y = 1 / (1 + e^-x)          dx = dy * y (1 - y)        from the output y
 *   tanh        y = tanh x                  dx = dy * (1 - y^2)        from the output y
 *   relu        y = max(x, 0)               dx = dy * [x > 0]          from the input x
 *   leaky_relu  y = x if x > 0 else s x     dx = dy if x > 0 else s dy from the input x
 *
 * ISA: activation_loop holds every loop of this file; it is compiled once per ISA
 * (activation_avx2_f32, ...: see isa.h) and the public kernels pick the copy of tg_get_isa(). */
#include <stddef.h>

#include "activation_math.h"
#include "isa.h"
#include "kernels.h"

enum {
    SIGMOID,
    SIGMOID_BACKWARD,
    TANH,
    TANH_BACKWARD,
    RELU,
    RELU_BACKWARD,
    LEAKY_RELU,
    LEAKY_RELU_BACKWARD
};

/* ---- float ----------------------------------------------------------------------------------- */

/* out = f(x) (forwards, dy unused) or f'(x) dy (backwards; x is y for sigmoid and tanh) */
TG_INLINE void activation_loop_f32(int f, int64_t n, const float *x, const float *dy, float s,
                                   float *out) {
    switch (f) {
        case SIGMOID:
            for (int64_t i = 0; i < n; i++) out[i] = sigmoid_f32(x[i]);
            break;
        case SIGMOID_BACKWARD:
            for (int64_t i = 0; i < n; i++) out[i] = sigmoid_backward_f32(x[i], dy[i]);
            break;
        case TANH:
            for (int64_t i = 0; i < n; i++) out[i] = tanh_f32(x[i]);
            break;
        case TANH_BACKWARD:
            for (int64_t i = 0; i < n; i++) out[i] = tanh_backward_f32(x[i], dy[i]);
            break;
        case RELU:
            for (int64_t i = 0; i < n; i++) out[i] = relu_f32(x[i]);
            break;
        case RELU_BACKWARD:
            for (int64_t i = 0; i < n; i++) out[i] = relu_backward_f32(x[i], dy[i]);
            break;
        case LEAKY_RELU:
            for (int64_t i = 0; i < n; i++) out[i] = leaky_relu_f32(x[i], s);
            break;
        default:
            for (int64_t i = 0; i < n; i++) out[i] = leaky_relu_backward_f32(x[i], dy[i], s);
    }
}
#if TG_X86
TG_TARGET_AVX2 static void activation_avx2_f32(int f, int64_t n, const float *x, const float *dy,
                                               float s, float *out) {
    activation_loop_f32(f, n, x, dy, s, out);
}
TG_TARGET_AVX512 static void activation_avx512_f32(int f, int64_t n, const float *x,
                                                   const float *dy, float s, float *out) {
    activation_loop_f32(f, n, x, dy, s, out);
}
#endif
static void activation_f32(int f, int64_t n, const float *x, const float *dy, float s, float *out) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: activation_avx512_f32(f, n, x, dy, s, out); break;
        case TG_ISA_AVX2: activation_avx2_f32(f, n, x, dy, s, out); break;
#endif
        default: activation_loop_f32(f, n, x, dy, s, out);
    }
}

/* ---- sigmoid: y = 1 / (1 + e^-x);  dx = dy y (1 - y) */
void tg_sigmoid_f32(int64_t n, const float *x, float *y) {
    activation_f32(SIGMOID, n, x, NULL, 0, y);
}
void tg_sigmoid_backward_f32(int64_t n, const float *y, const float *dy, float *dx) {
    activation_f32(SIGMOID_BACKWARD, n, y, dy, 0, dx);
}
/* ---- tanh: y = tanh x;  dx = dy (1 - y^2) */
void tg_tanh_f32(int64_t n, const float *x, float *y) {
    activation_f32(TANH, n, x, NULL, 0, y);
}
void tg_tanh_backward_f32(int64_t n, const float *y, const float *dy, float *dx) {
    activation_f32(TANH_BACKWARD, n, y, dy, 0, dx);
}
/* ---- relu: y = max(x, 0);  dx = dy [x > 0] */
void tg_relu_f32(int64_t n, const float *x, float *y) {
    activation_f32(RELU, n, x, NULL, 0, y);
}
void tg_relu_backward_f32(int64_t n, const float *x, const float *dy, float *dx) {
    activation_f32(RELU_BACKWARD, n, x, dy, 0, dx);
}
/* ---- leaky_relu: y = x if x > 0 else s x;  dx = dy if x > 0 else s dy */
void tg_leaky_relu_f32(int64_t n, const float *x, float slope, float *y) {
    activation_f32(LEAKY_RELU, n, x, NULL, slope, y);
}
void tg_leaky_relu_backward_f32(int64_t n, const float *x, const float *dy, float slope,
                                float *dx) {
    activation_f32(LEAKY_RELU_BACKWARD, n, x, dy, slope, dx);
}

/* ---- double ---------------------------------------------------------------------------------- */

/* out = f(x) (forwards, dy unused) or f'(x) dy (backwards; x is y for sigmoid and tanh) */
TG_INLINE void activation_loop_f64(int f, int64_t n, const double *x, const double *dy, double s,
                                   double *out) {
    switch (f) {
        case SIGMOID:
            for (int64_t i = 0; i < n; i++) out[i] = sigmoid_f64(x[i]);
            break;
        case SIGMOID_BACKWARD:
            for (int64_t i = 0; i < n; i++) out[i] = sigmoid_backward_f64(x[i], dy[i]);
            break;
        case TANH:
            for (int64_t i = 0; i < n; i++) out[i] = tanh_f64(x[i]);
            break;
        case TANH_BACKWARD:
            for (int64_t i = 0; i < n; i++) out[i] = tanh_backward_f64(x[i], dy[i]);
            break;
        case RELU:
            for (int64_t i = 0; i < n; i++) out[i] = relu_f64(x[i]);
            break;
        case RELU_BACKWARD:
            for (int64_t i = 0; i < n; i++) out[i] = relu_backward_f64(x[i], dy[i]);
            break;
        case LEAKY_RELU:
            for (int64_t i = 0; i < n; i++) out[i] = leaky_relu_f64(x[i], s);
            break;
        default:
            for (int64_t i = 0; i < n; i++) out[i] = leaky_relu_backward_f64(x[i], dy[i], s);
    }
}
#if TG_X86
TG_TARGET_AVX2 static void activation_avx2_f64(int f, int64_t n, const double *x, const double *dy,
                                               double s, double *out) {
    activation_loop_f64(f, n, x, dy, s, out);
}
TG_TARGET_AVX512 static void activation_avx512_f64(int f, int64_t n, const double *x,
                                                   const double *dy, double s, double *out) {
    activation_loop_f64(f, n, x, dy, s, out);
}
#endif
static void activation_f64(int f, int64_t n, const double *x, const double *dy, double s,
                           double *out) {
    switch (tg_get_isa()) {
#if TG_X86
        case TG_ISA_AVX512: activation_avx512_f64(f, n, x, dy, s, out); break;
        case TG_ISA_AVX2: activation_avx2_f64(f, n, x, dy, s, out); break;
#endif
        default: activation_loop_f64(f, n, x, dy, s, out);
    }
}

/* ---- sigmoid: y = 1 / (1 + e^-x);  dx = dy y (1 - y) */
void tg_sigmoid_f64(int64_t n, const double *x, double *y) {
    activation_f64(SIGMOID, n, x, NULL, 0, y);
}
void tg_sigmoid_backward_f64(int64_t n, const double *y, const double *dy, double *dx) {
    activation_f64(SIGMOID_BACKWARD, n, y, dy, 0, dx);
}
/* ---- tanh: y = tanh x;  dx = dy (1 - y^2) */
void tg_tanh_f64(int64_t n, const double *x, double *y) {
    activation_f64(TANH, n, x, NULL, 0, y);
}
void tg_tanh_backward_f64(int64_t n, const double *y, const double *dy, double *dx) {
    activation_f64(TANH_BACKWARD, n, y, dy, 0, dx);
}
/* ---- relu: y = max(x, 0);  dx = dy [x > 0] */
void tg_relu_f64(int64_t n, const double *x, double *y) {
    activation_f64(RELU, n, x, NULL, 0, y);
}
void tg_relu_backward_f64(int64_t n, const double *x, const double *dy, double *dx) {
    activation_f64(RELU_BACKWARD, n, x, dy, 0, dx);
}
/* ---- leaky_relu: y = x if x > 0 else s x;  dx = dy if x > 0 else s dy */
void tg_leaky_relu_f64(int64_t n, const double *x, double slope, double *y) {
    activation_f64(LEAKY_RELU, n, x, NULL, slope, y);
}
void tg_leaky_relu_backward_f64(int64_t n, const double *x, const double *dy, double slope,
                                double *dx) {
    activation_f64(LEAKY_RELU_BACKWARD, n, x, dy, slope, dx);
}
