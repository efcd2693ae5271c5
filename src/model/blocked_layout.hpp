#pragma once
// The channel-blocked activation layout oneDNN's Winograd convolutions read
// and write (nChw16c): a (N,C,H,W) map stored as a contiguous (N,C/16,H,W,16)
// tensor. Conversions and pooling here are ordinary differentiable ATen ops.
#include <torch/types.h>

namespace stylize::detail {

constexpr int64_t kChannelBlock = 16;

/// (N,C,H,W) in any layout, C a multiple of 16 -> contiguous (N,C/16,H,W,16).
torch::Tensor to_blocked(const torch::Tensor& x);

/// (N,C/16,H,W,16) -> (N,C,H,W) in `format` (a copy).
torch::Tensor from_blocked(const torch::Tensor& x5, at::MemoryFormat format);

/// 2-D max or average pooling of a blocked map, staying blocked.
torch::Tensor pool_blocked(const torch::Tensor& x5, bool max, int64_t kernel, int64_t stride);

}  // namespace stylize::detail
