#include "image_optimizer.hpp"

#include <cmath>

#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include "lbfgs.hpp"

namespace stylize {
namespace {

class LbfgsOptimizer final : public ImageOptimizer {
public:
    LbfgsOptimizer(const torch::Tensor& x, int history)
        : lbfgs_(x.numel(), history, x.options().requires_grad(false)) {}

    void step(torch::Tensor& x, const torch::Tensor& grad) override {
        auto flat = x.detach().view({-1});
        lbfgs_.step(flat, grad.reshape({-1}));
    }

private:
    LBFGS lbfgs_;
};

// torch's Adam on the image; optionally a bias-corrected exponential moving
// average of the iterates as the output.
class AdamOptimizer final : public ImageOptimizer {
public:
    AdamOptimizer(const torch::Tensor& x, double learning_rate, double ema_decay)
        : adam_(std::vector<torch::Tensor>{x}, torch::optim::AdamOptions(learning_rate)), decay_(ema_decay) {}

    void observe(const torch::Tensor& image) override {
        if (decay_ <= 0) return;
        ++count_;
        if (!ema_.defined()) ema_ = at::zeros_like(image);
        ema_.mul_(decay_).add_(image, 1 - decay_);
    }

    void step(torch::Tensor&, const torch::Tensor&) override { adam_.step(); }

    torch::Tensor output(const torch::Tensor& last_evaluated) const override {
        return count_ > 0 ? ema_ / (1 - std::pow(decay_, count_)) : last_evaluated;
    }

private:
    torch::optim::Adam adam_;
    double decay_;
    torch::Tensor ema_;
    int count_ = 0;
};

}  // namespace

std::unique_ptr<ImageOptimizer> make_image_optimizer(const StylizeOptions& opt, const torch::Tensor& x) {
    if (opt.optimizer == OptimizerKind::LBFGS) return std::make_unique<LbfgsOptimizer>(x, opt.lbfgs_history);
    return std::make_unique<AdamOptimizer>(x, opt.learning_rate, opt.ema_decay);
}

}  // namespace stylize
