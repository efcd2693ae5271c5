#include "stylize/losses.hpp"

#include <ATen/ATen.h>
#include <torch/autograd.h>

namespace stylize {

torch::Tensor gram_matrix(const torch::Tensor& features) {
    const int64_t c = features.size(1);
    const int64_t hw = features.size(2) * features.size(3);
    // flatten(2) keeps a channels-last map as a (C, HW) view with strides (1, C),
    // so BLAS reads it transposed instead of it being copied.
    const auto f = features.flatten(2).select(0, 0);
    return at::mm(f, f.t()).div_(static_cast<double>(hw)).view({c, c});
}

double squared_norm(const torch::Tensor& t) { return t.detach().pow(2).sum().item<double>(); }

torch::Tensor relative_squared_error(const torch::Tensor& a, const torch::Tensor& target, double target_sq_norm) {
    return (a - target.detach()).pow(2).sum() / (target_sq_norm + 1e-8);
}

torch::Tensor relative_squared_error(const torch::Tensor& a, const torch::Tensor& target) {
    return relative_squared_error(a, target, squared_norm(target));
}

torch::Tensor total_variation(const torch::Tensor& image) {
    const int64_t h = image.size(2), w = image.size(3);
    auto loss = image.new_zeros({});
    if (w > 1) loss = loss + (image.narrow(3, 1, w - 1) - image.narrow(3, 0, w - 1)).pow(2).mean();
    if (h > 1) loss = loss + (image.narrow(2, 1, h - 1) - image.narrow(2, 0, h - 1)).pow(2).mean();
    return loss;
}

namespace {
struct NormalizeGradient : public torch::autograd::Function<NormalizeGradient> {
    static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& x) {
        return x.view_as(x);
    }
    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext*,
                                                 torch::autograd::tensor_list grads) {
        const auto& g = grads[0];
        return {g / (g.abs().sum() + 1e-8)};
    }
};
}  // namespace

torch::Tensor normalize_gradient(const torch::Tensor& x) { return NormalizeGradient::apply(x); }

}  // namespace stylize
