#include "stylize/losses.hpp"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include "loss/fixed_order_sum.hpp"
#include "loss/gram_products.hpp"

namespace stylize {

namespace {

// (C, HW) view of a (1,C,H,W) map without a copy: strides (HW, 1) for NCHW,
// (1, C) for channels-last, which BLAS reads transposed.
torch::Tensor as_matrix(const torch::Tensor& features) {
    return features.view({features.size(1), features.size(2) * features.size(3)});
}

// S F written straight into a tensor of the features' own memory format (so
// the gradient reaching the network needs no layout change): (C,HW) = S F
// for NCHW, (HW,C) = F^T S^T for channels-last.
torch::Tensor product_in_layout(const torch::Tensor& s, const torch::Tensor& features) {
    auto out = at::empty_like(features);  // keeps the memory format
    auto o = as_matrix(out);
    left_product_out(o, s, as_matrix(features));
    return out;
}

// F F^T / HW of a (C, HW) matrix: the Gram matrix, the second moment.
torch::Tensor second_moment(const torch::Tensor& f) { return gram_product(f).div_(static_cast<double>(f.size(1))); }

// The gradient reaching the features from a gradient g of F F^T / HW:
// (g + g^T) F / HW, in the features' own layout.
torch::Tensor second_moment_backward(const torch::Tensor& g, const torch::Tensor& features) {
    const auto n = static_cast<double>(features.size(2) * features.size(3));
    return product_in_layout((g + g.t()).div_(n), features);
}

// The features as the (C, HW) view needs them: NCHW or channels-last
// strides; anything else (a narrowed or permuted map) is copied first.
torch::Tensor viewable(const torch::Tensor& features, const char* what) {
    TORCH_CHECK(features.dim() == 4 && features.size(0) == 1, what, " expects a (1,C,H,W) map");
    const bool ok = features.is_contiguous() || features.is_contiguous(at::MemoryFormat::ChannelsLast);
    return ok ? features : features.contiguous();
}

// G = F F^T / HW with a hand-written backward: dF = (dG + dG^T) F / HW is one
// product instead of autograd's two plus an add of a transposed operand, and
// it is written straight into a tensor of the features' own memory format,
// so the gradient reaching the network needs no layout change.
struct GramFunction : public torch::autograd::Function<GramFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& features) {
        ctx->save_for_backward({features});
        return second_moment(as_matrix(features));
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        return {second_moment_backward(grads[0], ctx->get_saved_variables()[0])};
    }
};

// The mean F 1 / HW (C,1) and the second moment F F^T / HW (C,C), with one
// product in the backward: dF = (dM + dM^T) F / HW + dmean / HW, written in
// the features' layout. Autograd's own backward held a copy of F and three
// more maps of its size at once, the peak of a 512 px run (issue 13).
struct MomentsFunction : public torch::autograd::Function<MomentsFunction> {
    static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                  const torch::Tensor& features) {
        ctx->save_for_backward({features});
        const auto f = as_matrix(features);
        const auto n = static_cast<double>(f.size(1));
        auto mean = at::mm(f, at::ones({f.size(1), 1}, f.options())).div_(n);
        return {mean, second_moment(f)};
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grads) {
        const auto features = ctx->get_saved_variables()[0];
        const int64_t c = features.size(1);
        const auto n = static_cast<double>(features.size(2) * features.size(3));
        const auto& gm = grads[0];
        const auto& gs = grads[1];
        auto out = gs.defined() ? second_moment_backward(gs, features)
                                : product_in_layout(at::zeros({c, c}, features.options()), features);
        if (gm.defined()) out.add_(gm.reshape({1, c, 1, 1}) / n);
        return {out};
    }
};

}  // namespace

torch::Tensor gram_matrix(const torch::Tensor& features) {
    return GramFunction::apply(viewable(features, "gram_matrix"));
}

std::pair<torch::Tensor, torch::Tensor> mean_and_second_moment(const torch::Tensor& features) {
    const auto out = MomentsFunction::apply(viewable(features, "mean_and_second_moment"));
    return {out[0], out[1]};
}

double squared_norm(const torch::Tensor& t) { return fixed_order_sum(t.detach().pow(2)).item<double>(); }

torch::Tensor relative_squared_error(const torch::Tensor& a, const torch::Tensor& target, double target_sq_norm) {
    return fixed_order_sum((a - target.detach()).pow(2)) / (target_sq_norm + 1e-8);
}

torch::Tensor relative_squared_error(const torch::Tensor& a, const torch::Tensor& target) {
    return relative_squared_error(a, target, squared_norm(target));
}

torch::Tensor total_variation(const torch::Tensor& image) {
    const int64_t h = image.size(2), w = image.size(3);
    auto loss = image.new_zeros({});
    const auto mean_square = [](const torch::Tensor& d) {
        return fixed_order_sum(d.pow(2)) / static_cast<double>(d.numel());
    };
    if (w > 1) loss = loss + mean_square(image.narrow(3, 1, w - 1) - image.narrow(3, 0, w - 1));
    if (h > 1) loss = loss + mean_square(image.narrow(2, 1, h - 1) - image.narrow(2, 0, h - 1));
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
        return {g / (fixed_order_sum(g.abs()) + 1e-8)};
    }
};
}  // namespace

torch::Tensor normalize_gradient(const torch::Tensor& x) { return NormalizeGradient::apply(x); }

}  // namespace stylize
