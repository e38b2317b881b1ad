#!/usr/bin/env bash
# Build csrc/tests/test_kernels.c with the C kernels and run it: every kernel against naive
# reference loops (see the comment at the top of test_kernels.c).
#
#   csrc/tests/run_c_tests.sh [CC] [RUNNER]
#
#   CC      the compiler (default: $CC, else cc), e.g. gcc, clang, aarch64-linux-gnu-gcc
#   RUNNER  a prefix for running the binary, e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu"
#           for a cross-compiled build (CC=aarch64-linux-gnu-gcc). The binary is linked
#           dynamically, as the real library is; -L tells qemu-user where the target's loader,
#           libc and libgomp are (Debian's cross packages put them in /usr/aarch64-linux-gnu)
#   env EXTRA_CFLAGS  more compiler flags (e.g. -fsanitize=address,undefined)
#   env GEMM_PATHS    which runs to do, of "auto direct packed" (the default: all three);
#                     under an emulator CI runs "auto packed" (auto already takes the direct
#                     driver on the small and thin shapes)
#
# The GEMM reads TINYGRAD_GEMM_PATH (auto|packed|direct) once, at its first call, so the
# program runs three times: with the automatic choice, then forcing each driver. Each run tests
# every kernel on every ISA path the CPU has (generic, avx2, avx512 / generic, neon). Exit status: 0 if all
# three runs pass. Each run ends with the line "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/../.."

CC=${1:-${CC:-cc}}
RUNNER=${2:-}
read -r -a RUN <<< "$RUNNER"
read -r -a EXTRA <<< "${EXTRA_CFLAGS:-}"

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

CFLAGS=(-O2 -std=c11 -Wall -Wextra -Werror -fno-math-errno -fno-trapping-math -ffp-contract=off -Icsrc)
# (the floating-point flags of build_kernels.py, so that the same code is tested)
LDFLAGS=(-lm)
# OpenMP is optional (Apple Clang has no -fopenmp): use it only if a test program links with it.
printf '#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n' \
    > "$OUT/omp_probe.c"
if "$CC" -fopenmp "$OUT/omp_probe.c" -o "$OUT/omp_probe" > /dev/null 2>&1; then
    CFLAGS+=(-fopenmp)
    OPENMP=yes
else
    OPENMP=no
fi

echo "== build: $CC (OpenMP: $OPENMP)${RUNNER:+, run with: $RUNNER}"
start=$(date +%s)
"$CC" "${CFLAGS[@]}" ${EXTRA[@]+"${EXTRA[@]}"} csrc/*.c csrc/gemm/*.c csrc/tests/test_kernels.c \
    -o "$OUT/test_kernels" "${LDFLAGS[@]}"
echo "build took $(( $(date +%s) - start )) s"

status=0
for path in ${GEMM_PATHS:-auto direct packed}; do
    [ "$path" = auto ] && path=""
    echo "== run: TINYGRAD_GEMM_PATH=${path:-(unset, automatic)}"
    start=$(date +%s)
    if [ -n "$path" ]; then
        TINYGRAD_GEMM_PATH=$path ${RUN[@]+"${RUN[@]}"} "$OUT/test_kernels" || status=1
    else
        (unset TINYGRAD_GEMM_PATH; ${RUN[@]+"${RUN[@]}"} "$OUT/test_kernels") || status=1
    fi
    echo "run took $(( $(date +%s) - start )) s"
done
[ "$status" = 0 ] && echo "== C kernel tests: all runs passed" || echo "== C kernel tests: FAILED"
exit "$status"
