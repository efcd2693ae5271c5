#include "loss/fixed_order_sum.hpp"

#include <ATen/ATen.h>

namespace stylize {
namespace {

// Elements per block. A row reduction of this length runs on one thread
// (ATen splits a reduction across threads only above 32768 elements), and
// so does the sum of up to 32768 block sums.
constexpr int64_t kBlock = 4096;

// The elements in memory order as a flat view, without a copy where the
// layout allows (NCHW or channels-last).
torch::Tensor flat(const torch::Tensor& x) {
    if (x.is_contiguous()) return x.view({-1});
    if (x.dim() == 4 && x.is_contiguous(at::MemoryFormat::ChannelsLast)) return x.permute({0, 2, 3, 1}).reshape({-1});
    return x.contiguous().view({-1});
}

}  // namespace

torch::Tensor fixed_order_sum(const torch::Tensor& x) {
    auto f = flat(x);
    const int64_t n = f.numel();
    if (n <= kBlock) return f.sum();
    const int64_t rows = n / kBlock, rest = n - rows * kBlock;
    auto sums = f.narrow(0, 0, rows * kBlock).view({rows, kBlock}).sum(1);
    auto total = fixed_order_sum(sums);
    if (rest > 0) total = total + f.narrow(0, rows * kBlock, rest).sum();
    return total;
}

double fixed_order_dot(const torch::Tensor& a, const torch::Tensor& b) {
    return fixed_order_sum(a * b).item<double>();
}

}  // namespace stylize
