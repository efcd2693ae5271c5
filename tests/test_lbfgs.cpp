// The bounded L-BFGS: it minimises, stays in its box, never accepts a step
// that raises the loss, and spends exactly one call per evaluation.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "run/lbfgs.hpp"

using namespace stylize;

namespace {
// f(x) = 1/2 sum d_i (x_i - c_i)^2, condition number 100.
struct Quadratic {
    torch::Tensor d, c;
    explicit Quadratic(int64_t n, double lo, double hi) : d(torch::linspace(1, 100, n)), c(torch::linspace(lo, hi, n)) {}
    double f(const torch::Tensor& x) const { return 0.5 * (d * (x - c).pow(2)).sum().item<double>(); }
    torch::Tensor g(const torch::Tensor& x) const { return d * (x - c); }
};
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

TEST_CASE("L-BFGS minimises an ill-conditioned quadratic", "[unit]") {
    const int64_t n = 50;
    Quadratic q(n, -1, 1);
    auto x = torch::zeros({n});
    LBFGS opt(n, 10, x.options(), -kInf, kInf);
    double best = kInf;
    int most_pairs = 0;
    for (int k = 0; k < 80; ++k) {
        const double f = q.f(x);
        if (opt.judge(x, f, q.g(x))) best = f;
        opt.propose(x);
        most_pairs = std::max(most_pairs, opt.pairs());
    }
    CHECK(best < 1e-6);
    CHECK(opt.best_loss() == best);
    CHECK(most_pairs == 10);  // the history fills (at fp32's noise floor it may be dropped again)
}

TEST_CASE("bounded L-BFGS stays in the box and finds the constrained minimum", "[unit]") {
    // The unconstrained minimum c runs from -0.5 to 1.5: a third of it lies
    // outside [0,1], where the answer is the nearest bound.
    const int64_t n = 60;
    Quadratic q(n, -0.5, 1.5);
    auto x = torch::full({n}, 0.5);
    LBFGS opt(n, 5, x.options(), 0.0, 1.0);
    for (int k = 0; k < 60; ++k) {
        REQUIRE(x.min().item<double>() >= 0.0);
        REQUIRE(x.max().item<double>() <= 1.0);
        opt.judge(x, q.f(x), q.g(x));
        opt.propose(x);
    }
    const auto want = q.c.clamp(0, 1);
    // The constrained optimum's loss: only the clamped coordinates remain.
    CHECK(opt.best_loss() == Approx(q.f(want)).epsilon(1e-4));
    CHECK(opt.best_loss() > 1.0);  // the unconstrained minimum (0) is not reachable
}

TEST_CASE("a step that raises the loss is rejected and the step shrinks", "[unit]") {
    // f(x) = sum (x - 0.3)^4 * 1e4 from x = 1: the first quasi-Newton steps
    // overshoot the flat minimum badly. No accepted loss may ever rise, and a
    // rejected trial is followed by a shorter one from the same point.
    const int64_t n = 8;
    auto f = [](const torch::Tensor& x) { return 1e4 * (x - 0.3).pow(4).sum().item<double>(); };
    auto g = [](const torch::Tensor& x) { return 4e4 * (x - 0.3).pow(3); };
    auto x = torch::ones({n});
    LBFGS opt(n, 5, x.options(), 0.0, 1.0);
    double accepted = kInf;
    int rejections = 0;
    for (int k = 0; k < 60; ++k) {
        const double fx = f(x);
        if (opt.judge(x, fx, g(x))) {
            CHECK(fx <= accepted);
            accepted = fx;
        } else {
            ++rejections;
            CHECK(fx > opt.best_loss());
        }
        opt.propose(x);
    }
    CHECK(rejections == opt.rejected());
    CHECK(opt.best_loss() < 1e-3 * f(torch::ones({n})));
}

TEST_CASE("a non-finite loss is rejected, never accepted", "[unit]") {
    const int64_t n = 4;
    auto x = torch::full({n}, 0.5);
    LBFGS opt(n, 3, x.options(), 0.0, 1.0);
    REQUIRE(opt.judge(x, 1.0, torch::ones({n})));
    opt.propose(x);
    CHECK_FALSE(opt.judge(x, std::numeric_limits<double>::quiet_NaN(), torch::ones({n})));
    CHECK(opt.best_loss() == 1.0);
    CHECK(opt.rejected() == 1);
    // The next trial is a shorter step from the accepted point.
    const auto first = x.clone();
    opt.propose(x);
    CHECK((x - 0.5).abs().max().item<double>() < (first - 0.5).abs().max().item<double>());
}

TEST_CASE("a pair with no curvature is not stored", "[unit]") {
    // A linear loss has y = 0: every pair would poison H.
    const int64_t n = 6;
    auto slope = torch::linspace(-1, 1, n);
    auto x = torch::full({n}, 0.5);
    LBFGS opt(n, 4, x.options(), 0.0, 1.0);
    for (int k = 0; k < 30; ++k) {
        opt.judge(x, (slope * x).sum().item<double>(), slope);
        opt.propose(x);
    }
    CHECK(opt.pairs() == 0);
    CHECK(opt.skipped_pairs() > 0);
    // The linear loss is minimised at the box's corner.
    CHECK(opt.best_loss() == Approx((slope * (slope < 0).to(torch::kFloat)).sum().item<double>()).epsilon(1e-5));
}
