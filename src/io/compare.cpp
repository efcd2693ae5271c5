#include "stylize/compare.hpp"

#include <cmath>
#include <limits>

#include <ATen/ATen.h>

#include "stylize/errors.hpp"

namespace stylize {
namespace {
at::Tensor gaussian_window(int size, double sigma) {
    auto x = at::arange(size, at::kDouble) - (size - 1) / 2.0;
    auto g = (-(x * x) / (2 * sigma * sigma)).exp();
    g = g / g.sum();
    return at::outer(g, g).view({1, 1, size, size}).repeat({3, 1, 1, 1});
}
}  // namespace

ImageDifference compare_images(const torch::Tensor& a_in, const torch::Tensor& b_in) {
    if (a_in.sizes() != b_in.sizes())
        throw InvalidArgument("images differ in size: " + std::to_string(a_in.size(3)) + "x" +
                              std::to_string(a_in.size(2)) + " vs " + std::to_string(b_in.size(3)) + "x" +
                              std::to_string(b_in.size(2)));
    const auto a = a_in.to(at::kDouble), b = b_in.to(at::kDouble);
    ImageDifference d;
    const auto diff = a - b;
    const double mse = diff.pow(2).mean().item<double>();
    d.max_abs_diff = diff.abs().max().item<double>();
    d.psnr = mse == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(1.0 / mse);

    // SSIM (Wang et al. 2004), constants for a [0,1] range. Images smaller
    // than the window use a window of their own size.
    const int win = static_cast<int>(std::min<int64_t>({11, a.size(2), a.size(3)}));
    const auto w = gaussian_window(win, 1.5 * win / 11.0);
    auto blur = [&](const at::Tensor& t) {
        return at::conv2d(t, w, at::Tensor(), at::IntArrayRef{1, 1}, at::IntArrayRef{0, 0}, at::IntArrayRef{1, 1}, 3);
    };
    const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
    const auto mu_a = blur(a);
    const auto mu_b = blur(b);
    const auto saa = blur(a * a) - mu_a * mu_a;
    const auto sbb = blur(b * b) - mu_b * mu_b;
    const auto sab = blur(a * b) - mu_a * mu_b;
    const auto map = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) /
                     ((mu_a * mu_a + mu_b * mu_b + c1) * (saa + sbb + c2));
    d.ssim = map.mean().item<double>();
    return d;
}

double luminance_ssim(const torch::Tensor& a, const torch::Tensor& b) {
    if (a.sizes() != b.sizes() || a.dim() != 4 || a.size(1) != 3)
        throw InvalidArgument("luminance_ssim takes two (1,3,H,W) images of one size");
    auto y = [](const torch::Tensor& t) {
        const auto d = t.to(at::kDouble);
        return (0.299 * d.narrow(1, 0, 1) + 0.587 * d.narrow(1, 1, 1) + 0.114 * d.narrow(1, 2, 1)).repeat({1, 3, 1, 1});
    };
    return compare_images(y(a), y(b)).ssim;
}

}  // namespace stylize
