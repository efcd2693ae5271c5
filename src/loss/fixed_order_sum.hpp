#pragma once
// Sums whose result does not depend on the number of threads.
//
// ATen reduces a whole tensor to one number by giving each thread a slice
// and adding the threads' partial sums, so the rounding follows the thread
// count; OpenBLAS's dot product does the same with its own threads. L-BFGS
// turns that last-bit difference into a visibly different image within a few
// dozen evaluations (1 against 2 threads: PSNR 25 dB at 96 px). These sum
// fixed blocks of a flat view, each block by one thread, and then the block
// sums in order: the same additions whatever the thread count, at the
// cost of one small extra pass. Internal to the engine.
#include <torch/types.h>

namespace stylize {

/// Sum of every element (fp32 or fp64), differentiable.
torch::Tensor fixed_order_sum(const torch::Tensor& x);

/// Dot product of two tensors of the same shape, as a double.
double fixed_order_dot(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace stylize
