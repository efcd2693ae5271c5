#pragma once
// Limited-memory BFGS on a box (the image's [0,1]), with a backtracking line
// search: a projected quasi-Newton method in the spirit of L-BFGS-B (Byrd,
// Lu, Nocedal and Zhu 1995) and of Kim, Sra and Dhillon's projected
// quasi-Newton (2010), kept small enough to run on tensors of any device.
//
// Every point it asks for lies in the box, so the image the run returns is
// the one it optimised (no clamp afterwards), and a point is accepted only
// if its loss is below the accepted one's (Armijo's condition), so the loss
// of the returned image never rises. Each evaluation, accepted or not, is
// one call, so a run of N evaluations is exactly N evaluations.
//
//   judge(x, f, g)  the loss and gradient at the point last proposed (or
//                   the start): accept it or reject it;
//   propose(x)      move x in place to the next point to evaluate.
//
// A step:
//   - the binding set: pixels at a bound whose negative gradient points out
//     of the box are held fixed; the others are free;
//   - the direction is the two-loop recursion's -H g on the free pixels
//     (the steepest descent when that is no descent direction);
//   - the trial point is the projection of x + t d onto the box, t = 1
//     (the very first step is scaled by min(1, 1/|g|_1), as torch.optim.LBFGS);
//   - it is accepted when f(trial) <= f(x) + 1e-4 g.(trial - x); else t
//     shrinks by quadratic interpolation (to between 0.1 and 0.5 of itself)
//     and the trial is projected again;
//   - the curvature pair (s, y) of an accepted step is stored only when
//     s.y > 1e-8 |s| |y| (a pair with less curvature would make H nearly
//     singular or indefinite, and stall every later step).
// Dot products are fixed-order sums (fixed_order_sum.hpp): the same path for
// any thread count. History lives in preallocated buffers.
#include <torch/types.h>

#include <vector>

namespace stylize {

class LBFGS {
public:
    /// `numel`: size of the flat parameter; `history`: correction pairs kept;
    /// [lower, upper]: the box (use +-infinity for an unbounded problem).
    /// `monotone` = false for a loss that draws at random per evaluation:
    /// losses of two evaluations are then not comparable, so every finite
    /// trial is accepted (still inside the box; the curvature check stays).
    LBFGS(int64_t numel, int history, const torch::TensorOptions& options, double lower = 0.0, double upper = 1.0,
          bool monotone = true);

    /// The loss `f` and gradient `grad` at `x` (flat), the point last
    /// proposed (or the start). Returns true when `x` is accepted: it is then
    /// the best point so far. A non-finite `f` is rejected (never on the
    /// first call: there is nothing to fall back to).
    bool judge(const torch::Tensor& x, double f, const torch::Tensor& grad);

    /// Moves `x` in place to the next point to evaluate, inside the box.
    void propose(torch::Tensor& x);

    /// Correction pairs held.
    int pairs() const { return count_; }
    /// Evaluations rejected so far, and pairs not stored for too little curvature.
    int rejected() const { return rejected_; }
    int skipped_pairs() const { return skipped_pairs_; }
    /// Times the history was dropped (no descent direction, or a step too small).
    int restarts() const { return restarts_; }
    /// The accepted loss (the lowest seen).
    double best_loss() const { return f_; }
    /// Bytes held by the history buffers.
    double state_bytes() const;

private:
    void new_direction();
    void restart();

    int history_;
    double lower_, upper_;
    bool monotone_;
    bool have_point_ = false, last_accepted_ = false, first_step_ = true;
    int count_ = 0, head_ = 0;   // ring buffer of (s, y) pairs
    int rejected_ = 0, skipped_pairs_ = 0, restarts_ = 0, rejected_in_row_ = 0;
    torch::Tensor s_, y_;        // (history, numel)
    std::vector<double> rho_;
    torch::Tensor x_, g_;        // the accepted point and its gradient
    torch::Tensor direction_, q_, free_;
    torch::Tensor b1_, b2_, b3_;  // masks for the binding set
    double f_ = 0, step_ = 1, h_diag_ = 1;
    double last_gs_ = 0;         // g . (trial - x) of the pending trial
};

}  // namespace stylize
