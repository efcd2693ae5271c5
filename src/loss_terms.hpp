#pragma once
// The loss terms of one scale: each knows the layer it reads and its target,
// and returns its weighted loss for the features of one evaluation. The
// evaluator sums a list of them, whatever they are (content, a style
// statistic, later masked or temporal terms). Internal to the engine.
#include <memory>
#include <vector>

#include <torch/types.h>

#include "style_statistic.hpp"

namespace stylize {

enum class TermKind { Content, Style };

class FeatureLoss {
public:
    virtual ~FeatureLoss() = default;
    virtual TermKind kind() const = 0;
    /// Index in FeatureExtractor::layers() of the activation it reads.
    virtual size_t layer() const = 0;
    /// The weighted loss of that activation; differentiable.
    virtual torch::Tensor operator()(const torch::Tensor& features) const = 0;
};

using FeatureLosses = std::vector<std::unique_ptr<const FeatureLoss>>;

/// weight * ||F - P||^2 / ||P||^2.
class ContentLoss final : public FeatureLoss {
public:
    ContentLoss(size_t layer, torch::Tensor target, double weight, bool normalize_gradients);
    TermKind kind() const override { return TermKind::Content; }
    size_t layer() const override { return layer_; }
    torch::Tensor operator()(const torch::Tensor& features) const override;

private:
    size_t layer_;
    torch::Tensor target_;
    double norm_, weight_;
    bool normalize_gradients_;
};

/// weight * the statistic's loss against its target.
class StyleLoss final : public FeatureLoss {
public:
    StyleLoss(size_t layer, std::shared_ptr<const StyleStatistic> statistic, torch::Tensor target, double weight,
              bool normalize_gradients);
    TermKind kind() const override { return TermKind::Style; }
    size_t layer() const override { return layer_; }
    torch::Tensor operator()(const torch::Tensor& features) const override;

private:
    size_t layer_;
    std::shared_ptr<const StyleStatistic> statistic_;
    torch::Tensor target_;
    double norm_, weight_;
    bool normalize_gradients_;
};

}  // namespace stylize
