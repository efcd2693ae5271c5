#pragma once
// The two matrix products of the style statistics, F F^T and S F, on every
// thread and with the same bytes whatever the thread count.
//
// BLAS runs these on one thread here (the CLI keeps OpenBLAS at one thread:
// its spinning pool took the cores from ATen's). They are split into blocks
// fixed by the shapes alone, never by the thread count; ATen's threads take
// whole blocks:
// - F F^T (C,C) over blocks of the pixel dimension, one partial product per
//   block, the partials then added in block order;
// - S F (C,HW) over blocks of columns, each block a separate output slice.
// Internal to the engine.
#include <torch/types.h>

#include <cstdint>

namespace stylize {

/// How many pixel blocks F F^T is split into for C channels and K pixels:
/// enough work per block to be worth a thread, at least 512 pixels each, at
/// most 64 blocks, and at most 16 MB of partial products (C*C floats each).
int64_t gram_block_count(int64_t channels, int64_t pixels);

/// F F^T of a (C,K) matrix (any strides BLAS reads: (K,1) or (1,C)).
torch::Tensor gram_product(const torch::Tensor& f);

/// S F of (C,C) S and (C,K) F written into out, a (C,K) view with strides
/// (K,1) or (1,C).
void left_product_out(torch::Tensor& out, const torch::Tensor& s, const torch::Tensor& f);

}  // namespace stylize
