/* Replaying a captured training step (see kernels.h, "plan.c").
 *
 * Eagerly, a training step is Python calling nine or so kernels, with a few hundred
 * microseconds of Python between them: building the graph, checking arguments, allocating
 * outputs, walking the graph backward. None of that changes from one batch to the next, so
 * tinygrad_mnist/capture.py records the kernel calls once, with their buffers, and from then
 * on a step is this loop: the same kernels on the same buffers, one call from Python.
 *
 * Each case below is one kernel with its arguments taken back out of the call's i[], p[] and
 * r[] arrays, in the kernel's own order (the same order capture.py filled them in). Nothing
 * is computed here: every number comes from the kernels themselves, so a replayed step gives
 * the same bits as the eager step it was recorded from. */
#if defined(__linux__) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 199309L /* glibc's clock_gettime under -std=c11 (macOS needs none) */
#endif
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "kernels.h"

/* The pointer arguments, typed: F(k) is p[k] as a float array, and so on. */
#define F(k) ((float *)c->p[k])
#define FS(k) ((float *const *)c->p[k])
#define CFS(k) ((const float *const *)c->p[k])
#define I64(k) ((int64_t *)c->p[k])

/* One kernel call. Returns -1, or what a checking kernel returned when it refused its
 * arguments (cross-entropy: the first row with a bad label; the many-tensor optimizer
 * steps: the first tensor whose arrays overlap). */
static int64_t run_call(const struct tg_plan_call *c) {
    const int64_t *i = c->i;
    const double *r = c->r;
    switch (c->kernel) {
        case TG_PLAN_MATMUL_F32:
            tg_matmul_f32(i[0], i[1], i[2], F(0), (int)i[3], F(1), (int)i[4], F(2));
            return -1;
        case TG_PLAN_LINEAR_FORWARD_F32:
            tg_linear_forward_f32(i[0], i[1], i[2], F(0), F(1), F(2), F(3), (int)i[3],
                                  (float)r[0]);
            return -1;
        case TG_PLAN_LINEAR_BACKWARD_F32:
            tg_linear_backward_f32(i[0], i[1], i[2], F(0), F(1), F(2), F(3), F(4), F(5), F(6),
                                   F(7), (int)i[3], (float)r[0]);
            return -1;
        case TG_PLAN_BINARY_F32: tg_binary_f32((int)i[0], i[1], F(0), F(1), F(2)); return -1;
        case TG_PLAN_BINARY_ROW_F32:
            tg_binary_row_f32((int)i[0], i[1], i[2], F(0), F(1), F(2));
            return -1;
        case TG_PLAN_BINARY_COL_F32:
            tg_binary_col_f32((int)i[0], i[1], i[2], F(0), F(1), F(2));
            return -1;
        case TG_PLAN_BINARY_SCALAR_F32:
            tg_binary_scalar_f32((int)i[0], i[1], F(0), (float)r[0], F(1));
            return -1;
        case TG_PLAN_NEG_F32: tg_neg_f32(i[0], F(0), F(1)); return -1;
        case TG_PLAN_POW_F32: tg_pow_f32(i[0], F(0), (float)r[0], F(1)); return -1;
        case TG_PLAN_EXP_F32: tg_exp_f32(i[0], F(0), F(1)); return -1;
        case TG_PLAN_LOG_F32: tg_log_f32(i[0], F(0), F(1)); return -1;
        case TG_PLAN_SIGMOID_F32: tg_sigmoid_f32(i[0], F(0), F(1)); return -1;
        case TG_PLAN_SIGMOID_BACKWARD_F32:
            tg_sigmoid_backward_f32(i[0], F(0), F(1), F(2));
            return -1;
        case TG_PLAN_TANH_F32: tg_tanh_f32(i[0], F(0), F(1)); return -1;
        case TG_PLAN_TANH_BACKWARD_F32: tg_tanh_backward_f32(i[0], F(0), F(1), F(2)); return -1;
        case TG_PLAN_RELU_F32: tg_relu_f32(i[0], F(0), F(1)); return -1;
        case TG_PLAN_RELU_BACKWARD_F32: tg_relu_backward_f32(i[0], F(0), F(1), F(2)); return -1;
        case TG_PLAN_LEAKY_RELU_F32: tg_leaky_relu_f32(i[0], F(0), (float)r[0], F(1)); return -1;
        case TG_PLAN_LEAKY_RELU_BACKWARD_F32:
            tg_leaky_relu_backward_f32(i[0], F(0), F(1), (float)r[0], F(2));
            return -1;
        case TG_PLAN_SUM_AXIS_F32: tg_sum_axis_f32(i[0], i[1], i[2], F(0), F(1)); return -1;
        case TG_PLAN_SUM_ALL_F32: tg_sum_all_f32(i[0], F(0), F(1)); return -1;
        case TG_PLAN_SOFTMAX_F32: tg_softmax_f32(i[0], i[1], F(0), F(1)); return -1;
        case TG_PLAN_SOFTMAX_BACKWARD_F32:
            tg_softmax_backward_f32(i[0], i[1], F(0), F(1), F(2));
            return -1;
        case TG_PLAN_LOG_SOFTMAX_F32: tg_log_softmax_f32(i[0], i[1], F(0), F(1)); return -1;
        case TG_PLAN_LOG_SOFTMAX_BACKWARD_F32:
            tg_log_softmax_backward_f32(i[0], i[1], F(0), F(1), F(2));
            return -1;
        case TG_PLAN_CROSS_ENTROPY_F32:
            return tg_cross_entropy_f32(i[0], i[1], F(0), I64(1), F(2), F(3));
        case TG_PLAN_SGD_STEP_F32:
            tg_sgd_step_f32(i[0], F(0), F(1), F(2), r[0], r[1], r[2], (int)i[1]);
            return -1;
        case TG_PLAN_ADAM_STEP_F32:
            tg_adam_step_f32(i[0], F(0), F(1), F(2), F(3), r[0], r[1], r[2], r[3], r[4], i[1]);
            return -1;
        case TG_PLAN_SGD_STEP_MANY_F32:
            return tg_sgd_step_many_f32(i[0], I64(0), FS(1), CFS(2), FS(3), r[0], r[1], r[2],
                                        (int)i[1]);
        case TG_PLAN_ADAM_STEP_MANY_F32:
            return tg_adam_step_many_f32(i[0], I64(0), FS(1), CFS(2), FS(3), FS(4), r[0], r[1],
                                         r[2], r[3], r[4], i[1]);
        default: return -2; /* not a kernel code: capture.py never writes one */
    }
}

#undef F
#undef FS
#undef CFS
#undef I64

/* A monotonic clock on Linux and macOS (the wall clock can jump); elsewhere C11's. */
static double now_seconds(void) {
    struct timespec t;
#if defined(__linux__) || defined(__APPLE__)
    clock_gettime(CLOCK_MONOTONIC, &t);
#else
    timespec_get(&t, TIME_UTC);
#endif
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int64_t tg_plan_run(int64_t n, const struct tg_plan_call *calls, int64_t *status,
                    double *seconds) {
    for (int64_t j = 0; j < n; j++) {
        const double t0 = seconds ? now_seconds() : 0.0;
        const int64_t result = run_call(&calls[j]);
        if (seconds) seconds[j] = now_seconds() - t0;
        if (result != -1) {
            *status = result;
            return j;
        }
    }
    *status = -1;
    return -1;
}
