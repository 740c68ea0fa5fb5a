// Per-row ridge least squares of one AltMin half-step, one thread block per row (grid-stride
// over rows). Mirrors optsolve/completion/_kernels.py (_sketched_rows / _exact_rows):
//   min_x sum_{p in row i} (data[p] - shift - col_offset[indices[p]] - F[indices[p]] . x)^2
//         + alpha ||x||^2
// Rows with d <= min_rows observations: k x k normal equations + Cholesky, in shared memory.
// Longer rows: sparse sign sketch (the same hash as the CPU kernel, so the same sketch),
// Cholesky factor of the sketched Gram as preconditioner, PCG warm-started at X[i] with the
// CPU kernel's per-row stopping rule (no host involvement: each block loops on its own row).
// Index types: _i32 (cupyx default) and _i64 instantiations. float64 only (the CPU path is
// float64 throughout). k <= COMPLETION_KMAX (shared-memory budget, checked by the caller).
//
// Dynamic shared memory (doubles): G[k*k] | tileA[tile*k] | tiley[tile] | b,x,r,z,p,q [6k]
//                                  | wq[n_warps*k] | scal[8]

#define COMPLETION_KMAX 72
#define LANE_VALS 3  // ceil(KMAX / 32)
#define GRAM_JITTER 1e-12

__device__ __forceinline__ unsigned int completion_hash32(long long key, long long seed) {
    // murmur3 finalizer of _kernels._hash32: all arithmetic mod 2^32 after the first mix
    unsigned long long x0 = (unsigned long long)(key & 0x7FFFFFFFLL) * 0x9E3779B1ULL
                            + (unsigned long long)seed;
    unsigned int x = (unsigned int)(x0 & 0xFFFFFFFFULL);
    x = x ^ (x >> 16);
    x = x * 0x45D9F3BU;
    x = x ^ (x >> 16);
    x = x * 0x45D9F3BU;
    x = x ^ (x >> 16);
    return x;
}

// Lower Cholesky of G (+ alpha + relative jitter on the diagonal), left-looking, the CPU order.
__device__ void block_regularize_factor(double* G, const int k, const double alpha) {
    __syncthreads();
    if (threadIdx.x == 0) {
        double trace = 0.0;
        for (int a = 0; a < k; ++a) trace += G[a * k + a];
        double jitter = GRAM_JITTER * fmax(trace / k, 1e-300);
        for (int a = 0; a < k; ++a) G[a * k + a] += alpha + jitter;
    }
    __syncthreads();
    for (int j = 0; j < k; ++j) {
        if (threadIdx.x == 0) {
            double s = G[j * k + j];
            for (int t = 0; t < j; ++t) s -= G[j * k + t] * G[j * k + t];
            if (s <= 0.0) s = 1e-300;
            G[j * k + j] = sqrt(s);
        }
        __syncthreads();
        const double d = G[j * k + j];
        for (int i = j + 1 + threadIdx.x; i < k; i += blockDim.x) {
            double s = G[i * k + j];
            for (int t = 0; t < j; ++t) s -= G[i * k + t] * G[j * k + t];
            G[i * k + j] = s / d;
        }
        __syncthreads();
    }
}

// v <- (L L^T)^{-1} v in place (column-oriented substitutions, block-wide).
__device__ void block_cholesky_solve(const double* L, const int k, double* v) {
    __syncthreads();
    for (int i = 0; i < k; ++i) {
        if (threadIdx.x == 0) v[i] /= L[i * k + i];
        __syncthreads();
        for (int t = i + 1 + threadIdx.x; t < k; t += blockDim.x) v[t] -= L[t * k + i] * v[i];
        __syncthreads();
    }
    for (int i = k - 1; i >= 0; --i) {
        if (threadIdx.x == 0) v[i] /= L[i * k + i];
        __syncthreads();
        for (int t = threadIdx.x; t < i; t += blockDim.x) v[t] -= L[i * k + t] * v[i];
        __syncthreads();
    }
}

// Dot product of two k-vectors in shared memory, computed by thread 0 in index order and
// broadcast through scal[slot] (all threads return the same value).
__device__ double block_dot(const double* u, const double* v, const int k, double* scal,
                            const int slot) {
    __syncthreads();
    if (threadIdx.x == 0) {
        double s = 0.0;
        for (int a = 0; a < k; ++a) s += u[a] * v[a];
        scal[slot] = s;
    }
    __syncthreads();
    return scal[slot];
}

// out = A^T w over the row's design A = F[indices[start:start+d]], where
//   mode 0: w_t = y_t = data - shift - col_offset[j]   (right-hand side A^T y)
//   mode 1: w_t = A_t . p                              (normal matvec A^T A p)
// One warp per observation (lanes over the k columns), per-warp partials reduced in warp order.
template <typename I>
__device__ void block_design_matvec(const I* __restrict__ indices, const double* __restrict__ data,
                                    const double* __restrict__ F, const double* __restrict__ col_offset,
                                    const double shift, const long long start, const long long d,
                                    const int k, const int mode, const double* p, double* wq,
                                    double* out) {
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int n_warps = blockDim.x >> 5;
    double acc[LANE_VALS];
#pragma unroll
    for (int v = 0; v < LANE_VALS; ++v) acc[v] = 0.0;
    __syncthreads();  // p is ready
    for (long long t = warp; t < d; t += n_warps) {
        const long long j = (long long)indices[start + t];
        double av[LANE_VALS];
        double part = 0.0;
#pragma unroll
        for (int v = 0; v < LANE_VALS; ++v) {
            const int a = lane + 32 * v;
            av[v] = (a < k) ? F[j * k + a] : 0.0;
            if (mode == 1 && a < k) part += av[v] * p[a];
        }
        double w;
        if (mode == 1) {
            for (int off = 16; off > 0; off >>= 1) part += __shfl_xor_sync(0xffffffffu, part, off);
            w = part;
        } else {
            w = data[start + t] - shift - col_offset[j];
        }
#pragma unroll
        for (int v = 0; v < LANE_VALS; ++v) acc[v] += w * av[v];
    }
#pragma unroll
    for (int v = 0; v < LANE_VALS; ++v) {
        const int a = lane + 32 * v;
        if (a < k) wq[warp * k + a] = acc[v];
    }
    __syncthreads();
    for (int a = threadIdx.x; a < k; a += blockDim.x) {
        double s = 0.0;
        for (int w = 0; w < n_warps; ++w) s += wq[w * k + a];
        out[a] = s;
    }
    __syncthreads();
}

template <typename I>
__device__ void completion_rows_impl(
    const I* __restrict__ indptr, const I* __restrict__ indices, const double* __restrict__ data,
    const double* __restrict__ F, const int k, const double* __restrict__ col_offset,
    const double* __restrict__ shift_ptr, const double alpha, const int keep_empty,
    const long long n_rows, const long long sketch_size, const long long n_nonzeros,
    const long long min_rows, const double reduction, const double abs_tol,
    const long long max_cg, const long long seed, double* __restrict__ X,
    long long* __restrict__ cg_iters, double* __restrict__ scratch, const int tile) {
    extern __shared__ double smem[];
    double* G = smem;
    double* tileA = G + k * k;
    double* tiley = tileA + tile * k;
    double* b = tiley + tile;
    double* x = b + k;
    double* r = x + k;
    double* z = r + k;
    double* p = z + k;
    double* q = p + k;
    double* wq = q + k;
    double* scal = wq + (blockDim.x >> 5) * k;
    const double shift = shift_ptr[0];
    const int tid = threadIdx.x;

    for (long long i = blockIdx.x; i < n_rows; i += gridDim.x) {
        const long long start = (long long)indptr[i];
        const long long d = (long long)indptr[i + 1] - start;
        __syncthreads();  // shared buffers are free (previous row done)
        if (tid == 0) cg_iters[i] = 0;
        if (d == 0) {
            if (!keep_empty)
                for (int a = tid; a < k; a += blockDim.x) X[i * k + a] = 0.0;
            continue;
        }
        const bool exact = d <= min_rows;
        double* SA = scratch + (long long)blockIdx.x * sketch_size * k;
        if (!exact) {
            // sketch SA = S A: column a owned by one thread, observations in CPU order
            for (long long e = tid; e < sketch_size * k; e += blockDim.x) SA[e] = 0.0;
            __syncthreads();
            const long long block = sketch_size / n_nonzeros;
            const double scale = 1.0 / sqrt((double)n_nonzeros);
            for (int a = tid; a < k; a += blockDim.x) {
                for (long long t = 0; t < d; ++t) {
                    const long long j = (long long)indices[start + t];
                    const double v = F[j * k + a];
                    const long long key = (start + t) * n_nonzeros;
                    for (long long zz = 0; zz < n_nonzeros; ++zz) {
                        const unsigned int h = completion_hash32(key + zz, seed);
                        const long long row = zz * block
                                              + ((((long long)(h >> 1)) * block) >> 31);
                        const double sgn = scale * (double)(2 * (int)(h & 1u) - 1);
                        SA[row * k + a] += sgn * v;
                    }
                }
            }
            __syncthreads();
        }
        // Gram (lower triangle) of the design (exact) or of the sketch, tile by tile;
        // exact rows also accumulate b = A^T y here
        for (int e = tid; e < k * k; e += blockDim.x) G[e] = 0.0;
        for (int a = tid; a < k; a += blockDim.x) b[a] = 0.0;
        const long long n_src = exact ? d : sketch_size;
        for (long long t0 = 0; t0 < n_src; t0 += tile) {
            const int nt = (int)min((long long)tile, n_src - t0);
            __syncthreads();
            for (int e = tid; e < nt * k; e += blockDim.x) {
                const int tt = e / k, a = e - (e / k) * k;
                if (exact) {
                    const long long j = (long long)indices[start + t0 + tt];
                    tileA[e] = F[j * k + a];
                } else {
                    tileA[e] = SA[(t0 + tt) * k + a];
                }
            }
            if (exact) {
                for (int e = tid; e < nt; e += blockDim.x) {
                    const long long j = (long long)indices[start + t0 + e];
                    tiley[e] = data[start + t0 + e] - shift - col_offset[j];
                }
            }
            __syncthreads();
            for (int e = tid; e < k * k; e += blockDim.x) {
                const int a = e / k, c = e - (e / k) * k;
                if (c > a) continue;
                double s = 0.0;
                for (int tt = 0; tt < nt; ++tt) s += tileA[tt * k + a] * tileA[tt * k + c];
                G[e] += s;
            }
            if (exact) {
                for (int a = tid; a < k; a += blockDim.x) {
                    double s = 0.0;
                    for (int tt = 0; tt < nt; ++tt) s += tileA[tt * k + a] * tiley[tt];
                    b[a] += s;
                }
            }
        }
        block_regularize_factor(G, k, alpha);
        if (exact) {
            block_cholesky_solve(G, k, b);
            for (int a = tid; a < k; a += blockDim.x) X[i * k + a] = b[a];
            continue;
        }
        // PCG on (A^T A + alpha I) x = A^T y, preconditioner L L^T (= _pcg_row)
        block_design_matvec<I>(indices, data, F, col_offset, shift, start, d, k, 0, p, wq, b);
        for (int a = tid; a < k; a += blockDim.x) x[a] = X[i * k + a];
        block_design_matvec<I>(indices, data, F, col_offset, shift, start, d, k, 1, x, wq, q);
        for (int a = tid; a < k; a += blockDim.x) {
            r[a] = b[a] - q[a] - alpha * x[a];
            z[a] = b[a];
        }
        block_cholesky_solve(G, k, z);
        const double b_norm2 = block_dot(b, z, k, scal, 0);
        for (int a = tid; a < k; a += blockDim.x) z[a] = r[a];
        block_cholesky_solve(G, k, z);
        double rz = block_dot(r, z, k, scal, 1);
        const double target2 = fmax(reduction * reduction * rz, abs_tol * abs_tol * b_norm2);
        long long it = 0;
        if (rz > target2) {
            for (int a = tid; a < k; a += blockDim.x) p[a] = z[a];
            while (it < max_cg) {
                ++it;
                block_design_matvec<I>(indices, data, F, col_offset, shift, start, d, k, 1, p,
                                       wq, q);
                for (int a = tid; a < k; a += blockDim.x) q[a] += alpha * p[a];
                const double pq = block_dot(p, q, k, scal, 2);
                if (pq <= 0.0) break;
                const double step = rz / pq;
                for (int a = tid; a < k; a += blockDim.x) {
                    x[a] += step * p[a];
                    r[a] -= step * q[a];
                    z[a] = r[a];
                }
                block_cholesky_solve(G, k, z);
                const double rz_new = block_dot(r, z, k, scal, 3);
                if (rz_new <= target2) break;
                const double beta = rz_new / rz;
                rz = rz_new;
                for (int a = tid; a < k; a += blockDim.x) p[a] = z[a] + beta * p[a];
            }
        }
        __syncthreads();
        for (int a = tid; a < k; a += blockDim.x) X[i * k + a] = x[a];
        if (tid == 0) cg_iters[i] = it;
    }
}

#define COMPLETION_ROWS_ARGS(I)                                                                 \
    const I *indptr, const I *indices, const double *data, const double *F, const int k,        \
        const double *col_offset, const double *shift_ptr, const double alpha,                  \
        const int keep_empty, const long long n_rows, const long long sketch_size,              \
        const long long n_nonzeros, const long long min_rows, const double reduction,           \
        const double abs_tol, const long long max_cg, const long long seed, double *X,          \
        long long *cg_iters, double *scratch, const int tile
#define COMPLETION_ROWS_CALL                                                                    \
    indptr, indices, data, F, k, col_offset, shift_ptr, alpha, keep_empty, n_rows, sketch_size, \
        n_nonzeros, min_rows, reduction, abs_tol, max_cg, seed, X, cg_iters, scratch, tile

extern "C" __global__ void completion_rows_i32(COMPLETION_ROWS_ARGS(int)) {
    completion_rows_impl<int>(COMPLETION_ROWS_CALL);
}

extern "C" __global__ void completion_rows_i64(COMPLETION_ROWS_ARGS(long long)) {
    completion_rows_impl<long long>(COMPLETION_ROWS_CALL);
}

// out[p] = data[p] - mean - row_bias[rows[p]] - col_bias[indices[p]] - U[rows[p]] . V[indices[p]]
template <typename I>
__device__ void completion_residuals_impl(const I* __restrict__ rows, const I* __restrict__ indices,
                                          const double* __restrict__ data,
                                          const double* __restrict__ U, const double* __restrict__ V,
                                          const int k, const double* __restrict__ row_bias,
                                          const double* __restrict__ col_bias,
                                          const double* __restrict__ mean_ptr,
                                          double* __restrict__ out, const long long nnz) {
    const double mean = mean_ptr[0];
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < nnz;
         e += (long long)blockDim.x * gridDim.x) {
        const long long i = (long long)rows[e];
        const long long j = (long long)indices[e];
        double s = mean + row_bias[i] + col_bias[j];
        for (int a = 0; a < k; ++a) s += U[i * k + a] * V[j * k + a];
        out[e] = data[e] - s;
    }
}

extern "C" __global__ void completion_residuals_i32(const int* rows, const int* indices,
                                                    const double* data, const double* U,
                                                    const double* V, const int k,
                                                    const double* row_bias, const double* col_bias,
                                                    const double* mean_ptr, double* out,
                                                    const long long nnz) {
    completion_residuals_impl<int>(rows, indices, data, U, V, k, row_bias, col_bias, mean_ptr,
                                   out, nnz);
}

extern "C" __global__ void completion_residuals_i64(const long long* rows, const long long* indices,
                                                    const double* data, const double* U,
                                                    const double* V, const int k,
                                                    const double* row_bias, const double* col_bias,
                                                    const double* mean_ptr, double* out,
                                                    const long long nnz) {
    completion_residuals_impl<long long>(rows, indices, data, U, V, k, row_bias, col_bias,
                                         mean_ptr, out, nnz);
}
