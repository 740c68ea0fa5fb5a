// Reference kernels used by the GPU dispatch test and as a template for family kernels.
// Loaded by optsolve/_cuda.py through cupy.RawModule; compiled on first use.
extern "C" __global__ void scaled_add(const double* __restrict__ x, const double* __restrict__ y,
                                      const double alpha, double* __restrict__ out, const long long n) {
    // out = alpha * x + y, grid-stride so any launch size covers n
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        out[i] = alpha * x[i] + y[i];
    }
}
