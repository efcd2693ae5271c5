#include "run/lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>

#include "loss/fixed_order_sum.hpp"

namespace stylize {
namespace {
constexpr double kArmijo = 1e-4;          // sufficient decrease
constexpr double kCurvature = 1e-8;       // least cos(s, y) of a stored pair
constexpr int kMaxRejectedInRow = 20;     // then drop the history and start again
constexpr double kMinStep = 1e-10;
}  // namespace

LBFGS::LBFGS(int64_t numel, int history, const torch::TensorOptions& options, double lower, double upper,
             bool monotone)
    : history_(history), lower_(lower), upper_(upper), monotone_(monotone), rho_(static_cast<size_t>(history), 0.0) {
    s_ = at::zeros({history, numel}, options);
    y_ = at::zeros({history, numel}, options);
    x_ = at::zeros({numel}, options);
    g_ = at::zeros({numel}, options);
    direction_ = at::zeros({numel}, options);
    q_ = at::zeros({numel}, options);
    free_ = at::zeros({numel}, options);
    for (auto* b : {&b1_, &b2_, &b3_}) *b = at::zeros({numel}, options.dtype(torch::kBool));
}

double LBFGS::state_bytes() const {
    return static_cast<double>((s_.numel() + y_.numel() + 5 * q_.numel()) * s_.element_size() + 3 * q_.numel());
}

bool LBFGS::judge(const torch::Tensor& x, double f, const torch::Tensor& grad) {
    if (!have_point_) {
        if (!std::isfinite(f)) return false;
        x_.copy_(x);
        g_.copy_(grad);
        f_ = f;
        have_point_ = last_accepted_ = true;
        return true;
    }
    if (!std::isfinite(f) || (monotone_ && f > f_ + kArmijo * last_gs_)) {
        ++rejected_;
        ++rejected_in_row_;
        last_accepted_ = false;
        // Minimiser of the quadratic through phi(0) = f_, phi'(0) = g.s and
        // phi(1) = f along the projected step, kept within [0.1, 0.5].
        double shrink = 0.1;
        const double denom = 2 * (f - f_ - last_gs_);
        if (std::isfinite(f) && denom > 0) shrink = -last_gs_ / denom;
        step_ *= std::clamp(shrink, 0.1, 0.5);
        return false;
    }
    // Accepted: the curvature pair of the step actually taken (after the projection).
    auto s = s_[head_];
    auto y = y_[head_];
    at::sub_out(s, x, x_);
    at::sub_out(y, grad, g_);
    const double ys = fixed_order_dot(y, s);
    const double ss = fixed_order_dot(s, s), yy = fixed_order_dot(y, y);
    if (ys > kCurvature * std::sqrt(ss * yy) && ys > 0) {
        rho_[static_cast<size_t>(head_)] = 1.0 / ys;
        h_diag_ = ys / yy;
        head_ = (head_ + 1) % history_;
        count_ = std::min(count_ + 1, history_);
    } else {
        ++skipped_pairs_;
        // The slot just written held the oldest pair when the history was full.
        if (count_ == history_) --count_;
    }
    x_.copy_(x);
    g_.copy_(grad);
    f_ = f;
    last_accepted_ = true;
    rejected_in_row_ = 0;
    return true;
}

void LBFGS::restart() {
    count_ = 0;
    head_ = 0;
    ++restarts_;
}

void LBFGS::new_direction() {
    // Free pixels: not at a bound that the negative gradient points out of.
    at::le_out(b1_, x_, lower_);
    at::gt_out(b2_, g_, 0);
    b1_.logical_and_(b2_);
    at::ge_out(b2_, x_, upper_);
    at::lt_out(b3_, g_, 0);
    b2_.logical_and_(b3_);
    b1_.logical_or_(b2_);
    at::logical_not_out(b2_, b1_);
    free_.copy_(b2_);

    for (int attempt = 0; attempt < 2; ++attempt) {
        // Two-loop recursion on the free pixels, newest pair first.
        std::vector<double> alpha(static_cast<size_t>(count_));
        at::mul_out(q_, g_, free_);
        q_.neg_();
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
        direction_.mul_(free_);
        if (fixed_order_dot(g_, direction_) < 0 || count_ == 0) break;
        restart();  // no descent direction from this history: steepest descent
    }
    if (first_step_) {
        // As torch.optim.LBFGS: the first step is scaled by min(1, 1/|g|_1).
        first_step_ = false;
        step_ = std::min(1.0, 1.0 / std::max(1e-30, fixed_order_sum(direction_.abs()).item<double>()));
    } else {
        step_ = 1.0;
    }
}

void LBFGS::propose(torch::Tensor& x) {
    if (last_accepted_) {
        new_direction();
    } else if (rejected_in_row_ >= kMaxRejectedInRow || step_ < kMinStep) {
        restart();
        rejected_in_row_ = 0;
        new_direction();
    }
    at::add_out(x, x_, direction_, step_);
    x.clamp_(lower_, upper_);
    at::sub_out(q_, x, x_);
    last_gs_ = fixed_order_dot(g_, q_);
}

}  // namespace stylize
