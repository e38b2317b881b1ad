/* One-time initialisation and shared settings, without <threads.h> (macOS and MSVC lack it):
 * tg_call_once from POSIX threads, or from the Win32 API on Windows. Private (isa.c, gemm.c). */
#ifndef TINYGRAD_MNIST_CALL_ONCE_H
#define TINYGRAD_MNIST_CALL_ONCE_H

#if defined(_WIN32)
#include <windows.h>
typedef INIT_ONCE tg_once_t;
#define TG_ONCE_INIT INIT_ONCE_STATIC_INIT
static BOOL CALLBACK tg_once_trampoline(PINIT_ONCE once, PVOID fn, PVOID *ctx) {
    (void)once, (void)ctx;
    ((void (*)(void))fn)();
    return TRUE;
}
static inline void tg_call_once(tg_once_t *once, void (*fn)(void)) {
    InitOnceExecuteOnce(once, tg_once_trampoline, (PVOID)fn, NULL);
}
#else
#include <pthread.h>
typedef pthread_once_t tg_once_t;
#define TG_ONCE_INIT PTHREAD_ONCE_INIT
static inline void tg_call_once(tg_once_t *once, void (*fn)(void)) { pthread_once(once, fn); }
#endif

/* Settings written by tg_set_* and read by every call: atomics where the compiler has C11
 * atomics, plain ints (word-sized, so never torn) else. */
#if defined(__STDC_NO_ATOMICS__)
#define TG_ATOMIC volatile
#else
#define TG_ATOMIC _Atomic
#endif

#endif
