#pragma once
// The loss terms of one scale from the run's options and its targets: the
// one place that turns layer lists and weights into terms, for the
// optimisation (engine.cpp) and for fast mode's training
// (fast_training.cpp). Internal to the library.
#include <vector>

#include <torch/types.h>

#include "loss/loss_terms.hpp"
#include "stylize/model.hpp"
#include "stylize/options.hpp"
#include "stylize/targets.hpp"

namespace stylize {

/// Content layers first, then style layers (for each statistic, region and
/// layer). `content_targets` holds one map per content layer; `regions` is
/// (R,1,h,w) at the scale's size with spatial control, undefined without: a
/// region's terms are weighted by its share of the image, so a per-pixel
/// gradient is as strong as without masks.
FeatureLosses make_terms(const FeatureExtractor& model, const StylizeOptions& opt,
                         const std::vector<torch::Tensor>& content_targets, const StyleTargets& style,
                         const torch::Tensor& regions);

}  // namespace stylize
