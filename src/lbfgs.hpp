#pragma once
// Limited-memory BFGS without line search, as the Gatys tools use it
// (torch.optim.LBFGS with lr=1, no line_search_fn): one loss evaluation per
// step, so a run of N evaluations is exactly N calls to the loss. History is
// kept in preallocated flat buffers; a step allocates nothing of image size.
#include <torch/types.h>

namespace stylize {

class LBFGS {
public:
    /// `numel`: size of the flat parameter; `history`: correction pairs kept.
    LBFGS(int64_t numel, int history, const torch::TensorOptions& options, double learning_rate = 1.0);

    /// Given the gradient `grad` at the current point `x` (both flat), moves `x`
    /// in place along the quasi-Newton direction.
    void step(torch::Tensor& x, const torch::Tensor& grad);

    int pairs() const { return count_; }
    /// Bytes held by the history buffers.
    double state_bytes() const;

private:
    int history_;
    double lr_;
    bool first_ = true;
    int count_ = 0, head_ = 0;  // ring buffer of (s, y) pairs
    torch::Tensor s_, y_;       // (history, numel)
    std::vector<double> rho_;
    torch::Tensor prev_grad_, direction_, q_;
    double step_size_ = 1, h_diag_ = 1;
};

}  // namespace stylize
