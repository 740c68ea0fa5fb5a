// Greedy block coordinate descent on the GPU (optsolve/bcd/_gpu_ops.py launches these).
//
// The codes are those of the numba kernels, from bcd_codes.cuh (generated from their Python
// tables by optsolve/bcd/_gpu_ops.py: codes_header):
//   loss: LOSS_LS 1/2 (z - y)^2, LOSS_LOGISTIC log(1 + exp(-y z))        (optsolve/bcd/_kernels.py)
//   pen:  PEN_NONE, PEN_L1 alpha|w|, PEN_L2 alpha/2 w^2, PEN_POS w >= 0,
//         PEN_L1_POS alpha|w| with w >= 0                                  (optsolve/bcd/penalties.py)
//   rule: RULE_GS, RULE_GSL, RULE_GSD (= GSL with the coordinate constants), RULE_GSQ
//                                                                          (optsolve/bcd/rules.py)
// Every kernel has a _f64 and a _f32 entry point; indices are 64-bit, CSR/CSC column indices
// are int32 (cupyx.scipy.sparse's own type). Compiled with --fmad=false so that scores match
// the numpy reference bit for bit and the greedy choice is the same on both sides.

#include "bcd_codes.cuh"

template <typename T>
__device__ __forceinline__ T prox_scalar(int pen, T alpha, T u, T step) {
    if (pen == PEN_L1) {
        T t = alpha * step;
        if (u > t) return u - t;
        if (u < -t) return u + t;
        return T(0);
    }
    if (pen == PEN_L2) return u / (T(1) + alpha * step);
    if (pen == PEN_POS) return u > T(0) ? u : T(0);
    if (pen == PEN_L1_POS) {
        T v = u - alpha * step;
        return v > T(0) ? v : T(0);
    }
    return u;
}

// penalty value at a feasible point (the kernels never evaluate it outside the constraint)
template <typename T>
__device__ __forceinline__ T pen_scalar(int pen, T alpha, T w) {
    if (pen == PEN_L1) return alpha * (w < T(0) ? -w : w);
    if (pen == PEN_L2) return T(0.5) * alpha * w * w;
    if (pen == PEN_L1_POS) return alpha * w;
    return T(0);
}

template <typename T>
__device__ __forceinline__ T min_norm_subgrad(int pen, T alpha, T g, T w) {
    if (pen == PEN_L1) {
        if (w != T(0)) return g + (w > T(0) ? alpha : -alpha);
        if (g > alpha) return g - alpha;
        if (g < -alpha) return g + alpha;
        return T(0);
    }
    if (pen == PEN_L2) return g + alpha * w;
    if (pen == PEN_POS || pen == PEN_L1_POS) {
        T gg = g + (pen == PEN_L1_POS ? alpha : T(0));
        if (w > T(0)) return gg;
        return gg < T(0) ? gg : T(0);
    }
    return g;
}

template <typename T>
__device__ __forceinline__ T coord_score(int rule, int pen, T alpha, T g, T w, T lip) {
    if (rule == RULE_GSQ) {
        T wn = prox_scalar(pen, alpha, w - g / lip, T(1) / lip);
        T d = wn - w;
        T dec = -(g * d + T(0.5) * lip * d * d + pen_scalar(pen, alpha, wn) - pen_scalar(pen, alpha, w));
        return dec > T(0) ? dec : T(0);
    }
    T s = min_norm_subgrad(pen, alpha, g, w);
    if (rule == RULE_GS) return s * s;
    return s * s / lip;
}

template <typename T>
__device__ __forceinline__ T loss_derivative(int loss, T z, T y) {
    if (loss == LOSS_LS) return z - y;
    return -y / (T(1) + exp(y * z));
}

// ------------------------------------------------------------------ scores over all coordinates

template <typename T>
__device__ void scores(const T* __restrict__ grad, const T* __restrict__ w,
                       const T* __restrict__ lips, const long long p, const int rule, const int pen,
                       const T alpha, T* __restrict__ out) {
    for (long long j = blockIdx.x * (long long)blockDim.x + threadIdx.x; j < p;
         j += (long long)blockDim.x * gridDim.x) {
        out[j] = coord_score(rule, pen, alpha, grad[j], w[j], lips[j]);
    }
}

extern "C" __global__ void bcd_scores_f64(const double* grad, const double* w, const double* lips,
                                          const long long p, const int rule, const int pen,
                                          const double alpha, double* out) {
    scores<double>(grad, w, lips, p, rule, pen, alpha, out);
}
extern "C" __global__ void bcd_scores_f32(const float* grad, const float* w, const float* lips,
                                          const long long p, const int rule, const int pen,
                                          const float alpha, float* out) {
    scores<float>(grad, w, lips, p, rule, pen, alpha, out);
}

// ------------------------------------------------------------------ fused score + argmax
// Pass 1: each block keeps its best (score, index), ties to the smaller index (numpy.argmax's
// choice); pass 2: one block reduces the partials and writes the index to device memory, so the
// chosen coordinate never visits the host.

template <typename T>
__device__ __forceinline__ void better(T& v, long long& i, const T v2, const long long i2) {
    if (v2 > v || (v2 == v && i2 < i)) {
        v = v2;
        i = i2;
    }
}

template <typename T>
__device__ void block_argmax(T& v, long long& i) {
    __shared__ T sv[32];
    __shared__ long long si[32];
    const unsigned full = 0xffffffffu;
    for (int off = 16; off > 0; off >>= 1) {
        T v2 = __shfl_down_sync(full, v, off);
        long long i2 = __shfl_down_sync(full, i, off);
        better(v, i, v2, i2);
    }
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) {
        sv[warp] = v;
        si[warp] = i;
    }
    __syncthreads();
    const int n_warps = (blockDim.x + 31) >> 5;
    if (warp == 0) {
        v = lane < n_warps ? sv[lane] : T(-1);
        i = lane < n_warps ? si[lane] : 0x7fffffffffffffffLL;
        for (int off = 16; off > 0; off >>= 1) {
            T v2 = __shfl_down_sync(full, v, off);
            long long i2 = __shfl_down_sync(full, i, off);
            better(v, i, v2, i2);
        }
    }
}

template <typename T>
__device__ void argmax_partial(const T* __restrict__ grad, const T* __restrict__ w,
                               const T* __restrict__ lips, const long long p, const int rule,
                               const int pen, const T alpha, T* __restrict__ part_val,
                               long long* __restrict__ part_idx) {
    T v = T(-1);  // scores are >= 0, so any coordinate beats the sentinel
    long long i = 0x7fffffffffffffffLL;
    for (long long j = blockIdx.x * (long long)blockDim.x + threadIdx.x; j < p;
         j += (long long)blockDim.x * gridDim.x) {
        better(v, i, coord_score(rule, pen, alpha, grad[j], w[j], lips[j]), j);
    }
    block_argmax(v, i);
    if (threadIdx.x == 0) {
        part_val[blockIdx.x] = v;
        part_idx[blockIdx.x] = i;
    }
}

template <typename T>
__device__ void argmax_final(const T* __restrict__ part_val, const long long* __restrict__ part_idx,
                             const int n_part, long long* __restrict__ best, T* __restrict__ best_val) {
    T v = T(-1);
    long long i = 0x7fffffffffffffffLL;
    for (int b = threadIdx.x; b < n_part; b += blockDim.x) better(v, i, part_val[b], part_idx[b]);
    block_argmax(v, i);
    if (threadIdx.x == 0) {
        best[0] = i;
        best_val[0] = v;
    }
}

extern "C" __global__ void bcd_argmax_partial_f64(const double* grad, const double* w,
                                                  const double* lips, const long long p,
                                                  const int rule, const int pen, const double alpha,
                                                  double* part_val, long long* part_idx) {
    argmax_partial<double>(grad, w, lips, p, rule, pen, alpha, part_val, part_idx);
}
extern "C" __global__ void bcd_argmax_partial_f32(const float* grad, const float* w,
                                                  const float* lips, const long long p,
                                                  const int rule, const int pen, const float alpha,
                                                  float* part_val, long long* part_idx) {
    argmax_partial<float>(grad, w, lips, p, rule, pen, alpha, part_val, part_idx);
}
extern "C" __global__ void bcd_argmax_final_f64(const double* part_val, const long long* part_idx,
                                                const int n_part, long long* best, double* best_val) {
    argmax_final<double>(part_val, part_idx, n_part, best, best_val);
}
extern "C" __global__ void bcd_argmax_final_f32(const float* part_val, const long long* part_idx,
                                                const int n_part, long long* best, float* best_val) {
    argmax_final<float>(part_val, part_idx, n_part, best, best_val);
}

// ------------------------------------------------------------------ proximal block step
// One block of threads. The step is 1/L_b with L_b = lips[c] per coordinate (use_sum = 0: single
// coordinates, or fixed blocks whose lips already hold the block constant) or the sum of the
// members' constants (use_sum = 1: a variable block; the trace bounds the block's largest
// eigenvalue). Coordinates >= p (the padding of a last, shorter fixed block) do not move.

template <typename T>
__device__ void block_step(const long long* __restrict__ coords, const int k, const long long p,
                           const T* __restrict__ grad, T* __restrict__ w, const T* __restrict__ lips,
                           const int use_sum, const int pen, const T alpha, T* __restrict__ delta) {
    __shared__ T s_lip[32];
    __shared__ T total;
    T lip_sum = T(0);
    if (use_sum) {
        for (int a = threadIdx.x; a < k; a += blockDim.x) {
            long long c = coords[a];
            if (c < p) lip_sum += lips[c];
        }
        for (int off = 16; off > 0; off >>= 1) lip_sum += __shfl_down_sync(0xffffffffu, lip_sum, off);
        if ((threadIdx.x & 31) == 0) s_lip[threadIdx.x >> 5] = lip_sum;
        __syncthreads();
        if (threadIdx.x == 0) {
            T t = T(0);
            for (int b = 0; b < (int)((blockDim.x + 31) >> 5); ++b) t += s_lip[b];
            total = t;
        }
        __syncthreads();
    }
    for (int a = threadIdx.x; a < k; a += blockDim.x) {
        long long c = coords[a];
        if (c >= p) {
            delta[a] = T(0);
            continue;
        }
        T lip = use_sum ? total : lips[c];
        T wc = w[c];
        T wn = prox_scalar(pen, alpha, wc - grad[c] / lip, T(1) / lip);
        delta[a] = wn - wc;
        w[c] = wn;
    }
}

extern "C" __global__ void bcd_block_step_f64(const long long* coords, const int k, const long long p,
                                              const double* grad, double* w, const double* lips,
                                              const int use_sum, const int pen, const double alpha,
                                              double* delta) {
    block_step<double>(coords, k, p, grad, w, lips, use_sum, pen, alpha, delta);
}
extern "C" __global__ void bcd_block_step_f32(const long long* coords, const int k, const long long p,
                                              const float* grad, float* w, const float* lips,
                                              const int use_sum, const int pen, const float alpha,
                                              float* delta) {
    block_step<float>(coords, k, p, grad, w, lips, use_sum, pen, alpha, delta);
}

// ------------------------------------------------------------------ sparse residual/gradient refresh
// Launch with one thread block per block coordinate (grid = k), a multiple of 32 threads.
// Pass 1 (scatter_columns): dz[i] += X[i, c] delta_c over the CSC columns of the block, and mark
// the touched rows. Pass 2 (refresh_rows): the first thread that claims a marked row (atomicExch)
// moves z_i, recomputes the loss derivative and scatters its change along the CSR row into the
// gradient: grad_j += X[i, j] (l'(z_i) - l'_old) / n. Work: the non-zeros of the touched rows,
// never a full pass over X.

template <typename T>
__device__ void scatter_columns(const long long* __restrict__ coords, const long long p,
                                const T* __restrict__ delta, const long long* __restrict__ c_ptr,
                                const int* __restrict__ c_idx, const T* __restrict__ c_val,
                                T* __restrict__ dz, int* __restrict__ row_flag) {
    const long long c = coords[blockIdx.x];
    const T d = delta[blockIdx.x];
    if (c >= p || d == T(0)) return;
    for (long long t = c_ptr[c] + threadIdx.x; t < c_ptr[c + 1]; t += blockDim.x) {
        const int i = c_idx[t];
        atomicAdd(dz + i, c_val[t] * d);
        row_flag[i] = 1;
    }
}

template <typename T>
__device__ void refresh_rows(const long long* __restrict__ coords, const long long p,
                             const T* __restrict__ delta, const long long* __restrict__ c_ptr,
                             const int* __restrict__ c_idx, const long long* __restrict__ r_ptr,
                             const int* __restrict__ r_idx, const T* __restrict__ r_val,
                             const int loss, const T* __restrict__ y, const T inv_n,
                             T* __restrict__ z, T* __restrict__ dz, T* __restrict__ deriv,
                             T* __restrict__ grad, int* __restrict__ row_flag) {
    // one warp per touched row: lane 0 claims the row and updates its derivative, then the
    // warp strides along the CSR row (rows can hold thousands of non-zeros)
    const long long c = coords[blockIdx.x];
    const T d = delta[blockIdx.x];
    if (c >= p || d == T(0)) return;
    const unsigned full = 0xffffffffu;
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5, n_warps = blockDim.x >> 5;
    for (long long t = c_ptr[c] + warp; t < c_ptr[c + 1]; t += n_warps) {
        const int i = c_idx[t];
        T dd = T(0);
        if (lane == 0 && atomicExch(row_flag + i, 0) == 1) {
            const T zi = z[i] + dz[i];
            z[i] = zi;
            dz[i] = T(0);
            const T dn = loss_derivative(loss, zi, y[i]);
            dd = (dn - deriv[i]) * inv_n;
            deriv[i] = dn;
        }
        dd = __shfl_sync(full, dd, 0);
        if (dd == T(0)) continue;
        for (long long s = r_ptr[i] + lane; s < r_ptr[i + 1]; s += 32) atomicAdd(grad + r_idx[s], r_val[s] * dd);
    }
}

extern "C" __global__ void bcd_scatter_columns_f64(const long long* coords, const long long p,
                                                   const double* delta, const long long* c_ptr,
                                                   const int* c_idx, const double* c_val,
                                                   double* dz, int* row_flag) {
    scatter_columns<double>(coords, p, delta, c_ptr, c_idx, c_val, dz, row_flag);
}
extern "C" __global__ void bcd_scatter_columns_f32(const long long* coords, const long long p,
                                                   const float* delta, const long long* c_ptr,
                                                   const int* c_idx, const float* c_val,
                                                   float* dz, int* row_flag) {
    scatter_columns<float>(coords, p, delta, c_ptr, c_idx, c_val, dz, row_flag);
}
extern "C" __global__ void bcd_refresh_rows_f64(const long long* coords, const long long p,
                                                const double* delta, const long long* c_ptr,
                                                const int* c_idx, const long long* r_ptr,
                                                const int* r_idx, const double* r_val, const int loss,
                                                const double* y, const double inv_n, double* z,
                                                double* dz, double* deriv, double* grad,
                                                int* row_flag) {
    refresh_rows<double>(coords, p, delta, c_ptr, c_idx, r_ptr, r_idx, r_val, loss, y, inv_n, z, dz,
                         deriv, grad, row_flag);
}
extern "C" __global__ void bcd_refresh_rows_f32(const long long* coords, const long long p,
                                                const float* delta, const long long* c_ptr,
                                                const int* c_idx, const long long* r_ptr,
                                                const int* r_idx, const float* r_val, const int loss,
                                                const float* y, const float inv_n, float* z,
                                                float* dz, float* deriv, float* grad, int* row_flag) {
    refresh_rows<float>(coords, p, delta, c_ptr, c_idx, r_ptr, r_idx, r_val, loss, y, inv_n, z, dz,
                        deriv, grad, row_flag);
}
