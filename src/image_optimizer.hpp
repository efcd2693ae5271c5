#pragma once
// The optimisers of the image, behind one interface: given the gradient at
// the current image, move it. Internal to the engine.
#include <memory>

#include <torch/types.h>

#include "stylize/options.hpp"

namespace stylize {

class ImageOptimizer {
public:
    virtual ~ImageOptimizer() = default;
    /// Called after every finite evaluation with the image it evaluated.
    virtual void observe(const torch::Tensor& image) { (void)image; }
    /// Moves `x` (the leaf being optimised, x.grad() == grad) in place.
    virtual void step(torch::Tensor& x, const torch::Tensor& grad) = 0;
    /// What the scale returns, given the last evaluated finite image.
    virtual torch::Tensor output(const torch::Tensor& last_evaluated) const { return last_evaluated; }
};

/// L-BFGS or Adam (with iterate averaging when options.ema_decay > 0) for `x`.
std::unique_ptr<ImageOptimizer> make_image_optimizer(const StylizeOptions& options, const torch::Tensor& x);

}  // namespace stylize
