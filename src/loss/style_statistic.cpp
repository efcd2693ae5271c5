#include "loss/style_statistic.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "loss/fixed_order_sum.hpp"
#include "stylize/losses.hpp"

namespace stylize {
namespace {

// (C, HW) copy-free where possible.
torch::Tensor matrix(const torch::Tensor& features) {
    // fp32 (bf16 activations are widened); fp64 stays, for tests.
    const bool keep = features.scalar_type() == torch::kFloat || features.scalar_type() == torch::kDouble;
    const auto f = keep ? features : features.to(torch::kFloat);
    return f.reshape({f.size(1), f.size(2) * f.size(3)});
}

// The mask as a (HW, 1) column of weights, all ones when undefined.
torch::Tensor weight_column(const torch::Tensor& features, const torch::Tensor& mask) {
    const int64_t n = features.size(2) * features.size(3);
    const auto type = features.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
    if (!mask.defined()) return features.new_ones({n, 1}, features.options().dtype(type));
    return mask.detach().to(type).reshape({n, 1});
}

double weight_sum(const torch::Tensor& column) { return fixed_order_sum(column).item<double>(); }

// A zero loss still attached to the features, for a region with no pixels
// at this layer.
torch::Tensor attached_zero(const torch::Tensor& features) { return features.reshape({-1}).narrow(0, 0, 1).sum() * 0.0; }

// F diag(m) F^T / sum(m), differentiable in F. Uses BLAS products, whose
// result does not depend on the thread count (one OpenBLAS thread).
torch::Tensor weighted_second_moment(const torch::Tensor& f, const torch::Tensor& column, double total) {
    return at::mm(f * column.t(), f.t()) / total;
}

// The features as (C, HW), the weight of each pixel as a column and the
// weights' sum: what the Gram and mean-cov statistics of a region need.
struct WeightedPixels {
    torch::Tensor f, column;
    double total = 0;
    bool empty() const { return !(total > 0); }
    torch::Tensor mean() const { return at::mm(f, column) / total; }
    torch::Tensor second_moment() const { return weighted_second_moment(f, column, total); }
};

WeightedPixels weighted_pixels(const torch::Tensor& features, const torch::Tensor& mask) {
    WeightedPixels p;
    p.column = weight_column(features, mask);
    p.total = weight_sum(p.column);
    p.f = matrix(features);
    return p;
}

// sum_i items[i] * (weights[i] / wsum), added in order (the first term is
// taken as it is, not added to zero): the blend of several samples' statistics.
torch::Tensor weighted_sum(const std::vector<torch::Tensor>& items, const std::vector<double>& weights, double wsum) {
    torch::Tensor out;
    for (size_t i = 0; i < items.size(); ++i) {
        auto s = items[i] * (weights[i] / wsum);
        out = out.defined() ? out + s : s;
    }
    return out;
}

// The columns of (C, HW) features whose mask is at least 1/2 (all of them
// without a mask).
torch::Tensor selected_columns(const torch::Tensor& features, const torch::Tensor& mask) {
    auto f = matrix(features);
    if (!mask.defined()) return f;
    const auto idx = (mask.detach().reshape({-1}) >= 0.5).nonzero().reshape({-1});
    return f.index_select(1, idx);
}

// The pool of style feature vectors of a mixture: from each sample a share
// of columns proportional to its weight, evenly spaced over its pixels
// (repeating pixels of a sample smaller than its share), at most
// kMaxSamples in all. (C, M).
torch::Tensor sample_pool(const std::vector<StyleSample>& samples) {
    std::vector<torch::Tensor> cols;
    std::vector<double> weights;
    int64_t total = 0;
    for (const auto& s : samples) {
        if (!(s.weight > 0)) continue;
        auto c = selected_columns(s.features, s.mask);
        if (c.size(1) == 0) continue;
        total += c.size(1);
        cols.push_back(c);
        weights.push_back(s.weight);
    }
    if (cols.empty()) return {};
    double wsum = 0;
    for (double w : weights) wsum += w;
    const double m = static_cast<double>(std::min(total, kMaxSamples));
    std::vector<torch::Tensor> parts;
    for (size_t i = 0; i < cols.size(); ++i) {
        const int64_t n = cols[i].size(1);
        const int64_t count = std::max<int64_t>(1, std::llround(m * weights[i] / wsum));
        if (count == n) {
            parts.push_back(cols[i]);
            continue;
        }
        auto idx = ((at::arange(count, at::TensorOptions().dtype(torch::kDouble)) + 0.5) *
                    (static_cast<double>(n) / static_cast<double>(count)))
                       .floor()
                       .to(torch::kLong)
                       .clamp(0, n - 1)
                       .to(cols[i].device());
        parts.push_back(cols[i].index_select(1, idx));
    }
    return at::cat(parts, 1).contiguous();
}

// Mean square of a (P, M) pool's rows' entries, per entry.
double mean_square(const torch::Tensor& pool) {
    return squared_norm(pool) / static_cast<double>(std::max<int64_t>(1, pool.numel()));
}

torch::Tensor ascending(const torch::Tensor& x) { return std::get<0>(at::sort(x, /*stable=*/true, 1, false)); }

// Mean squared difference of sorted rows against the target's resampled rows.
torch::Tensor sorted_distance(const torch::Tensor& values, const torch::Tensor& target_sorted) {
    const auto sorted = ascending(values);
    const auto goal = resample_sorted(target_sorted, values.size(1)).detach();
    return fixed_order_sum((sorted - goal).pow(2)) / static_cast<double>(values.numel());
}

uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

}  // namespace

torch::Tensor mask_at(const torch::Tensor& mask, const torch::Tensor& features) {
    const int64_t h = features.size(2), w = features.size(3);
    if (mask.size(2) == h && mask.size(3) == w) return mask;
    return at::adaptive_avg_pool2d(mask, {h, w});
}

torch::Tensor resample_sorted(const torch::Tensor& sorted, int64_t n) {
    const int64_t m = sorted.size(1);
    const auto dbl = at::TensorOptions().dtype(torch::kDouble);
    auto pos = ((at::arange(n, dbl) + 0.5) * (static_cast<double>(m) / static_cast<double>(n)) - 0.5)
                   .clamp(0, static_cast<double>(m - 1));
    const auto i0 = pos.floor().to(torch::kLong);
    const auto i1 = (i0 + 1).clamp_max(m - 1);
    const auto frac = (pos - i0.to(torch::kDouble)).to(sorted.scalar_type()).to(sorted.device());
    const auto v0 = sorted.index_select(1, i0.to(sorted.device()));
    const auto v1 = sorted.index_select(1, i1.to(sorted.device()));
    return v0 + (v1 - v0) * frac;
}

// ---- sums over pixels, for tiles ----

torch::Tensor StyleStatistic::sums(const torch::Tensor&, const torch::Tensor&) const {
    throw std::logic_error(std::string(name()) + " is not a sum over pixels");
}
torch::Tensor StyleStatistic::loss_of_sums(const torch::Tensor&, const torch::Tensor&, double) const {
    throw std::logic_error(std::string(name()) + " is not a sum over pixels");
}
torch::Tensor StyleStatistic::target_of_sums(const std::vector<std::pair<torch::Tensor, double>>&) const {
    throw std::logic_error(std::string(name()) + " is not a sum over pixels");
}

namespace {

// [sum of weights, (sum of m f if with_mean), sum of m f f^T], flat.
torch::Tensor pixel_sums(const torch::Tensor& features, const torch::Tensor& mask, bool with_mean) {
    const auto f = matrix(features);
    std::vector<torch::Tensor> parts;
    torch::Tensor second;
    if (!mask.defined()) {
        parts.push_back(f.new_full({1}, static_cast<double>(f.size(1))));
        // A BLAS product, not a reduction: its rounding does not follow the
        // thread count.
        if (with_mean) parts.push_back(at::mm(f, weight_column(features, {})).reshape({-1}));
        second = at::mm(f, f.t());
    } else {
        const auto col = weight_column(features, mask);
        parts.push_back(fixed_order_sum(col).reshape({1}).to(f.scalar_type()));
        if (with_mean) parts.push_back(at::mm(f, col).reshape({-1}));
        second = at::mm(f * col.t(), f.t());
    }
    parts.push_back(second.reshape({-1}));
    return at::cat(parts);
}

// The sums' weight total and the weighted mean (C,1, when packed) and
// second moment (C,C), in the sums' precision.
struct Moments {
    torch::Tensor mean, second;
    double total = 0;
};

Moments moments_of(const torch::Tensor& sums, int64_t c, bool with_mean) {
    Moments m;
    m.total = sums[0].item<double>();
    if (!(m.total > 0)) return m;
    int64_t at = 1;
    if (with_mean) {
        m.mean = sums.narrow(0, at, c).reshape({c, 1}) / m.total;
        at += c;
    }
    m.second = sums.narrow(0, at, c * c).reshape({c, c}) / m.total;
    return m;
}

// The channel count C of flat sums: 1 + C^2 numbers, or 1 + C + C^2 with the mean.
int64_t channels_of_sums(const torch::Tensor& sums, bool with_mean) {
    const double n = static_cast<double>(sums.numel() - 1);
    return static_cast<int64_t>(std::llround(with_mean ? (-1 + std::sqrt(1 + 4 * n)) / 2 : std::sqrt(n)));
}

// The mixture's mean (with_mean) and second moment from each sample's sums
// and blend weight: the moments weighted by the shares of the samples that
// have pixels. Undefined when none has.
Moments mixture_of_sums(const std::vector<std::pair<torch::Tensor, double>>& parts, bool with_mean) {
    double wsum = 0;
    for (const auto& [s, w] : parts)
        if (w > 0 && s[0].item<double>() > 0) wsum += w;
    std::vector<torch::Tensor> means, seconds;
    std::vector<double> weights;
    for (const auto& [s, w] : parts) {
        const auto m = moments_of(s, channels_of_sums(s, with_mean), with_mean);
        if (!(w > 0) || !(m.total > 0)) continue;
        means.push_back(m.mean);
        seconds.push_back(m.second);
        weights.push_back(w);
    }
    Moments out;
    if (weights.empty()) return out;
    if (with_mean) out.mean = weighted_sum(means, weights, wsum);
    out.second = weighted_sum(seconds, weights, wsum);
    out.total = 1;
    return out;
}

}  // namespace

// ---- Gram ----

torch::Tensor GramStatistic::sums(const torch::Tensor& features, const torch::Tensor& mask) const {
    return pixel_sums(features, mask, false);
}

torch::Tensor GramStatistic::loss_of_sums(const torch::Tensor& sums, const torch::Tensor& target,
                                          double normaliser) const {
    const auto m = moments_of(sums, target.size(0), false);
    if (!(m.total > 0)) return sums.sum() * 0.0;
    return relative_squared_error(m.second, target.to(sums.scalar_type()), normaliser);
}

torch::Tensor GramStatistic::target_of_sums(const std::vector<std::pair<torch::Tensor, double>>& parts) const {
    torch::NoGradGuard no_grad;
    const auto m = mixture_of_sums(parts, false);
    return m.second.defined() ? m.second.to(torch::kFloat) : m.second;
}

torch::Tensor GramStatistic::target(const std::vector<StyleSample>& samples) const {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> stats;
    std::vector<double> weights;
    double wsum = 0;
    for (const auto& s : samples) {
        if (!(s.weight > 0)) continue;
        if (!s.mask.defined()) {
            stats.push_back(gram_matrix(s.features));
        } else {
            const auto p = weighted_pixels(s.features, s.mask);
            if (p.empty()) continue;
            stats.push_back(p.second_moment());
        }
        weights.push_back(s.weight);
        wsum += s.weight;
    }
    // Weights arrive normalised; dividing by a sum of 1 up to rounding would
    // only change the last bits of the targets runs had before regions.
    if (std::abs(wsum - 1.0) < 1e-12) wsum = 1.0;
    return weighted_sum(stats, weights, wsum);
}

double GramStatistic::normaliser(const torch::Tensor& target) const { return squared_norm(target); }

torch::Tensor GramStatistic::loss(const torch::Tensor& features, const torch::Tensor& mask, const torch::Tensor& target,
                                  double normaliser, uint64_t) const {
    if (!mask.defined()) return relative_squared_error(gram_matrix(features), target, normaliser);
    const auto p = weighted_pixels(features, mask);
    if (p.empty()) return attached_zero(features);
    return relative_squared_error(p.second_moment(), target, normaliser);
}

// ---- mean and covariance ----

namespace {
// (C+1, C): the weighted mean as row 0, the covariance below.
torch::Tensor mean_and_covariance(const torch::Tensor& mean, const torch::Tensor& second_moment) {
    return at::cat({mean.t(), second_moment - at::mm(mean, mean.t())}, 0);
}
}  // namespace

torch::Tensor MeanCovStatistic::target(const std::vector<StyleSample>& samples) const {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> means, moments;
    std::vector<double> weights;
    double wsum = 0;
    for (const auto& s : samples) {
        if (!(s.weight > 0)) continue;
        const auto p = weighted_pixels(s.features, s.mask);
        if (p.empty()) continue;
        means.push_back(p.mean());
        moments.push_back(p.second_moment());
        weights.push_back(s.weight);
        wsum += s.weight;
    }
    if (weights.empty()) return {};
    // The mixture's moments are the weighted sums of the samples' moments.
    return mean_and_covariance(weighted_sum(means, weights, wsum), weighted_sum(moments, weights, wsum));
}

double MeanCovStatistic::normaliser(const torch::Tensor& target) const { return squared_norm(target); }

torch::Tensor MeanCovStatistic::loss(const torch::Tensor& features, const torch::Tensor& mask,
                                     const torch::Tensor& target, double normaliser, uint64_t) const {
    if (!mask.defined()) {
        // Without a mask: the moments with the one-product backward (the
        // lower peak; the same numbers as the weighted form with all ones).
        const bool keep = features.scalar_type() == torch::kFloat || features.scalar_type() == torch::kDouble;
        const auto [mean, second] = mean_and_second_moment(keep ? features : features.to(torch::kFloat));
        return relative_squared_error(mean_and_covariance(mean, second), target, normaliser);
    }
    const auto p = weighted_pixels(features, mask);
    if (p.empty()) return attached_zero(features);
    return relative_squared_error(mean_and_covariance(p.mean(), p.second_moment()), target, normaliser);
}

torch::Tensor MeanCovStatistic::sums(const torch::Tensor& features, const torch::Tensor& mask) const {
    return pixel_sums(features, mask, true);
}

torch::Tensor MeanCovStatistic::loss_of_sums(const torch::Tensor& sums, const torch::Tensor& target,
                                             double normaliser) const {
    const auto m = moments_of(sums, target.size(1), true);
    if (!(m.total > 0)) return sums.sum() * 0.0;
    return relative_squared_error(mean_and_covariance(m.mean, m.second), target.to(sums.scalar_type()), normaliser);
}

torch::Tensor MeanCovStatistic::target_of_sums(const std::vector<std::pair<torch::Tensor, double>>& parts) const {
    torch::NoGradGuard no_grad;
    const auto m = mixture_of_sums(parts, true);
    return m.mean.defined() ? mean_and_covariance(m.mean, m.second).to(torch::kFloat) : m.mean;
}

// ---- sliced Wasserstein ----

torch::Tensor SlicedWassersteinStatistic::target(const std::vector<StyleSample>& samples) const {
    torch::NoGradGuard no_grad;
    return sample_pool(samples);
}

double SlicedWassersteinStatistic::normaliser(const torch::Tensor& target) const {
    // A random unit direction v gives E[(v.t)^2] = |t|^2 / C.
    return mean_square(target);
}

torch::Tensor SlicedWassersteinStatistic::loss(const torch::Tensor& features, const torch::Tensor& mask,
                                               const torch::Tensor& target, double normaliser, uint64_t draw) const {
    const auto f = selected_columns(features, mask);
    if (f.size(1) == 0) return attached_zero(features);
    const int64_t c = f.size(0);
    // Directions drawn on the CPU from the draw's own generator: the same on
    // every device and thread count.
    auto gen = at::detail::createCPUGenerator(splitmix64(draw));
    auto v = at::randn({c, c}, gen, at::TensorOptions().dtype(torch::kFloat));
    v = (v / v.norm(2, {1}, true)).to(f.device()).to(f.scalar_type());
    torch::Tensor goal;
    {
        torch::NoGradGuard no_grad;
        goal = ascending(at::mm(v, target));
    }
    return sorted_distance(at::mm(v, f), goal) / (normaliser + 1e-8);
}

// ---- histogram ----

torch::Tensor HistogramStatistic::target(const std::vector<StyleSample>& samples) const {
    torch::NoGradGuard no_grad;
    auto pool = sample_pool(samples);
    return pool.defined() ? ascending(pool) : pool;
}

double HistogramStatistic::normaliser(const torch::Tensor& target) const { return mean_square(target); }

torch::Tensor HistogramStatistic::loss(const torch::Tensor& features, const torch::Tensor& mask,
                                       const torch::Tensor& target, double normaliser, uint64_t) const {
    const auto f = selected_columns(features, mask);
    if (f.size(1) == 0) return attached_zero(features);
    return sorted_distance(f, target) / (normaliser + 1e-8);
}

std::vector<std::shared_ptr<const StyleStatistic>> make_style_statistics(StyleLossKind kind) {
    switch (kind) {
        case StyleLossKind::MeanCov: return {std::make_shared<const MeanCovStatistic>()};
        case StyleLossKind::SlicedWasserstein: return {std::make_shared<const SlicedWassersteinStatistic>()};
        case StyleLossKind::Histogram:
            return {std::make_shared<const GramStatistic>(), std::make_shared<const HistogramStatistic>()};
        default: return {std::make_shared<const GramStatistic>()};
    }
}

}  // namespace stylize
