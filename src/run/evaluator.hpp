#pragma once
// One evaluation: the loss terms at an image and the gradient of their sum
// with respect to it. How the network is walked is a strategy behind this
// interface (everything kept at once, or checkpointed segments; tiles later);
// the optimisation loop does not know which one runs. Internal to the engine.
#include <memory>

#include <torch/types.h>

#include "loss/loss_terms.hpp"
#include "stylize/engine.hpp"

namespace stylize {

class Evaluator {
public:
    virtual ~Evaluator() = default;
    /// Losses at `x` (a leaf that requires grad, fp32 on the model's device);
    /// adds the gradient of their total into x.grad().
    virtual LossTerms evaluate(const torch::Tensor& x) = 0;
};

/// The strategy for the model's layers, the terms and the image size:
/// tiled when `tile` > 0 and the image is larger than a tile
/// (tiled_evaluator.hpp), checkpointed when `checkpoint` is set and the plan
/// has more than one segment, plain otherwise.
std::unique_ptr<Evaluator> make_evaluator(const FeatureExtractor& model, FeatureLosses terms,
                                          ImageLosses image_terms, bool checkpoint, int64_t height, int64_t width,
                                          int64_t tile = 0, int64_t halo = 0);

/// What every strategy ends with: the image terms (TV, temporal) at `x`,
/// their gradient added into x.grad(), and the sums read back.
LossTerms finish_evaluation(const ImageLosses& image_terms, const torch::Tensor& x, double content, double style);

}  // namespace stylize
