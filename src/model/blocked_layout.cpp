#include "model/blocked_layout.hpp"

#include <ATen/ATen.h>

namespace stylize::detail {

torch::Tensor to_blocked(const torch::Tensor& x) {
    TORCH_CHECK(x.dim() == 4 && x.size(1) % kChannelBlock == 0, "to_blocked needs (N,C,H,W) with C % 16 == 0");
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    return x.reshape({n, c / kChannelBlock, kChannelBlock, h, w}).permute({0, 1, 3, 4, 2}).contiguous();
}

torch::Tensor from_blocked(const torch::Tensor& x5, at::MemoryFormat format) {
    TORCH_CHECK(x5.dim() == 5 && x5.size(4) == kChannelBlock, "from_blocked needs (N,C/16,H,W,16)");
    const int64_t n = x5.size(0), c = x5.size(1) * kChannelBlock, h = x5.size(2), w = x5.size(3);
    if (format == at::MemoryFormat::ChannelsLast)
        return x5.permute({0, 2, 3, 1, 4}).reshape({n, h, w, c}).permute({0, 3, 1, 2});
    return x5.permute({0, 1, 4, 2, 3}).reshape({n, c, h, w});
}

torch::Tensor pool_blocked(const torch::Tensor& x5, bool max, int64_t kernel, int64_t stride) {
    TORCH_CHECK(x5.dim() == 5 && x5.size(4) == kChannelBlock, "pool_blocked needs (N,C/16,H,W,16)");
    const int64_t n = x5.size(0), cb = x5.size(1), h = x5.size(2), w = x5.size(3);
    // Each 16-channel block is a channels-last (N*C/16, 16, H, W) map, which
    // ATen pools with its vectorised channels-last kernels.
    const auto x = x5.reshape({n * cb, h, w, kChannelBlock}).permute({0, 3, 1, 2});
    const auto y = max ? at::max_pool2d(x, {kernel, kernel}, {stride, stride})
                       : at::avg_pool2d(x, {kernel, kernel}, {stride, stride});
    return y.permute({0, 2, 3, 1}).reshape({n, cb, y.size(2), y.size(3), kChannelBlock});
}

}  // namespace stylize::detail
