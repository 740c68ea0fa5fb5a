// Kernels of the averaged block sketch-and-project (block Kaczmarz) iteration of
// optsolve/constrained/_gpu.py. The rows of the system live in one CSR matrix whose blocks are
// contiguous row ranges; one iteration selects a few blocks and
//   1. s[t]  = K[rows[t]] . z - b[rows[t]]           (block_residual: one warp per row)
//   2. y[j]  = Ginv[blocks[j]] @ s[j*q : (j+1)*q]     (block_gram_apply: one thread per output)
//   3. u    += sum_t y[t] * K[rows[t]]                (block_scatter: one warp per row, atomics)
//   4. z    -= (s.y / u.u) u                           (block_step, the dots by cuBLAS)
// Every kernel has a numpy reference in the _NumpyOps table of _gpu.py. Positions and row ids are
// 64-bit (column indices int32, as cuSPARSE stores them);
// loops are grid-stride, so any launch size is correct.

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    return v;
}

// out[t] = sum_p data[p] * z[indices[p]] - rhs[row] over the CSR row rows[t], t < n_sel.
// A warp owns one row per step; blockDim.x must be a multiple of 32.
template <typename T>
__device__ void block_residual(const long long* __restrict__ indptr,
                               const int* __restrict__ indices, const T* __restrict__ data,
                               const T* __restrict__ z, const T* __restrict__ rhs,
                               const long long* __restrict__ rows, const long long n_sel,
                               T* __restrict__ out) {
    const int lane = threadIdx.x & 31;
    const long long warp = (blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5;
    const long long n_warps = ((long long)gridDim.x * blockDim.x) >> 5;
    for (long long t = warp; t < n_sel; t += n_warps) {
        const long long row = rows[t];
        const long long start = indptr[row], end = indptr[row + 1];
        T acc = 0;
        for (long long p = start + lane; p < end; p += 32) acc += data[p] * z[indices[p]];
        acc = warp_sum(acc);
        if (lane == 0) out[t] = acc - rhs[row];
    }
}

// y[j*q + a] = sum_b ginv[blocks[j]*q*q + a*q + b] * s[j*q + b] for j < n_blocks, a < q.
template <typename T>
__device__ void block_gram_apply(const T* __restrict__ ginv, const long long* __restrict__ blocks,
                                 const T* __restrict__ s, const long long n_blocks,
                                 const long long q, T* __restrict__ y) {
    const long long total = n_blocks * q;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        const long long j = i / q, a = i - j * q;
        const T* g = ginv + (blocks[j] * q + a) * q;
        const T* sj = s + j * q;
        T acc = 0;
        for (long long b = 0; b < q; ++b) acc += g[b] * sj[b];
        y[i] = acc;
    }
}

// u[indices[p]] += y[t] * data[p] over the CSR row rows[t], t < n_sel (u zeroed by the caller).
template <typename T>
__device__ void block_scatter(const long long* __restrict__ indptr,
                              const int* __restrict__ indices, const T* __restrict__ data,
                              const long long* __restrict__ rows, const T* __restrict__ y,
                              const long long n_sel, T* __restrict__ u) {
    const int lane = threadIdx.x & 31;
    const long long warp = (blockIdx.x * (long long)blockDim.x + threadIdx.x) >> 5;
    const long long n_warps = ((long long)gridDim.x * blockDim.x) >> 5;
    for (long long t = warp; t < n_sel; t += n_warps) {
        const T yt = y[t];
        if (yt == (T)0) continue;
        const long long row = rows[t];
        const long long start = indptr[row], end = indptr[row + 1];
        for (long long p = start + lane; p < end; p += 32) atomicAdd(&u[indices[p]], yt * data[p]);
    }
}

// z[i] -= (num / den) * u[i] (no step when den == 0); num and den are device scalars, so the
// step length never travels to the host.
template <typename T>
__device__ void block_step(const T* __restrict__ num, const T* __restrict__ den,
                           const T* __restrict__ u, T* __restrict__ z, const long long n) {
    const T d = *den;
    const T beta = d > (T)0 ? *num / d : (T)0;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        z[i] -= beta * u[i];
    }
}

extern "C" {

__global__ void block_step_f64(const double* num, const double* den, const double* u, double* z,
                               const long long n) {
    block_step<double>(num, den, u, z, n);
}

__global__ void block_step_f32(const float* num, const float* den, const float* u, float* z,
                               const long long n) {
    block_step<float>(num, den, u, z, n);
}

__global__ void block_residual_f64(const long long* indptr, const int* indices,
                                   const double* data, const double* z, const double* rhs,
                                   const long long* rows, const long long n_sel, double* out) {
    block_residual<double>(indptr, indices, data, z, rhs, rows, n_sel, out);
}

__global__ void block_residual_f32(const long long* indptr, const int* indices,
                                   const float* data, const float* z, const float* rhs,
                                   const long long* rows, const long long n_sel, float* out) {
    block_residual<float>(indptr, indices, data, z, rhs, rows, n_sel, out);
}

__global__ void block_gram_apply_f64(const double* ginv, const long long* blocks, const double* s,
                                     const long long n_blocks, const long long q, double* y) {
    block_gram_apply<double>(ginv, blocks, s, n_blocks, q, y);
}

__global__ void block_gram_apply_f32(const float* ginv, const long long* blocks, const float* s,
                                     const long long n_blocks, const long long q, float* y) {
    block_gram_apply<float>(ginv, blocks, s, n_blocks, q, y);
}

__global__ void block_scatter_f64(const long long* indptr, const int* indices, const double* data,
                                  const long long* rows, const double* y, const long long n_sel,
                                  double* u) {
    block_scatter<double>(indptr, indices, data, rows, y, n_sel, u);
}

__global__ void block_scatter_f32(const long long* indptr, const int* indices, const float* data,
                                  const long long* rows, const float* y, const long long n_sel,
                                  float* u) {
    block_scatter<float>(indptr, indices, data, rows, y, n_sel, u);
}

}  // extern "C"
