/* The GEMM driver, written once for both precisions: gemm.c includes this file twice, with
 * T = float, SUF = f32 and with T = double, SUF = f64 (FN(x) names x_f32 / x_f64).
 *
 * C (M,N) = op(A) (M,K) @ op(B) (K,N), everything row-major. Two strategies:
 *
 * packed (BLIS):  for jc in N step NC            columns of C
 *                   for pc in K step KC          one K block: pack B[pc.., jc..] -> bp
 *                     for ic in M step MC        pack A[ic.., pc..] -> ap (fits in L2)
 *                       for jr in nc step NR     one NR-wide panel of bp (fits in L1)
 *                         for ir in mc step MR   microkernel: C tile (MR,NR) += ap_ir @ bp_jr
 *   The transpose flags only change how the packing routines read A and B.
 *
 * direct (small and thin shapes): no A packing at all; the microkernel reads A through its
 *   strides and B in place (only a transposed B is repacked, once, with the ISA's SIMD
 *   transpose, to get unit stride along j):
 *                 for pc in K step DIRECT_KC    (from L2; 1024 on a 512 KB L2)
 *                   for jr in N step NR, for ir in M step ~MR: microkernel on A, B in place
 *   When operands fit in L2/L3 or one of M, N, K is tiny, packing costs more than it saves.
 *
 * dot (x @ w^T with N <= 16, e.g. the 10 logits; on AVX2 also M <= 32 on one thread): the
 *   ISA's dot-product kernel, if any, reading both operands in place.
 *
 * MC, KC, NC and DIRECT_KC come from the cache sizes (blocking_for in gemm.c).
 * tg_gemm picks one (use_direct in gemm.c); each was the fastest on some MLP shape. The
 * epilogue, if any, runs on each tile of C after its last K block. */

#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SUF)

/* ap gets the mc x kc block of op(A) at (i0, p0) as panels of mr rows, each stored p-major:
 *   ap[ir*kc + p*mr + i] = opA[i0+ir+i][p0+p]          (ir a multiple of mr, i < mr) */
static void FN(pack_a)(const T *A, int transA, int64_t M, int64_t K, int64_t i0, int64_t mc,
                       int64_t p0, int64_t kc, int mr, const FN(tg_kernel) * kern, T *ap) {
    for (int64_t ir = 0; ir < mc; ir += mr) {
        const int m = (int)(mc - ir < mr ? mc - ir : mr);
        T *dst = ap + ir * kc;
        if (!transA) { /* A is (M,K): row i is contiguous in p */
            for (int i = 0; i < m; i++) {
                const T *src = A + (i0 + ir + i) * K + p0;
                for (int64_t p = 0; p < kc; p++) dst[p * mr + i] = src[p];
            }
        } else if (kern->copy_rows) { /* A is (K,M): row copies, SIMD version */
            kern->copy_rows(A + p0 * M + i0 + ir, M, m, kc, mr, dst);
        } else { /* A is (K,M): for one p the m values are contiguous */
            for (int64_t p = 0; p < kc; p++) {
                const T *src = A + (p0 + p) * M + i0 + ir;
                for (int i = 0; i < m; i++) dst[p * mr + i] = src[i];
            }
        }
    }
}

/* bp gets the kc x nc block of op(B) at (p0, j0) as panels of nr columns, zero padded:
 *   bp[jr*kc + p*nr + j] = opB[p0+p][j0+jr+j]          (jr a multiple of nr, j < nr) */
static void FN(pack_b)(const T *B, int transB, int64_t N, int64_t K, int64_t p0, int64_t kc,
                       int64_t j0, int64_t nc, int nr, const FN(tg_kernel) * kern, T *bp) {
    for (int64_t jr = 0; jr < nc; jr += nr) {
        const int n = (int)(nc - jr < nr ? nc - jr : nr);
        T *dst = bp + jr * kc;
        if (!transB && kern->copy_rows) { /* B is (K,N): row copies, SIMD version */
            kern->copy_rows(B + p0 * N + j0 + jr, N, n, kc, nr, dst);
        } else if (!transB) { /* B is (K,N): for one p the n values are contiguous */
            for (int64_t p = 0; p < kc; p++) {
                const T *src = B + (p0 + p) * N + j0 + jr;
                for (int j = 0; j < n; j++) dst[p * nr + j] = src[j];
                for (int j = n; j < nr; j++) dst[p * nr + j] = 0;
            }
        } else if (kern->pack_bt) { /* B is (N,K): a transpose, SIMD version */
            kern->pack_bt(B + (j0 + jr) * K + p0, K, n, kc, nr, dst);
        } else { /* B is (N,K): row j of B is column j of op(B), contiguous in p */
            for (int j = 0; j < n; j++) {
                const T *src = B + (j0 + jr + j) * K + p0;
                for (int64_t p = 0; p < kc; p++) dst[p * nr + j] = src[p];
            }
            for (int j = n; j < nr; j++)
                for (int64_t p = 0; p < kc; p++) dst[p * nr + j] = 0;
        }
    }
}

/* The same panels as pack_b for a B that is not transposed, B (K,N), but written row by row
 * of B: rows p0 .. p0+np-1 of the block (pc, jc) go to every panel at once,
 *   bp[jr*kc + (p-pc)*nr + j] = B[p][jc+jr+j]      (zero for j >= nc - jr).
 * Reading B along its rows touches one page at a time; pack_b's panel-by-panel order reads
 * kc rows N elements apart for every panel (kc = 256 rows of 784 floats: 200 pages, three
 * times the L1 TLB): measurably faster on the first layer's dW at batch 512
 * (docs/performance.md). */
static void FN(pack_b_by_rows)(const T *B, int64_t N, int64_t p0, int64_t np, int64_t pc,
                               int64_t kc, int64_t jc, int64_t nc, int nr,
                               const FN(tg_kernel) * kern, T *bp) {
    for (int64_t p = p0; p < p0 + np; p++) {
        const T *src = B + p * N + jc;
        for (int64_t jr = 0; jr < nc; jr += nr) {
            const int n = (int)(nc - jr < nr ? nc - jr : nr);
            T *dst = bp + jr * kc + (p - pc) * nr;
            if (kern->copy_rows) {
                kern->copy_rows(src + jr, N, n, 1, nr, dst);
            } else {
                for (int j = 0; j < n; j++) dst[j] = src[jr + j];
                for (int j = n; j < nr; j++) dst[j] = 0;
            }
        }
    }
}

/* Split `total` into equal blocks of at most `max` (rounded up to `align`): 784 with max 384
 * gives 3 blocks of 264 instead of 384 + 384 + 16. */
static int64_t FN(block_size)(int64_t total, int64_t max, int64_t align) {
    int64_t nblocks = (total + max - 1) / max;
    int64_t b = (total + nblocks - 1) / nblocks;
    return (b + align - 1) / align * align;
}

/* Both drivers return 0, or -1 when there was no memory for the packing buffers (then C is
 * untouched and tg_gemm falls back to the plain loops, which need none).
 *
 * Threads (OpenMP, nthreads > 1): one parallel region per call, in which every thread runs
 * the block loops; each `SHARED_FOR` loop (packing B panel by panel, packing A panel by
 * panel, the tiles of C) is split into equal contiguous parts, and ends with a barrier, so
 * no thread reads a panel before it is packed nor overwrites one still in use. The packing
 * buffers are the calling thread's, shared by the team. */
static int FN(gemm_packed)(const FN(tg_kernel) * kern, int64_t M, int64_t N, int64_t K,
                           const T *A, int transA, const T *B, int transB, T *C,
                           FN(tg_epilogue) epi, const void *ctx, int nthreads) {
    (void)nthreads; /* unused without OpenMP */
    const int mr = kern->mr, nr = kern->nr;
    const blocking_t blk = blocking_for(mr, nr, sizeof(T)); /* from the cache sizes */
    const int64_t KC = FN(block_size)(K, blk.kc, 1);
    const int64_t MC = FN(block_size)(M, blk.mc, mr);
    const int64_t NC = FN(block_size)(N, blk.nc, nr);
    T *bp = tg_scratch(0, (size_t)(KC * NC * sizeof(T)));
    T *ap = tg_scratch(1, (size_t)(MC * KC * sizeof(T)));
    if (!bp || !ap) return -1;
    PARALLEL_REGION
    for (int64_t jc = 0; jc < N; jc += NC) {
        const int64_t nc = N - jc < NC ? N - jc : NC, ntj = (nc + nr - 1) / nr;
        for (int64_t pc = 0; pc < K; pc += KC) {
            const int64_t kc = K - pc < KC ? K - pc : KC;
            const int beta = pc > 0, last = pc + kc == K;
            if (transB) {
                SHARED_FOR
                for (int64_t tj = 0; tj < ntj; tj++) { /* B panel tj: columns jc + tj*nr .. */
                    const int64_t jr = tj * nr, n = nc - jr < nr ? nc - jr : nr;
                    FN(pack_b)(B, transB, N, K, pc, kc, jc + jr, n, nr, kern, bp + jr * kc);
                }
            } else {
                SHARED_FOR
                for (int64_t p0 = pc; p0 < pc + kc; p0 += 8) { /* rows p0 .. p0+7 of B */
                    const int64_t np = pc + kc - p0 < 8 ? pc + kc - p0 : 8;
                    FN(pack_b_by_rows)(B, N, p0, np, pc, kc, jc, nc, nr, kern, bp);
                }
            }
            for (int64_t ic = 0; ic < M; ic += MC) {
                const int64_t mc = M - ic < MC ? M - ic : MC, nti = (mc + mr - 1) / mr;
                SHARED_FOR
                for (int64_t ti = 0; ti < nti; ti++) { /* A panel ti: rows ic + ti*mr .. */
                    const int64_t ir = ti * mr, m = mc - ir < mr ? mc - ir : mr;
                    FN(pack_a)(A, transA, M, K, ic + ir, m, pc, kc, mr, kern, ap + ir * kc);
                }
                SHARED_FOR
                for (int64_t t = 0; t < ntj * nti; t++) {
                    const int64_t jr = t / nti * nr, ir = t % nti * mr; /* ir runs fastest */
                    const int m = (int)(mc - ir < mr ? mc - ir : mr);
                    const int n = (int)(nc - jr < nr ? nc - jr : nr);
                    T *c = C + (ic + ir) * N + jc + jr;
                    kern->ukr(kc, ap + ir * kc, 1, mr, bp + jr * kc, nr, c, N, m, n, beta);
                    if (last && epi) epi(c, N, m, n, jc + jr, ctx);
                }
            }
        }
    }
    return 0;
}

static int FN(gemm_direct)(const FN(tg_kernel) * kern, int64_t M, int64_t N, int64_t K,
                           const T *A, int transA, const T *B, int transB, T *C,
                           FN(tg_epilogue) epi, const void *ctx, int nthreads) {
    (void)nthreads; /* unused without OpenMP */
    const int mr = kern->mr, nr = kern->nr;
    /* opA[i][p] = A[i*rsa + p*csa] */
    const int64_t rsa = transA ? 1 : K, csa = transA ? M : 1;
    const int64_t ntj = (N + nr - 1) / nr;
    /* Only a transposed B is packed (it must be). Packing a plain B too (by rows, to avoid a
     * TLB miss per row of each panel) was tried: faster on the wide model's first dx at
     * batch 512, slower at batch 32 and 128 (docs/performance.md): not done. */
    T *bp = NULL;
    if (transB) {
        bp = tg_scratch(0, (size_t)(K * ntj * nr * sizeof(T)));
        if (!bp) return -1;
    }
    /* opB[p][j0 + j] = bsrc[j0*panel + p*ldb + j] */
    const T *bsrc = transB ? bp : B;
    const int64_t ldb = transB ? nr : N, panel = transB ? K : 1;
    /* Row tiles of equal height (M = 10 -> 5 + 5, not 8 + 2): a short tile has too few
     * accumulators to hide the FMA latency. A is unpacked, so any height <= mr works. */
    const int64_t nti = (M + mr - 1) / mr;
    const int mh = (int)((M + nti - 1) / nti);
    /* K blocks keep the B panel (kc x nr) in L2 while the row tiles sweep over it */
    const int64_t KC = FN(block_size)(K, blocking_for(mr, nr, sizeof(T)).direct_kc, 1);
    PARALLEL_REGION
    {
        if (transB) { /* a transposed B is packed once, in panels of nr columns */
            SHARED_FOR
            for (int64_t tj = 0; tj < ntj; tj++) {
                const int64_t jr = tj * nr, n = N - jr < nr ? N - jr : nr;
                FN(pack_b)(B, transB, N, K, 0, K, jr, n, nr, kern, bp + jr * K);
            }
        }
        for (int64_t pc = 0; pc < K; pc += KC) {
            const int64_t kc = K - pc < KC ? K - pc : KC;
            const int beta = pc > 0, last = pc + kc == K;
            SHARED_FOR
            for (int64_t t = 0; t < ntj * nti; t++) {
                const int64_t jr = t / nti * nr, ir = t % nti * mh;
                const int m = (int)(M - ir < mh ? M - ir : mh);
                const int n = (int)(N - jr < nr ? N - jr : nr);
                T *c = C + ir * N + jr;
                const T *a = A + ir * rsa + pc * csa, *b = bsrc + jr * panel + pc * ldb;
                kern->ukr(kc, a, rsa, csa, b, ldb, c, N, m, n, beta);
                if (last && epi) epi(c, N, m, n, jr, ctx);
            }
        }
    }
    return 0;
}

void FN(tg_gemm)(int64_t M, int64_t N, int64_t K, const T *A, int transA, const T *B,
                 int transB, T *C, FN(tg_epilogue) epi, const void *ctx) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { /* empty sum: C = 0, then the epilogue (bias, activation) */
        for (int64_t i = 0; i < M * N; i++) C[i] = 0;
        if (epi) epi(C, N, M, N, 0, ctx);
        return;
    }
    const FN(tg_kernel) *kern = FN(kernel_for_isa)(tg_get_isa());
    const int nthreads = threads_for(M, N, K);
    /* x @ w^T as dot products of rows, no packing: for the output layer (tiny N), and, where
     * the ISA has a kernel for it, for a small batch on one thread (packing w^T would cost
     * about half as much as the arithmetic) */
    if (kern->dot_nt && !transA && transB && K >= DOT_NT_MIN_K && g_path < 0 &&
        (N <= DOT_NT_MAX_N || (kern->dot_nt_small_m && M <= DOT_NT_MAX_M && nthreads == 1))) {
        kern->dot_nt(M, N, K, A, B, C);
        if (epi) epi(C, N, M, N, 0, ctx);
        return;
    }
    const int failed =
        use_direct(M, N, K, transA, transB, sizeof(T))
            ? FN(gemm_direct)(kern, M, N, K, A, transA, B, transB, C, epi, ctx, nthreads)
            : FN(gemm_packed)(kern, M, N, K, A, transA, B, transB, C, epi, ctx, nthreads);
    if (failed) { /* out of memory for packing: slow but correct, never a wrong C */
        FN(tg_matmul_ref)(M, N, K, A, transA, B, transB, C);
        if (epi) epi(C, N, M, N, 0, ctx);
    }
}

#undef FN
#undef CAT
#undef CAT_
