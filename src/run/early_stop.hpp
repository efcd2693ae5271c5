#pragma once
// Early stopping on a stalled loss. Internal to the engine.
#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace stylize {

class EarlyStop {
public:
    EarlyStop(double tolerance, int window) : tol_(tolerance), window_(window) {}

    /// A reason when the best loss improved by less than the tolerance
    /// (relative) over the window; nothing otherwise or when off (tolerance 0).
    std::optional<std::string> update(double loss) {
        best_ = history_.empty() ? loss : std::min(best_, loss);
        history_.push_back(best_);
        if (tol_ <= 0 || static_cast<int>(history_.size()) <= window_) return std::nullopt;
        const double then = history_[history_.size() - 1 - static_cast<size_t>(window_)];
        const double gain = (then - best_) / std::max(std::abs(then), 1e-30);
        if (gain >= tol_) return std::nullopt;
        std::ostringstream why;
        why << "loss improved by " << gain * 100 << "% over the last " << window_ << " evaluations (tolerance "
            << tol_ * 100 << "%)";
        return why.str();
    }

private:
    double tol_;
    int window_;
    double best_ = 0;
    std::vector<double> history_;
};

}  // namespace stylize
