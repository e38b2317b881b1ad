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
 */
#include "activation_math.h"
#include "kernels.h"
#include "vectorize.h"

/* ---- sigmoid: y = 1 / (1 + e^-x);  dx = dy y (1 - y) */
TG_VECTORIZE
void tg_sigmoid_f32(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = sigmoid_f32(x[i]);
}
TG_VECTORIZE
void tg_sigmoid_backward_f32(int64_t n, const float *y, const float *dy, float *dx) {
    for (int64_t i = 0; i < n; i++) dx[i] = sigmoid_backward_f32(y[i], dy[i]);
}
TG_VECTORIZE
void tg_sigmoid_f64(int64_t n, const double *x, double *y) {
    for (int64_t i = 0; i < n; i++) y[i] = sigmoid_f64(x[i]);
}
TG_VECTORIZE
void tg_sigmoid_backward_f64(int64_t n, const double *y, const double *dy, double *dx) {
    for (int64_t i = 0; i < n; i++) dx[i] = sigmoid_backward_f64(y[i], dy[i]);
}

/* ---- tanh: y = tanh x;  dx = dy (1 - y^2) */
TG_VECTORIZE
void tg_tanh_f32(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = tanh_f32(x[i]);
}
TG_VECTORIZE
void tg_tanh_backward_f32(int64_t n, const float *y, const float *dy, float *dx) {
    for (int64_t i = 0; i < n; i++) dx[i] = tanh_backward_f32(y[i], dy[i]);
}
TG_VECTORIZE
void tg_tanh_f64(int64_t n, const double *x, double *y) {
    for (int64_t i = 0; i < n; i++) y[i] = tanh_f64(x[i]);
}
TG_VECTORIZE
void tg_tanh_backward_f64(int64_t n, const double *y, const double *dy, double *dx) {
    for (int64_t i = 0; i < n; i++) dx[i] = tanh_backward_f64(y[i], dy[i]);
}

/* ---- relu: y = max(x, 0);  dx = dy [x > 0] */
TG_VECTORIZE
void tg_relu_f32(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = relu_f32(x[i]);
}
TG_VECTORIZE
void tg_relu_backward_f32(int64_t n, const float *x, const float *dy, float *dx) {
    for (int64_t i = 0; i < n; i++) dx[i] = relu_backward_f32(x[i], dy[i]);
}
TG_VECTORIZE
void tg_relu_f64(int64_t n, const double *x, double *y) {
    for (int64_t i = 0; i < n; i++) y[i] = relu_f64(x[i]);
}
TG_VECTORIZE
void tg_relu_backward_f64(int64_t n, const double *x, const double *dy, double *dx) {
    for (int64_t i = 0; i < n; i++) dx[i] = relu_backward_f64(x[i], dy[i]);
}

/* ---- leaky_relu: y = x if x > 0 else s x;  dx = dy if x > 0 else s dy */
TG_VECTORIZE
void tg_leaky_relu_f32(int64_t n, const float *x, float slope, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = leaky_relu_f32(x[i], slope);
}
TG_VECTORIZE
void tg_leaky_relu_backward_f32(int64_t n, const float *x, const float *dy, float slope,
                                float *dx) {
    for (int64_t i = 0; i < n; i++) dx[i] = leaky_relu_backward_f32(x[i], dy[i], slope);
}
TG_VECTORIZE
void tg_leaky_relu_f64(int64_t n, const double *x, double slope, double *y) {
    for (int64_t i = 0; i < n; i++) y[i] = leaky_relu_f64(x[i], slope);
}
TG_VECTORIZE
void tg_leaky_relu_backward_f64(int64_t n, const double *x, const double *dy, double slope,
                                double *dx) {
    for (int64_t i = 0; i < n; i++) dx[i] = leaky_relu_backward_f64(x[i], dy[i], slope);
}
