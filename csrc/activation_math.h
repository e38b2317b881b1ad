/* The activation functions and their derivatives, one number at a time.
 *
 * This is the single C definition of each activation and of its derivative. Both the
 * standalone kernels (activations.c: tg_sigmoid_f32, tg_sigmoid_backward_f32, ...) and the
 * fused Linear epilogue (linear.c) call these functions; the compiler inlines them into the
 * loops, so the fused path costs nothing extra for sharing them.
 *
 *   activation   forward y = f(x)            backward dx = f'(x) dy, from what is saved
 *   sigmoid      y = 1 / (1 + e^-x)          dx = dy y (1 - y)            from the output y
 *   tanh         y = tanh x                  dx = dy (1 - y^2)            from the output y
 *   relu         y = max(x, 0)               dx = dy [x > 0]              from x or y
 *   leaky_relu   y = x if x > 0 else s x     dx = dy if x > 0 else s dy   from x or y (s > 0)
 *
 * sigmoid and tanh have derivatives in terms of their output, so backward needs only y. For
 * relu and leaky_relu (with s > 0) the output is > 0 exactly where the input is, so the same
 * backward works from either; the fused Linear passes y, the standalone kernels pass x.
 *
 * Private to the kernels (static inline, not read by cffi). */
#ifndef TINYGRAD_MNIST_ACTIVATION_MATH_H
#define TINYGRAD_MNIST_ACTIVATION_MATH_H
#include <math.h>

/* sigmoid: e = e^-|x| <= 1 cannot overflow, and (x >= 0 ? 1 : e) / (1 + e) equals
 * 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) for x < 0. The second form keeps y's relative
 * precision for very negative x instead of rounding 1 + e^-x to a huge number. The ?: is a
 * select, not an unpredictable branch, so the loop still vectorises. */
static inline float sigmoid_f32(float x) {
    const float e = expf(-fabsf(x));
    return (x >= 0 ? 1 : e) / (1 + e);
}
static inline double sigmoid_f64(double x) {
    const double e = exp(-fabs(x));
    return (x >= 0 ? 1 : e) / (1 + e);
}
/* d sigmoid / dx = y (1 - y) */
static inline float sigmoid_backward_f32(float y, float dy) { return dy * y * (1 - y); }
static inline double sigmoid_backward_f64(double y, double dy) { return dy * y * (1 - y); }

static inline float tanh_f32(float x) { return tanhf(x); }
static inline double tanh_f64(double x) { return tanh(x); }
/* d tanh / dx = 1 - y^2 */
static inline float tanh_backward_f32(float y, float dy) { return dy * (1 - y * y); }
static inline double tanh_backward_f64(double y, double dy) { return dy * (1 - y * y); }

/* `x < 0 ? 0 : x` rather than `x > 0 ? x : 0` so that NaN passes through, as NumPy's
 * maximum(x, 0) does: a NaN must not be silently turned into a clean 0. */
static inline float relu_f32(float x) { return x < 0 ? 0 : x; }
static inline double relu_f64(double x) { return x < 0 ? 0 : x; }
/* d relu / dx = [x > 0] (0 at x = 0, as PyTorch) */
static inline float relu_backward_f32(float x, float dy) { return x > 0 ? dy : 0; }
static inline double relu_backward_f64(double x, double dy) { return x > 0 ? dy : 0; }

/* leaky_relu = max(s x, x) for 0 < s < 1; the course uses s = 0.1 */
static inline float leaky_relu_f32(float x, float s) { return x > 0 ? x : x * s; }
static inline double leaky_relu_f64(double x, double s) { return x > 0 ? x : x * s; }
/* d leaky_relu / dx = 1 for x > 0, s otherwise */
static inline float leaky_relu_backward_f32(float x, float dy, float s) {
    return x > 0 ? dy : dy * s;
}
static inline double leaky_relu_backward_f64(double x, double dy, double s) {
    return x > 0 ? dy : dy * s;
}

#endif
