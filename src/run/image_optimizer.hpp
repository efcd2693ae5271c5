#pragma once
// The optimisers of the image, behind one interface. Every image they ask
// for lies in [0,1], so the image written is the image optimised. Internal
// to the engine.
//
//   judge(x, loss, grad)  the image just evaluated: is it the optimiser's
//                         current point (for L-BFGS, the best so far)?
//   propose(x)            move x in place to the next image to evaluate.
#include <memory>

#include <torch/types.h>

#include "stylize/options.hpp"

namespace stylize {

class ImageOptimizer {
public:
    virtual ~ImageOptimizer() = default;
    /// `x` was evaluated to `loss` (possibly non-finite) with gradient
    /// `grad`. Returns true when it is accepted as the current point.
    virtual bool judge(const torch::Tensor& x, double loss, const torch::Tensor& grad) = 0;
    /// Moves `x` (the leaf being optimised, x.grad() == the gradient at the
    /// image last judged) in place to the next image to evaluate.
    virtual void propose(torch::Tensor& x) = 0;
    /// True when a rejected (even non-finite) evaluation is stepped back
    /// from instead of ending the run.
    virtual bool can_reject() const { return false; }
    /// Evaluations rejected so far.
    virtual int rejected() const { return 0; }
    /// Called with every accepted image.
    virtual void observe(const torch::Tensor& image) { (void)image; }
    /// What the scale returns, given the last accepted image.
    virtual torch::Tensor output(const torch::Tensor& last_accepted) const { return last_accepted; }
};

/// Bounded L-BFGS (lbfgs.hpp) or Adam clamped to [0,1] after every step (with
/// iterate averaging when options.ema_decay > 0) for `x`. `stochastic`: the
/// loss draws at random per evaluation (StyleStatistic::stochastic), so
/// L-BFGS accepts every finite step instead of searching along the line.
std::unique_ptr<ImageOptimizer> make_image_optimizer(const StylizeOptions& options, const torch::Tensor& x,
                                                     bool stochastic = false);

}  // namespace stylize
