#pragma once
// The fixed targets of a run: style statistics (from the style images, once
// per style set and size, reusable across contents) and content features.
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "stylize/model.hpp"
#include "stylize/options.hpp"

namespace stylize {

/// A style image and its blend weight (relative; weights are normalised).
struct StyleImage {
    torch::Tensor image;  ///< (1,3,H,W) fp32 RGB in [0,1]
    double weight = 1.0;
};

struct SpatialControl;

/// Precomputed targets for one style set at one size: reusable across contents.
struct StyleTargets {
    /// [statistic][region][style layer]: the blended target of each statistic
    /// of options.style_loss (one, two for histogram), each region (one
    /// without spatial control) and each style layer. Undefined where no
    /// style image has pixels in the region.
    std::vector<std::vector<std::vector<torch::Tensor>>> statistics;
    int64_t size = 0;  ///< long side of the image they were made for
};

/// Computes blended style targets for an output whose long side is
/// `long_side`, after optional colour matching to `content`. With `spatial`,
/// one target per region from the style images' region masks.
StyleTargets compute_style_targets(const FeatureExtractor& model, const std::vector<StyleImage>& styles,
                                   const torch::Tensor& content, int64_t long_side, const StylizeOptions& options,
                                   const SpatialControl* spatial = nullptr);

/// The image as the network sees it under the colour mode (luminance only,
/// or as it is).
torch::Tensor colour_view(const torch::Tensor& image, ColorMode mode);

}  // namespace stylize
