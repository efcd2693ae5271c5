#pragma once
// How a style layer's features are summarised and compared: the Gram matrix
// today, other statistics (mean and covariance, sliced Wasserstein,
// histograms, masked variants) behind the same interface later. Internal to
// the engine.
#include <memory>
#include <vector>

#include <torch/types.h>

namespace stylize {

class StyleStatistic {
public:
    virtual ~StyleStatistic() = default;
    virtual const char* name() const = 0;
    /// The statistic of a (1,C,H,W) feature map; differentiable.
    virtual torch::Tensor compute(const torch::Tensor& features) const = 0;
    /// The target of a style blend from each style image's statistic and its
    /// normalised weight. Gram matrices blend linearly.
    virtual torch::Tensor blend(const std::vector<torch::Tensor>& statistics,
                                const std::vector<double>& weights) const;
    /// Once per target: what loss() divides by.
    virtual double normaliser(const torch::Tensor& target) const = 0;
    /// Loss of `features` against `target`: 0 at the target, about 1 for an
    /// unrelated image.
    virtual torch::Tensor loss(const torch::Tensor& features, const torch::Tensor& target,
                               double normaliser) const = 0;
};

/// ||G - A||^2 / ||A||^2 with G the Gram matrix F F^T / HW.
class GramStatistic final : public StyleStatistic {
public:
    const char* name() const override { return "gram"; }
    torch::Tensor compute(const torch::Tensor& features) const override;
    double normaliser(const torch::Tensor& target) const override;
    torch::Tensor loss(const torch::Tensor& features, const torch::Tensor& target, double normaliser) const override;
};

/// The statistic a run uses (one kind today).
std::shared_ptr<const StyleStatistic> make_style_statistic();

}  // namespace stylize
