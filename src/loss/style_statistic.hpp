#pragma once
// How a style layer's features are summarised and compared with the style's
// (docs/guides/styles-and-masks.md): the Gram matrix, the mean and covariance, sorted
// random projections (sliced Wasserstein), per-channel histograms. Each
// works on a region of the image (a mask over its pixels) and on a blend of
// several style images. Internal to the engine.
//
// Blending, for every statistic: the target is that of the *mixture* of the
// style images' feature distributions, each image contributing the share of
// samples its normalised blend weight gives it. For the Gram matrix that is
// the weighted sum of the Gram matrices (as before); for the mean and
// covariance, the mixture's mean and covariance (not the sum of the
// covariances); for the sorting losses, a pool of feature vectors drawn
// from each image in proportion to its weight.
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "stylize/options.hpp"

namespace stylize {

/// One style image's contribution to a target: its (1,C,H,W) features at a
/// layer, the weight of each of their pixels (a (1,1,H,W) region mask at the
/// features' resolution, or undefined for all of them), and its share of the
/// blend (normalised weights summing to one over the samples given).
struct StyleSample {
    torch::Tensor features;
    torch::Tensor mask;
    double weight = 1.0;
};

class StyleStatistic {
public:
    virtual ~StyleStatistic() = default;
    virtual const char* name() const = 0;
    /// The target of the samples' mixture, without autograd. Undefined when
    /// no sample has a pixel in its region.
    virtual torch::Tensor target(const std::vector<StyleSample>& samples) const = 0;
    /// Once per target: what loss() divides by.
    virtual double normaliser(const torch::Tensor& target) const = 0;
    /// Loss of `features` (restricted to `mask`, (1,1,H,W) at their
    /// resolution, when defined) against `target`: 0 at the target, about 1
    /// for features of zero. `draw` seeds what a loss draws at random (the
    /// projections of the sliced Wasserstein loss); the others ignore it.
    /// Differentiable.
    virtual torch::Tensor loss(const torch::Tensor& features, const torch::Tensor& mask, const torch::Tensor& target,
                               double normaliser, uint64_t draw) const = 0;
    /// Whether loss() draws at random, so that two evaluations of one image
    /// differ: losses of different evaluations are then not comparable (the
    /// optimiser cannot use them to accept or reject a step).
    virtual bool stochastic() const { return false; }

    // Tiled evaluation (tiling.hpp) needs a statistic that is a function of
    // sums over pixels, which tiles add up exactly.
    /// Whether it is (Gram, mean-cov); the three below throw otherwise.
    virtual bool additive() const { return false; }
    /// The sums over the pixels of `features` weighted by `mask` (as in
    /// loss()), flat: the sum of the weights first, then the statistic's own
    /// sums. Differentiable in the features.
    virtual torch::Tensor sums(const torch::Tensor& features, const torch::Tensor& mask) const;
    /// loss() of the features whose sums, added over tiles, are `sums`
    /// (equal to it up to rounding). Differentiable in the sums.
    virtual torch::Tensor loss_of_sums(const torch::Tensor& sums, const torch::Tensor& target, double normaliser) const;
    /// target() of a mixture from each sample's sums and its blend weight.
    virtual torch::Tensor target_of_sums(const std::vector<std::pair<torch::Tensor, double>>& parts) const;
};

/// ||G - A||^2 / ||A||^2 with G = F F^T / HW (or, in a region, the
/// mask-weighted F diag(m) F^T / sum(m)).
class GramStatistic final : public StyleStatistic {
public:
    const char* name() const override { return "gram"; }
    torch::Tensor target(const std::vector<StyleSample>& samples) const override;
    double normaliser(const torch::Tensor& target) const override;
    torch::Tensor loss(const torch::Tensor& features, const torch::Tensor& mask, const torch::Tensor& target,
                       double normaliser, uint64_t draw) const override;
    bool additive() const override { return true; }
    torch::Tensor sums(const torch::Tensor& features, const torch::Tensor& mask) const override;
    torch::Tensor loss_of_sums(const torch::Tensor& sums, const torch::Tensor& target, double normaliser) const override;
    torch::Tensor target_of_sums(const std::vector<std::pair<torch::Tensor, double>>& parts) const override;
};

/// (||mu - mu_s||^2 + ||S - S_s||^2) / (||mu_s||^2 + ||S_s||^2) with mu the
/// features' (mask-weighted) mean and S their covariance. The target packs
/// mu as row 0 above S: (C+1, C).
class MeanCovStatistic final : public StyleStatistic {
public:
    const char* name() const override { return "mean-cov"; }
    torch::Tensor target(const std::vector<StyleSample>& samples) const override;
    double normaliser(const torch::Tensor& target) const override;
    torch::Tensor loss(const torch::Tensor& features, const torch::Tensor& mask, const torch::Tensor& target,
                       double normaliser, uint64_t draw) const override;
    bool additive() const override { return true; }
    torch::Tensor sums(const torch::Tensor& features, const torch::Tensor& mask) const override;
    torch::Tensor loss_of_sums(const torch::Tensor& sums, const torch::Tensor& target, double normaliser) const override;
    torch::Tensor target_of_sums(const std::vector<std::pair<torch::Tensor, double>>& parts) const override;
};

/// Heitz et al. 2021: C random unit directions (new ones for every draw),
/// the features and the style's projected on each, both sorted, and the mean
/// squared difference of the sorted values (the style's resampled to the
/// features' count by linear interpolation of its quantiles), divided by the
/// style's mean squared projection. The target is a pool of the style's
/// feature vectors, (C, M) with M at most kMaxSamples. In a region, the
/// pixels whose mask is at least 1/2 take part.
class SlicedWassersteinStatistic final : public StyleStatistic {
public:
    const char* name() const override { return "sliced-wasserstein"; }
    torch::Tensor target(const std::vector<StyleSample>& samples) const override;
    double normaliser(const torch::Tensor& target) const override;
    torch::Tensor loss(const torch::Tensor& features, const torch::Tensor& mask, const torch::Tensor& target,
                       double normaliser, uint64_t draw) const override;
    bool stochastic() const override { return true; }
};

/// Risser et al. 2017's histogram loss: each channel's values sorted and
/// matched with the style's quantiles (the same as remapping the features
/// through the style's histogram and penalising the distance), divided by
/// the style's mean square. The target is the pool of style feature vectors
/// sorted per channel, (C, M).
class HistogramStatistic final : public StyleStatistic {
public:
    const char* name() const override { return "histogram"; }
    torch::Tensor target(const std::vector<StyleSample>& samples) const override;
    double normaliser(const torch::Tensor& target) const override;
    torch::Tensor loss(const torch::Tensor& features, const torch::Tensor& mask, const torch::Tensor& target,
                       double normaliser, uint64_t draw) const override;
};

/// Largest pool of style feature vectors a sorting loss keeps per layer and
/// region (larger pools are subsampled evenly).
constexpr int64_t kMaxSamples = 65536;

/// The statistics a run's style loss sums at every style layer: one, or for
/// `histogram` the Gram matrix and the histograms.
std::vector<std::shared_ptr<const StyleStatistic>> make_style_statistics(StyleLossKind kind);

/// A (1,1,H,W) mask at image resolution averaged down to a (1,C,h,w)
/// feature map's resolution (the guidance channels of Gatys et al. 2017).
torch::Tensor mask_at(const torch::Tensor& mask, const torch::Tensor& features);

/// `sorted` (P, M), each row ascending, resampled to (P, n): the values at
/// quantiles (j + 1/2) / n by linear interpolation.
torch::Tensor resample_sorted(const torch::Tensor& sorted, int64_t n);

}  // namespace stylize
