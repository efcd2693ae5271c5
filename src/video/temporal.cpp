



#include "stylize/temporal.hpp"

#include <ATen/ATen.h>

#include "loss/fixed_order_sum.hpp"
#include "stylize/errors.hpp"

namespace stylize {
namespace {

void check_flow(const torch::Tensor& flow, const char* what) {
    if (!flow.defined() || flow.dim() != 4 || flow.size(0) != 1 || flow.size(1) != 2)
        throw InvalidArgument(std::string(what) + " must be a (1,2,H,W) flow tensor");
}

// Pixel coordinates (x, y) of every pixel, (1,2,H,W), like the flow.
torch::Tensor pixel_grid(int64_t h, int64_t w, const torch::TensorOptions& o) {
    auto ys = torch::arange(h, o).view({1, 1, h, 1}).expand({1, 1, h, w});
    auto xs = torch::arange(w, o).view({1, 1, 1, w}).expand({1, 1, h, w});
    return torch::cat({xs, ys}, 1);
}

torch::Tensor squared_magnitude(const torch::Tensor& flow) { return flow.pow(2).sum(1, true); }

}  // namespace

const char* to_string(WarpInterpolation i) { return i == WarpInterpolation::Bilinear ? "bilinear" : "nearest"; }

torch::Tensor warp_image(const torch::Tensor& image, const torch::Tensor& flow, WarpInterpolation interpolation) {
    check_flow(flow, "warp_image: flow");
    if (!image.defined() || image.dim() != 4 || image.size(0) != 1)
        throw InvalidArgument("warp_image: image must be (1,C,H,W)");
    const int64_t h = flow.size(2), w = flow.size(3);
    const auto o = flow.options().dtype(torch::kFloat);
    auto pos = pixel_grid(h, w, o) + flow.to(torch::kFloat);
    // grid_sample's coordinates: -1 and 1 are the centres of the corner
    // pixels (align_corners), so x -> 2x/(W-1) - 1.
    auto gx = w > 1 ? pos.select(1, 0) * (2.0 / static_cast<double>(w - 1)) - 1.0 : torch::zeros_like(pos.select(1, 0));
    auto gy = h > 1 ? pos.select(1, 1) * (2.0 / static_cast<double>(h - 1)) - 1.0 : torch::zeros_like(pos.select(1, 1));
    auto grid = torch::stack({gx, gy}, 3);  // (1,H,W,2)
    auto src = image.to(torch::kFloat);
    if (src.size(2) != h || src.size(3) != w)
        throw InvalidArgument("warp_image: the image is " + std::to_string(src.size(3)) + "x" +
                              std::to_string(src.size(2)) + " but the flow " + std::to_string(w) + "x" +
                              std::to_string(h));
    // grid_sampler's modes: bilinear 0, nearest 1; border padding (1); align_corners
    const int64_t mode = interpolation == WarpInterpolation::Bilinear ? 0 : 1;
    return at::grid_sampler(src, grid.to(src.device()), mode, 1, true);
}

torch::Tensor reliable_mask(const torch::Tensor& backward, const torch::Tensor& forward) {
    check_flow(backward, "reliable_mask: backward flow");
    check_flow(forward, "reliable_mask: forward flow");
    if (backward.sizes() != forward.sizes())
        throw InvalidArgument("reliable_mask: the two flows differ in size");
    torch::NoGradGuard no_grad;
    const int64_t h = backward.size(2), w = backward.size(3);
    const auto wb = backward.to(torch::kFloat);
    const auto wf = warp_image(forward, wb);  // forward flow at p + w

    // Disocclusion: the round trip does not come back.
    auto consistent = squared_magnitude(wf + wb) <= 0.01 * (squared_magnitude(wf) + squared_magnitude(wb)) + 0.5;

    // Motion boundaries: central differences of the backward flow (one-sided at the border).
    auto grad_sq = torch::zeros({1, 1, h, w}, wb.options());
    for (int dim : {2, 3}) {
        const int64_t n = wb.size(dim);
        if (n < 2) continue;
        auto d = torch::zeros_like(wb);
        d.narrow(dim, 1, n - 2).copy_((wb.narrow(dim, 2, n - 2) - wb.narrow(dim, 0, n - 2)) * 0.5);
        d.narrow(dim, 0, 1).copy_(wb.narrow(dim, 1, 1) - wb.narrow(dim, 0, 1));
        d.narrow(dim, n - 1, 1).copy_(wb.narrow(dim, n - 1, 1) - wb.narrow(dim, n - 2, 1));
        grad_sq += squared_magnitude(d);
    }
    auto smooth = grad_sq <= 0.01 * squared_magnitude(wb) + 0.002;

    // Inside the previous frame.
    auto pos = pixel_grid(h, w, wb.options()) + wb;
    auto px = pos.select(1, 0).unsqueeze(1), py = pos.select(1, 1).unsqueeze(1);
    auto inside = (px >= 0) & (px <= static_cast<double>(w - 1)) & (py >= 0) & (py <= static_cast<double>(h - 1));

    return (consistent & smooth & inside).to(torch::kFloat);
}

torch::Tensor temporal_loss(const torch::Tensor& image, const torch::Tensor& warped, const torch::Tensor& mask) {
    if (image.sizes() != warped.sizes())
        throw InvalidArgument("temporal_loss: the image and the warped frame differ in size");
    if (mask.dim() != 4 || mask.size(2) != image.size(2) || mask.size(3) != image.size(3))
        throw InvalidArgument("temporal_loss: the mask differs in size from the image");
    return fixed_order_sum(mask * (image - warped).pow(2)) / static_cast<double>(image.numel());
}

double warping_error(const torch::Tensor& current, const torch::Tensor& previous, const torch::Tensor& backward,
                     const torch::Tensor& mask) {
    torch::NoGradGuard no_grad;
    const auto warped = warp_image(previous, backward);
    const auto cur = current.to(torch::kFloat).to(warped.device());
    if (cur.sizes() != warped.sizes()) throw InvalidArgument("warping_error: the frames differ in size");
    const auto m = mask.to(torch::kFloat).to(warped.device());
    const double weight = m.sum().item<double>() * static_cast<double>(cur.size(1));
    if (weight <= 0) return 0.0;
    return (m * (cur - warped).abs()).sum().item<double>() / weight;
}

}  // namespace stylize
