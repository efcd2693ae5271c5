#pragma once
// Exact tiled evaluation (docs/guides/tiles-and-memory.md). Every feature
// term is a function of sums over its map's pixels (the Gram matrix, the
// mean and covariance, the content error), and each pixel's features depend
// only on a bounded neighbourhood of the input. So:
//  1. a no-gradient pass over the tiles, each run with a halo wide enough
//     that its own part's features are the whole image's, adds up every
//     term's sums; the losses and their gradients with respect to the sums
//     follow (small tensors);
//  2. a second pass runs each tile again with autograd and back-propagates
//     the sums' gradient (a linear function of the tile's features' sums),
//     adding the tile's input gradient, halo included, into the image's.
// With the exact halo the loss and gradient are the untiled ones up to
// rounding. The image, its gradient and the optimiser state stay whole.
// Internal to the engine.
#include <memory>

#include "run/evaluator.hpp"

namespace stylize {

/// Throws InvalidArgument when a term is not a sum over pixels.
std::unique_ptr<Evaluator> make_tiled_evaluator(const FeatureExtractor& model, FeatureLosses terms,
                                                ImageLosses image_terms, int64_t height, int64_t width, int64_t tile,
                                                int64_t halo);

}  // namespace stylize
