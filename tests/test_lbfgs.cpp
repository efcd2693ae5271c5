#include <catch2/catch.hpp>
#include <torch/types.h>

#include "lbfgs.hpp"

using namespace stylize;

TEST_CASE("L-BFGS minimises an ill-conditioned quadratic", "[unit]") {
    // f(x) = 1/2 sum d_i (x_i - c_i)^2, condition number 100.
    const int64_t n = 50;
    auto d = torch::linspace(1, 100, n);
    auto c = torch::linspace(-1, 1, n);
    auto x = torch::zeros({n});
    LBFGS opt(n, 10, x.options());
    double f = 0;
    for (int k = 0; k < 60; ++k) {
        auto g = d * (x - c);
        f = 0.5 * (d * (x - c).pow(2)).sum().item<double>();
        opt.step(x, g);
    }
    CHECK(f < 1e-6);
    CHECK(torch::allclose(x, c, 1e-3, 1e-3));
    CHECK(opt.pairs() == 10);
}
