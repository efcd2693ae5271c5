#include "loss/gram_products.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>

namespace stylize {
namespace {

constexpr int64_t kGramBlockWork = int64_t(1) << 24;  // multiply-adds, a few ms
constexpr int64_t kMinGramWidth = 512;
constexpr int64_t kMaxGramBlocks = 64;
constexpr int64_t kMaxPartialBytes = int64_t(16) << 20;  // all blocks' C x C products together
constexpr int64_t kProductWidth = 512;  // columns of S F per block

// a x b for a (M,K) and b (K,N), into out (M,N), any of the strides BLAS
// reads; a transposed out is written as b^T a^T.
void product_into(torch::Tensor out, const torch::Tensor& a, const torch::Tensor& b) {
    if (out.stride(1) == 1) {
        at::mm_out(out, a, b);
    } else {
        auto ot = out.t();
        at::mm_out(ot, b.t(), a.t());
    }
}

}  // namespace

int64_t gram_block_count(int64_t channels, int64_t pixels) {
    const int64_t by_work = channels * channels * pixels / kGramBlockWork;
    const int64_t by_width = pixels / kMinGramWidth;
    const int64_t by_memory = kMaxPartialBytes / std::max<int64_t>(1, channels * channels * 4);
    return std::max<int64_t>(1, std::min({by_work, by_width, by_memory, kMaxGramBlocks}));
}

// The blocks run on OpenMP's threads, which do not share the caller's
// autograd mode: they get detached operands (the callers differentiate these
// products by hand).
torch::Tensor gram_product(const torch::Tensor& features) {
    RECORD_FUNCTION("gram_product", std::vector<c10::IValue>());
    const auto f = features.detach();
    const int64_t c = f.size(0), k = f.size(1);
    const int64_t blocks = gram_block_count(c, k);
    if (blocks == 1 || !f.is_cpu()) return at::mm(f, f.t());
    const int64_t width = (k + blocks - 1) / blocks;
    auto partials = at::empty({blocks, c, c}, f.options());
    at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b) {
            const int64_t k0 = b * width, w = std::min(width, k - k0);
            const auto fb = f.narrow(1, k0, w);
            product_into(partials[b], fb, fb.t());
        }
    });
    auto g = partials[0].clone();
    for (int64_t b = 1; b < blocks; ++b) g.add_(partials[b]);
    return g;
}

void left_product_out(torch::Tensor& out, const torch::Tensor& left, const torch::Tensor& features) {
    RECORD_FUNCTION("left_product", std::vector<c10::IValue>());
    const auto s = left.detach(), f = features.detach();
    const int64_t k = f.size(1);
    if (!f.is_cpu()) {
        product_into(out, s, f);
        return;
    }
    const int64_t blocks = (k + kProductWidth - 1) / kProductWidth;
    at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b) {
            const int64_t k0 = b * kProductWidth, w = std::min(kProductWidth, k - k0);
            product_into(out.narrow(1, k0, w), s, f.narrow(1, k0, w));
        }
    });
}

}  // namespace stylize
