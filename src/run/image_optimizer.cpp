#include "run/image_optimizer.hpp"

#include <cmath>

#include <ATen/ATen.h>
#include <torch/optim/adam.h>

#include "run/lbfgs.hpp"

namespace stylize {
namespace {

class LbfgsOptimizer final : public ImageOptimizer {
public:
    LbfgsOptimizer(const torch::Tensor& x, int history, bool monotone)
        : lbfgs_(x.numel(), history, x.options().requires_grad(false), 0.0, 1.0, monotone) {}

    bool judge(const torch::Tensor& x, double loss, const torch::Tensor& grad) override {
        return lbfgs_.judge(x.detach().view({-1}), loss, grad.reshape({-1}));
    }

    void propose(torch::Tensor& x) override {
        auto flat = x.detach().view({-1});
        lbfgs_.propose(flat);
    }

    bool can_reject() const override { return true; }
    int rejected() const override { return lbfgs_.rejected(); }

private:
    LBFGS lbfgs_;
};

// torch's Adam on the image, clamped to [0,1] after every step; optionally a
// bias-corrected exponential moving average of the iterates as the output
// (an average of images in [0,1] stays in it).
class AdamOptimizer final : public ImageOptimizer {
public:
    AdamOptimizer(const torch::Tensor& x, double learning_rate, double ema_decay)
        : adam_(std::vector<torch::Tensor>{x}, torch::optim::AdamOptions(learning_rate)), decay_(ema_decay) {}

    bool judge(const torch::Tensor&, double loss, const torch::Tensor&) override { return std::isfinite(loss); }

    void observe(const torch::Tensor& image) override {
        if (decay_ <= 0) return;
        ++count_;
        if (!ema_.defined()) ema_ = at::zeros_like(image);
        ema_.mul_(decay_).add_(image, 1 - decay_);
    }

    void propose(torch::Tensor& x) override {
        adam_.step();
        x.detach().clamp_(0, 1);
    }

    torch::Tensor output(const torch::Tensor& last_accepted) const override {
        return count_ > 0 ? ema_ / (1 - std::pow(decay_, count_)) : last_accepted;
    }

private:
    torch::optim::Adam adam_;
    double decay_;
    torch::Tensor ema_;
    int count_ = 0;
};

}  // namespace

std::unique_ptr<ImageOptimizer> make_image_optimizer(const StylizeOptions& opt, const torch::Tensor& x,
                                                     bool stochastic) {
    if (opt.optimizer == OptimizerKind::LBFGS)
        return std::make_unique<LbfgsOptimizer>(x, opt.lbfgs_history, !stochastic);
    return std::make_unique<AdamOptimizer>(x, opt.learning_rate, opt.ema_decay);
}

}  // namespace stylize
