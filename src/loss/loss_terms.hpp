#pragma once
// The loss terms of one scale: each knows the layer it reads and its target,
// and returns its weighted loss for the features of one evaluation. The
// evaluator sums a list of them, whatever they are (content, a style
// statistic, later masked terms). Terms of the image itself (TV, the
// temporal term of a video frame) are ImageLosses beside them. Internal to
// the engine.
#include <memory>
#include <vector>

#include <torch/types.h>

#include "loss/style_statistic.hpp"
#include "tiles/tile_plan.hpp"

namespace stylize {

enum class TermKind { Content, Style, TV, Temporal };

class FeatureLoss {
public:
    virtual ~FeatureLoss() = default;
    virtual TermKind kind() const = 0;
    /// Index in FeatureExtractor::layers() of the activation it reads.
    virtual size_t layer() const = 0;
    /// The weighted loss of that activation; differentiable.
    virtual torch::Tensor operator()(const torch::Tensor& features) const = 0;

    // Tiled evaluation (tiled_evaluator.hpp): a term that is a function of
    // sums over its map's pixels is computed from the tiles' sums.
    /// Whether this term is; the two below throw otherwise.
    virtual bool additive() const { return false; }
    /// The sums of the part `in_full` of the whole map (full_height x
    /// full_width), whose features are `part`, flat. Differentiable in them.
    virtual torch::Tensor partial_sums(const torch::Tensor& part, const Window& in_full, int64_t full_height,
                                       int64_t full_width) const;
    /// The weighted loss of the map whose sums, added over its parts, are
    /// `sums`: operator() of the whole map up to rounding. Differentiable in
    /// the sums.
    virtual torch::Tensor loss_of_sums(const torch::Tensor& sums) const;
};

using FeatureLosses = std::vector<std::unique_ptr<const FeatureLoss>>;

/// weight * ||F - P||^2 / ||P||^2.
class ContentLoss final : public FeatureLoss {
public:
    ContentLoss(size_t layer, torch::Tensor target, double weight, bool normalize_gradients);
    TermKind kind() const override { return TermKind::Content; }
    size_t layer() const override { return layer_; }
    torch::Tensor operator()(const torch::Tensor& features) const override;
    bool additive() const override { return !normalize_gradients_; }
    torch::Tensor partial_sums(const torch::Tensor& part, const Window& in_full, int64_t full_height,
                               int64_t full_width) const override;
    torch::Tensor loss_of_sums(const torch::Tensor& sums) const override;

private:
    size_t layer_;
    torch::Tensor target_;
    double norm_, weight_;
    bool normalize_gradients_;
};

/// weight * the statistic's loss against its target, over the pixels of
/// `region` ((1,1,H,W) at the image's resolution, averaged down to the
/// layer's; undefined = every pixel). `seed` seeds the draws of a random
/// statistic: the n-th evaluation draws from seed and n.
class StyleLoss final : public FeatureLoss {
public:
    StyleLoss(size_t layer, std::shared_ptr<const StyleStatistic> statistic, torch::Tensor target, double weight,
              bool normalize_gradients, torch::Tensor region = {}, uint64_t seed = 0);
    TermKind kind() const override { return TermKind::Style; }
    size_t layer() const override { return layer_; }
    torch::Tensor operator()(const torch::Tensor& features) const override;
    bool additive() const override { return !normalize_gradients_ && statistic_->additive(); }
    torch::Tensor partial_sums(const torch::Tensor& part, const Window& in_full, int64_t full_height,
                               int64_t full_width) const override;
    torch::Tensor loss_of_sums(const torch::Tensor& sums) const override;

private:
    // The region averaged down to a full_height x full_width map, kept for
    // the next tile.
    const torch::Tensor& region_at(int64_t full_height, int64_t full_width) const;

    size_t layer_;
    std::shared_ptr<const StyleStatistic> statistic_;
    torch::Tensor target_;
    double norm_, weight_;
    bool normalize_gradients_;
    torch::Tensor region_;
    uint64_t seed_;
    mutable uint64_t evaluations_ = 0;  // the evaluator calls each term once per evaluation
    mutable torch::Tensor region_cache_;
};

/// A term of the image itself rather than of its features.
class ImageLoss {
public:
    virtual ~ImageLoss() = default;
    virtual TermKind kind() const = 0;
    /// The weighted loss of the (1,3,H,W) image; differentiable.
    virtual torch::Tensor operator()(const torch::Tensor& image) const = 0;
};

using ImageLosses = std::vector<std::unique_ptr<const ImageLoss>>;

/// weight * total_variation(image).
class TVLoss final : public ImageLoss {
public:
    explicit TVLoss(double weight) : weight_(weight) {}
    TermKind kind() const override { return TermKind::TV; }
    torch::Tensor operator()(const torch::Tensor& image) const override;

private:
    double weight_;
};

/// weight * temporal_loss(image, warped, mask) (temporal.hpp).
class TemporalLoss final : public ImageLoss {
public:
    TemporalLoss(torch::Tensor warped, torch::Tensor mask, double weight);
    TermKind kind() const override { return TermKind::Temporal; }
    torch::Tensor operator()(const torch::Tensor& image) const override;

private:
    torch::Tensor warped_, mask_;
    double weight_;
};

}  // namespace stylize
