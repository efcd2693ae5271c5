// The style statistics (style_statistic.hpp): each loss's value at its
// target and at zero, its gradient, its masked form, and its blends.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include "loss/style_statistic.hpp"
#include "stylize/losses.hpp"

using namespace stylize;

namespace {

std::vector<std::shared_ptr<const StyleStatistic>> all_statistics() {
    return {std::make_shared<const GramStatistic>(), std::make_shared<const MeanCovStatistic>(),
            std::make_shared<const SlicedWassersteinStatistic>(), std::make_shared<const HistogramStatistic>()};
}

double loss_of(const StyleStatistic& s, const torch::Tensor& f, const torch::Tensor& mask, const torch::Tensor& target,
               uint64_t draw = 1) {
    return s.loss(f, mask, target, s.normaliser(target), draw).item<double>();
}

// Features with a non-zero mean, like ReLU outputs.
torch::Tensor features(int64_t c, int64_t h, int64_t w, uint64_t seed) {
    torch::manual_seed(seed);
    return torch::relu(torch::randn({1, c, h, w}) + 0.3);
}

}  // namespace

TEST_CASE("every style loss is 0 at its target and about 1 for features of zero", "[unit]") {
    const auto f = features(6, 8, 10, 1);
    for (const auto& s : all_statistics()) {
        INFO(s->name());
        const auto target = s->target({{f, {}, 1.0}});
        CHECK(loss_of(*s, f, {}, target) == Approx(0).margin(1e-6));
        // Zero features: the whole target is missed. Exactly 1 for the moment
        // losses; the sorting losses divide by the mean square the projections
        // would have on average, so a given draw is near 1, not at it.
        const double zero = loss_of(*s, torch::zeros_like(f), {}, target);
        if (std::string(s->name()) == "sliced-wasserstein") CHECK(zero == Approx(1).epsilon(0.5));
        else CHECK(zero == Approx(1).epsilon(1e-4));
        // Other features are farther than the target itself.
        CHECK(loss_of(*s, features(6, 8, 10, 2) * 2, {}, target) > 0.05);
    }
}

TEST_CASE("every style loss's gradient matches finite differences", "[unit]") {
    // In fp64, so that the differences are not rounding; without ReLU's
    // exact zeros, where ties make the sorting losses kinked.
    const auto target_f = features(4, 6, 7, 3).to(torch::kDouble);
    torch::manual_seed(4);
    const auto f0 = torch::randn({1, 4, 6, 7}, torch::kDouble) + 0.3;
    torch::manual_seed(9);
    const auto dir = torch::randn_like(f0);
    auto mask = torch::zeros({1, 1, 6, 7}, torch::kDouble);
    mask.narrow(3, 0, 4).fill_(1.0);
    for (const auto& s : all_statistics()) {
        for (bool masked : {false, true}) {
            INFO(s->name() << (masked ? " masked" : ""));
            const auto m = masked ? mask : torch::Tensor();
            const auto target = s->target({{target_f, m, 1.0}});
            const double norm = s->normaliser(target);
            auto f = f0.clone().requires_grad_(true);
            s->loss(f, m, target, norm, 7).backward();
            const double analytic = (f.grad() * dir).sum().item<double>();
            const double eps = 1e-6;
            const double up = s->loss(f0 + eps * dir, m, target, norm, 7).item<double>();
            const double down = s->loss(f0 - eps * dir, m, target, norm, 7).item<double>();
            CHECK(analytic == Approx((up - down) / (2 * eps)).epsilon(1e-4).margin(1e-8));
        }
    }
}

TEST_CASE("a masked statistic is the statistic of the masked pixels alone", "[unit]") {
    const auto f = features(5, 6, 8, 5);
    const auto other = features(5, 6, 8, 6);
    auto mask = torch::zeros({1, 1, 6, 8});
    mask.narrow(3, 0, 3).fill_(1.0);               // the left three columns
    const auto left = f.narrow(3, 0, 3).contiguous();  // the same pixels as a map of their own
    for (const auto& s : all_statistics()) {
        INFO(s->name());
        const auto t_masked = s->target({{f, mask, 1.0}});
        const auto t_left = s->target({{left, {}, 1.0}});
        REQUIRE(t_masked.sizes() == t_left.sizes());
        CHECK(torch::allclose(t_masked, t_left, 1e-4, 1e-5));
        // The loss of a masked map equals that of its region cropped out.
        const auto target = s->target({{other, {}, 1.0}});
        CHECK(loss_of(*s, f, mask, target) == Approx(loss_of(*s, left, {}, target)).epsilon(1e-4));
        // An all-ones mask changes nothing.
        CHECK(loss_of(*s, f, torch::ones({1, 1, 6, 8}), target) == Approx(loss_of(*s, f, {}, target)).epsilon(1e-4));
    }
    // A region with no pixels: no target, and a zero loss that still backpropagates.
    const auto empty = torch::zeros({1, 1, 6, 8});
    for (const auto& s : all_statistics()) {
        INFO(s->name());
        CHECK(!s->target({{f, empty, 1.0}}).defined());
        auto x = f.clone().requires_grad_(true);
        const auto target = s->target({{other, {}, 1.0}});
        auto l = s->loss(x, empty, target, s->normaliser(target), 1);
        CHECK(l.item<double>() == 0.0);
        l.backward();
        CHECK(x.grad().abs().sum().item<double>() == 0.0);
    }
}

TEST_CASE("blends are the statistics of the styles' mixture", "[unit]") {
    const auto a = features(4, 8, 8, 7), b = features(4, 8, 8, 8) * 3;
    // Mean and covariance: the moments of the pooled pixels, not the average covariance.
    MeanCovStatistic mc;
    const auto both = torch::cat({a, b}, 3);  // equal shares
    CHECK(torch::allclose(mc.target({{a, {}, 0.5}, {b, {}, 0.5}}), mc.target({{both, {}, 1.0}}), 1e-4, 1e-5));
    const auto avg_cov = (mc.target({{a, {}, 1.0}}) + mc.target({{b, {}, 1.0}})) / 2;
    CHECK(!torch::allclose(mc.target({{a, {}, 0.5}, {b, {}, 0.5}}), avg_cov, 1e-3, 1e-3));
    // Sorting losses: a pool with each style's share of the samples.
    HistogramStatistic h;
    const auto pool = h.target({{a, {}, 0.75}, {b, {}, 0.25}});
    REQUIRE(pool.defined());
    const int64_t m = pool.size(1);
    CHECK(m == 96 + 32);  // 128 vectors in all, 3/4 of them from a (its pixels repeated evenly)
    SlicedWassersteinStatistic sw;
    CHECK(sw.target({{a, {}, 0.75}, {b, {}, 0.25}}).size(1) == m);
    // A style with few pixels in a region does not shrink the others' share.
    auto corner = torch::zeros({1, 1, 8, 8});
    corner[0][0][0][0] = 1.0;
    CHECK(h.target({{a, {}, 0.5}, {b, corner, 0.5}}).size(1) == 33 + 33);  // half each, the corner repeated
    // A weight of zero leaves a style out.
    CHECK(torch::equal(h.target({{a, {}, 1.0}, {b, {}, 0.0}}), h.target({{a, {}, 1.0}})));
}

TEST_CASE("the sliced Wasserstein loss draws new directions per draw, the same for the same draw", "[unit]") {
    const auto f = features(8, 6, 6, 10), s = features(8, 6, 6, 11) * 2;
    SlicedWassersteinStatistic sw;
    const auto target = sw.target({{s, {}, 1.0}});
    CHECK(loss_of(sw, f, {}, target, 5) == loss_of(sw, f, {}, target, 5));
    CHECK(loss_of(sw, f, {}, target, 5) != loss_of(sw, f, {}, target, 6));
    // The histogram loss ignores the draw.
    HistogramStatistic h;
    const auto ht = h.target({{s, {}, 1.0}});
    CHECK(loss_of(h, f, {}, ht, 5) == loss_of(h, f, {}, ht, 6));
}

TEST_CASE("resample_sorted interpolates quantiles", "[unit]") {
    const auto sorted = torch::tensor({0.0f, 1.0f, 2.0f, 3.0f}).view({1, 4});
    CHECK(torch::equal(resample_sorted(sorted, 4), sorted));
    // Two quantiles of four values: at positions 0.5 and 2.5.
    CHECK(torch::allclose(resample_sorted(sorted, 2), torch::tensor({0.5f, 2.5f}).view({1, 2})));
    // Eight: ends clamp, the rest interpolate.
    const auto up = resample_sorted(sorted, 8);
    CHECK(up[0][0].item<float>() == 0.0f);
    CHECK(up[0][7].item<float>() == 3.0f);
    CHECK(up[0][3].item<float>() == Approx(1.25));
}

TEST_CASE("the histogram style loss adds histograms to the Gram term", "[unit]") {
    const auto stats = make_style_statistics(StyleLossKind::Histogram);
    REQUIRE(stats.size() == 2);
    CHECK(std::string(stats[0]->name()) == "gram");
    CHECK(std::string(stats[1]->name()) == "histogram");
    CHECK(make_style_statistics(StyleLossKind::Gram).size() == 1);
    CHECK(std::string(make_style_statistics(StyleLossKind::MeanCov)[0]->name()) == "mean-cov");
}

TEST_CASE("mean-cov's one-product backward agrees across layouts and with the masked form", "[unit]") {
    // Unmasked mean-cov takes mean_and_second_moment (one product in the
    // backward, the features' own layout); an all-ones mask takes the
    // weighted form autograd differentiates. Same loss, same gradient.
    MeanCovStatistic mc;
    const auto target = mc.target({{features(8, 12, 10, 5), {}, 1.0}});
    const double norm = mc.normaliser(target);
    const auto base = features(8, 12, 10, 6);
    auto grad_of = [&](const torch::Tensor& f0, const torch::Tensor& mask, double* value) {
        auto f = f0.detach().clone(f0.is_contiguous() ? at::MemoryFormat::Contiguous : at::MemoryFormat::ChannelsLast);
        f.requires_grad_(true);
        const auto loss = mc.loss(f, mask, target, norm, 0);
        *value = loss.item<double>();
        loss.backward();
        return f.grad().contiguous();
    };
    double plain = 0, channels_last = 0, masked = 0;
    const auto g_plain = grad_of(base, {}, &plain);
    const auto g_last = grad_of(base.contiguous(at::MemoryFormat::ChannelsLast), {}, &channels_last);
    const auto g_masked = grad_of(base, torch::ones({1, 1, 12, 10}), &masked);
    CHECK(plain > 0.01);
    CHECK(channels_last == Approx(plain).epsilon(1e-5));
    CHECK(masked == Approx(plain).epsilon(1e-5));
    const double scale = g_plain.abs().max().item<double>();
    CHECK(scale > 0);
    CHECK((g_last - g_plain).abs().max().item<double>() <= 1e-5 * scale);
    CHECK((g_masked - g_plain).abs().max().item<double>() <= 1e-5 * scale);
    const auto [mean, second] = mean_and_second_moment(base);
    const auto f = base.reshape({8, 120});
    CHECK(torch::allclose(mean, f.mean(1, true), 1e-5, 1e-6));
    CHECK(torch::allclose(second, f.mm(f.t()) / 120, 1e-5, 1e-6));
}
