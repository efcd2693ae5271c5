#include "stylize/image_ops.hpp"

#include "stylize/errors.hpp"

#include <algorithm>
#include <cmath>

#include <ATen/ATen.h>

namespace stylize {

torch::Tensor resize_image(const torch::Tensor& image, int64_t height, int64_t width) {
    const int64_t h = image.size(-2), w = image.size(-1);
    if (h == height && w == width) return image;
    if (height <= h && width <= w) return at::adaptive_avg_pool2d(image, {height, width});
    // Bicubic can overshoot [0,1] a little; callers clamp where it matters.
    return at::upsample_bicubic2d(image, {height, width}, /*align_corners=*/false);
}

torch::Tensor resize_long_side(const torch::Tensor& image, int64_t long_side) {
    const int64_t h = image.size(-2), w = image.size(-1);
    const double scale = static_cast<double>(long_side) / static_cast<double>(std::max(h, w));
    const int64_t nh = std::max<int64_t>(1, static_cast<int64_t>(std::lround(h * scale)));
    const int64_t nw = std::max<int64_t>(1, static_cast<int64_t>(std::lround(w * scale)));
    return resize_image(image, nh, nw);
}

torch::Tensor contact_sheet(const std::vector<torch::Tensor>& row_heads, const std::vector<torch::Tensor>& column_heads,
                            const std::vector<std::vector<torch::Tensor>>& cells, int64_t cell) {
    if (cell < 8) throw InvalidArgument("contact sheet: cells must be at least 8 pixels");
    if (cells.size() != row_heads.size())
        throw InvalidArgument("contact sheet: " + std::to_string(cells.size()) + " rows of cells for " +
                              std::to_string(row_heads.size()) + " row heads");
    for (const auto& row : cells)
        if (row.size() != column_heads.size()) throw InvalidArgument("contact sheet: a row has the wrong number of cells");
    const int64_t gap = std::max<int64_t>(1, cell / 16), step = cell + gap;
    const int64_t rows = static_cast<int64_t>(row_heads.size()) + 1, cols = static_cast<int64_t>(column_heads.size()) + 1;
    auto sheet = torch::ones({1, 3, rows * step + gap, cols * step + gap});
    auto place = [&](const torch::Tensor& image, int64_t r, int64_t c) {
        if (!image.defined()) return;
        const auto fitted = resize_long_side(image.to(torch::kFloat).clamp(0, 1), cell);
        const int64_t h = fitted.size(2), w = fitted.size(3);
        const int64_t y = gap + r * step, x = gap + c * step;
        sheet.narrow(2, y, cell).narrow(3, x, cell).fill_(0.5);
        sheet.narrow(2, y + (cell - h) / 2, h).narrow(3, x + (cell - w) / 2, w).copy_(fitted);
    };
    for (size_t c = 0; c < column_heads.size(); ++c) place(column_heads[c], 0, static_cast<int64_t>(c) + 1);
    for (size_t r = 0; r < row_heads.size(); ++r) {
        place(row_heads[r], static_cast<int64_t>(r) + 1, 0);
        for (size_t c = 0; c < cells[r].size(); ++c) place(cells[r][c], static_cast<int64_t>(r) + 1, static_cast<int64_t>(c) + 1);
    }
    return sheet;
}

torch::Tensor quantise(const torch::Tensor& image, int bit_depth) {
    auto x = image.clamp(0, 1);
    if (bit_depth <= 0) return x;
    const double levels = std::ldexp(1.0, bit_depth) - 1;
    return x.mul(levels).round_().div_(levels);
}

namespace {
at::Tensor matrix3(const double m[9], const at::Tensor& like) {
    return at::tensor(std::vector<double>(m, m + 9), like.options().dtype(at::kDouble))
        .view({3, 3})
        .to(like.scalar_type());
}
// Applies a 3x3 colour matrix and an offset to (N,3,H,W).
at::Tensor apply3(const at::Tensor& img, const at::Tensor& m, const at::Tensor& offset) {
    return at::einsum("ij,njhw->nihw", {m, img}) + offset.view({1, 3, 1, 1});
}
}  // namespace

torch::Tensor rgb_to_ycbcr(const torch::Tensor& rgb) {
    static const double m[9] = {0.299,     0.587,     0.114,      //
                                -0.168736, -0.331264, 0.5,        //
                                0.5,       -0.418688, -0.081312};
    return apply3(rgb, matrix3(m, rgb), at::tensor({0.0, 0.5, 0.5}, rgb.options()));
}

torch::Tensor ycbcr_to_rgb(const torch::Tensor& ycc) {
    static const double m[9] = {1.0, 0.0,       1.402,     //
                                1.0, -0.344136, -0.714136,  //
                                1.0, 1.772,     0.0};
    const auto centred = ycc - at::tensor({0.0, 0.5, 0.5}, ycc.options()).view({1, 3, 1, 1});
    return apply3(centred, matrix3(m, ycc), at::zeros({3}, ycc.options()));
}

torch::Tensor luminance_rgb(const torch::Tensor& rgb) {
    return rgb_to_ycbcr(rgb).narrow(1, 0, 1).expand({-1, 3, -1, -1}).contiguous();
}

torch::Tensor combine_luminance_chroma(const torch::Tensor& luma_source,
                                       const torch::Tensor& chroma_source) {
    const auto chroma =
        resize_image(chroma_source, luma_source.size(-2), luma_source.size(-1));
    const auto y = rgb_to_ycbcr(luma_source).narrow(1, 0, 1);
    const auto cbcr = rgb_to_ycbcr(chroma).narrow(1, 1, 2);
    return ycbcr_to_rgb(at::cat({y, cbcr}, 1)).clamp(0.0, 1.0);
}

namespace {
// Mean (3) and covariance (3x3) of an image's pixels, in double.
std::pair<at::Tensor, at::Tensor> colour_stats(const at::Tensor& img) {
    const auto px = img.to(at::kDouble).reshape({3, -1});
    const auto mean = px.mean(1);
    const auto c = px - mean.unsqueeze(1);
    const auto cov = at::mm(c, c.t()) / static_cast<double>(std::max<int64_t>(1, px.size(1)));
    return {mean, cov};
}
// Symmetric matrix power through the eigendecomposition, eigenvalues floored.
at::Tensor sym_power(const at::Tensor& m, double p) {
    auto [evals, evecs] = at::linalg_eigh(m);
    evals = evals.clamp_min(1e-10).pow(p);
    return at::mm(at::mm(evecs, at::diag(evals)), evecs.t());
}
}  // namespace

torch::Tensor match_mean_covariance(const torch::Tensor& source, const torch::Tensor& reference) {
    auto [mu_s, cov_s] = colour_stats(source);
    auto [mu_r, cov_r] = colour_stats(reference);
    // Monge map: A = Cr^1/2 (Cr^1/2 Cs Cr^1/2)^-1/2 Cr^1/2 maps N(mu_s,Cs) onto N(mu_r,Cr).
    const auto r_half = sym_power(cov_r, 0.5);
    const auto mid = sym_power(at::mm(at::mm(r_half, cov_s), r_half), -0.5);
    const auto a = at::mm(at::mm(r_half, mid), r_half);
    const auto px = source.to(at::kDouble).reshape({3, -1});
    const auto out = at::mm(a, px - mu_s.unsqueeze(1)) + mu_r.unsqueeze(1);
    return out.reshape(source.sizes()).to(source.scalar_type());
}

torch::Tensor match_histogram(const torch::Tensor& source, const torch::Tensor& reference) {
    const auto src = source.reshape({3, -1});
    const auto ref = std::get<0>(reference.reshape({3, -1}).to(at::kDouble).sort(1));
    const int64_t n = src.size(1), m = ref.size(1);
    const auto order = std::get<1>(src.sort(/*dim=*/static_cast<int64_t>(1)));
    // Quantile positions of the source ranks inside the sorted reference.
    const auto pos = at::arange(n, src.options().dtype(at::kDouble)) *
                     (static_cast<double>(m - 1) / static_cast<double>(std::max<int64_t>(1, n - 1)));
    const auto lo = pos.floor().to(at::kLong).clamp(0, m - 1);
    const auto hi = (lo + 1).clamp_max(m - 1);
    const auto frac = (pos - lo.to(at::kDouble)).unsqueeze(0);
    const auto vals = ref.index_select(1, lo) * (1 - frac) + ref.index_select(1, hi) * frac;
    auto out = at::empty_like(src, src.options().dtype(at::kDouble));
    out.scatter_(1, order, vals);
    return out.reshape(source.sizes()).to(source.scalar_type());
}

}  // namespace stylize
