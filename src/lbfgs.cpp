#include "lbfgs.hpp"

#include <algorithm>
#include <vector>

#include <ATen/ATen.h>

#include "fixed_order_sum.hpp"

namespace stylize {

LBFGS::LBFGS(int64_t numel, int history, const torch::TensorOptions& options, double learning_rate)
    : history_(history), lr_(learning_rate), rho_(static_cast<size_t>(history), 0.0) {
    s_ = at::zeros({history, numel}, options);
    y_ = at::zeros({history, numel}, options);
    prev_grad_ = at::zeros({numel}, options);
    direction_ = at::zeros({numel}, options);
    q_ = at::zeros({numel}, options);
}

double LBFGS::state_bytes() const {
    return static_cast<double>((s_.numel() + y_.numel() + 3 * q_.numel()) * s_.element_size());
}

void LBFGS::step(torch::Tensor& x, const torch::Tensor& grad) {
    if (first_) {
        first_ = false;
        // As torch.optim.LBFGS: the first step is scaled by min(1, 1/|g|_1).
        step_size_ = std::min(1.0, 1.0 / std::max(1e-30, fixed_order_sum(grad.abs()).item<double>())) * lr_;
        direction_.copy_(grad).neg_();
    } else {
        // New correction pair: y = g - g_prev (into the y slot), s = t * d.
        auto y = y_[head_];
        auto s = s_[head_];
        at::sub_out(y, grad, prev_grad_);
        at::mul_out(s, direction_, step_size_);
        const double ys = fixed_order_dot(y, s);
        if (ys > 1e-10) {
            rho_[static_cast<size_t>(head_)] = 1.0 / ys;
            h_diag_ = ys / fixed_order_dot(y, y);
            head_ = (head_ + 1) % history_;
            count_ = std::min(count_ + 1, history_);
        }
        // Two-loop recursion, newest pair first.
        std::vector<double> alpha(static_cast<size_t>(count_));
        q_.copy_(grad).neg_();
        for (int k = 0; k < count_; ++k) {
            const int i = (head_ - 1 - k + history_) % history_;
            alpha[static_cast<size_t>(k)] = fixed_order_dot(s_[i], q_) * rho_[static_cast<size_t>(i)];
            q_.add_(y_[i], -alpha[static_cast<size_t>(k)]);
        }
        at::mul_out(direction_, q_, h_diag_);
        for (int k = count_ - 1; k >= 0; --k) {
            const int i = (head_ - 1 - k + history_) % history_;
            const double beta = fixed_order_dot(y_[i], direction_) * rho_[static_cast<size_t>(i)];
            direction_.add_(s_[i], alpha[static_cast<size_t>(k)] - beta);
        }
        step_size_ = lr_;
    }
    prev_grad_.copy_(grad);
    x.add_(direction_, step_size_);
}

}  // namespace stylize
