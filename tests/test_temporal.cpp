// Warping, the reliable-pixel mask, the temporal loss and the warping error
// (temporal.hpp), and the temporal term inside a run (engine.hpp).
#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/engine.hpp"
#include "stylize/errors.hpp"
#include "stylize/temporal.hpp"

using namespace stylize;

namespace {

torch::Tensor constant_flow(int64_t h, int64_t w, double dx, double dy) {
    auto f = torch::zeros({1, 2, h, w});
    f.select(1, 0).fill_(dx);
    f.select(1, 1).fill_(dy);
    return f;
}

torch::Tensor random_image(int64_t h, int64_t w, int seed) {
    torch::manual_seed(seed);
    return torch::rand({1, 3, h, w});
}

}  // namespace

TEST_CASE("warp_image: zero flow is the identity, an integer flow a shift", "[unit]") {
    const auto img = random_image(12, 16, 1);
    CHECK(torch::allclose(warp_image(img, constant_flow(12, 16, 0, 0)), img, 1e-6, 1e-6));
    // out(p) = img(p + (2, 1)): out[y][x] = img[y+1][x+2] away from the far border.
    const auto out = warp_image(img, constant_flow(12, 16, 2, 1));
    CHECK(torch::allclose(out.narrow(2, 0, 11).narrow(3, 0, 14), img.narrow(2, 1, 11).narrow(3, 2, 14), 1e-5, 1e-5));
    // Half a pixel: the mean of two neighbours (bilinear).
    const auto half = warp_image(img, constant_flow(12, 16, 0.5, 0));
    const auto mean = (img.narrow(3, 0, 15) + img.narrow(3, 1, 15)) * 0.5;
    CHECK(torch::allclose(half.narrow(3, 0, 15), mean, 1e-5, 1e-5));
    // Nearest: whole pixels, no blur (0.4 rounds to 0, 0.6 to 1).
    CHECK(torch::equal(warp_image(img, constant_flow(12, 16, 0.4, 0), WarpInterpolation::Nearest), img));
    const auto snapped = warp_image(img, constant_flow(12, 16, 0.6, 0), WarpInterpolation::Nearest);
    CHECK(torch::equal(snapped.narrow(3, 0, 15), img.narrow(3, 1, 15)));
    CHECK_THROWS_AS(warp_image(img, torch::zeros({1, 3, 12, 16})), InvalidArgument);
    CHECK_THROWS_AS(warp_image(img, constant_flow(10, 16, 0, 0)), InvalidArgument);
}

TEST_CASE("reliable_mask: consistent motion is reliable, disagreement, boundaries and the outside are not", "[unit]") {
    const int64_t h = 20, w = 24;
    // A pure translation by (3, 0): forward = -backward everywhere.
    auto mask = reliable_mask(constant_flow(h, w, -3, 0), constant_flow(h, w, 3, 0));
    REQUIRE(mask.sizes() == torch::IntArrayRef({1, 1, h, w}));
    // p + w outside the previous frame: the first three columns.
    CHECK(mask.narrow(3, 0, 3).sum().item<double>() == 0);
    CHECK(mask.narrow(3, 3, w - 3).min().item<double>() == 1);

    // Forward flow that does not come back in the right half (an occlusion).
    auto fwd = constant_flow(h, w, 0, 0);
    fwd.narrow(3, 12, 12).select(1, 0).fill_(5);
    auto m2 = reliable_mask(constant_flow(h, w, 0, 0), fwd);
    CHECK(m2.narrow(3, 0, 10).min().item<double>() == 1);
    CHECK(m2.narrow(3, 13, 11).max().item<double>() == 0);

    // A motion boundary: the backward flow jumps between columns 11 and 12.
    auto bwd = constant_flow(h, w, 0, 0);
    bwd.narrow(3, 12, 12).select(1, 1).fill_(-2);
    auto fwd3 = constant_flow(h, w, 0, 0);
    fwd3.narrow(3, 12, 12).select(1, 1).fill_(2);
    auto m3 = reliable_mask(bwd, fwd3);
    CHECK(m3.narrow(3, 11, 2).narrow(2, 4, 12).max().item<double>() == 0);  // at the jump
    CHECK(m3.narrow(3, 2, 6).narrow(2, 4, 12).min().item<double>() == 1);   // away from it
}

TEST_CASE("temporal_loss is the masked mean squared difference, with its gradient", "[unit]") {
    const auto warped = random_image(8, 10, 2);
    auto x = random_image(8, 10, 3).requires_grad_(true);
    auto mask = torch::zeros({1, 1, 8, 10});
    mask.narrow(3, 0, 5).fill_(1);
    auto loss = temporal_loss(x, warped, mask);
    const auto expected = (mask * (x.detach() - warped).pow(2)).sum().item<double>() / (3 * 8 * 10);
    CHECK(loss.item<double>() == Approx(expected).epsilon(1e-5));
    loss.backward();
    const auto grad = 2 * mask * (x.detach() - warped) / (3.0 * 8 * 10);
    CHECK(torch::allclose(x.grad(), grad, 1e-5, 1e-7));
    CHECK(temporal_loss(warped, warped, mask).item<double>() == 0);
}

TEST_CASE("warping_error: zero for a frame that is the warped previous one, the offset otherwise", "[unit]") {
    const auto prev = random_image(16, 20, 4);
    const auto flow = constant_flow(16, 20, 1, 2);
    const auto cur = warp_image(prev, flow);
    const auto mask = torch::ones({1, 1, 16, 20});
    CHECK(warping_error(cur, prev, flow, mask) < 1e-6);
    CHECK(warping_error((cur + 0.1).clamp_max(10), prev, flow, mask) == Approx(0.1).epsilon(1e-4));
    // Only reliable pixels count.
    auto half = torch::zeros({1, 1, 16, 20});
    half.narrow(3, 0, 10).fill_(1);
    auto noisy = cur.clone();
    noisy.narrow(3, 10, 10).add_(0.5);
    CHECK(warping_error(noisy, prev, flow, half) < 1e-6);
    CHECK(warping_error(cur, prev, flow, torch::zeros({1, 1, 16, 20})) == 0);
}

TEST_CASE("a run with a temporal guide stays closer to the warped frame, and reports the term", "[engine]") {
    auto model = FeatureExtractor::load(fixtures::model());
    StylizeOptions o;
    o.size = 64;
    o.iterations = 30;
    o.device = "cpu";
    const auto content = fixtures::content_image(48, 64);
    const std::vector<StyleImage> styles{{fixtures::style_image(48, 64), 1.0}};
    const auto free_run = stylize::stylize(model, content, styles, o);
    CHECK(free_run.losses.temporal == 0);

    // Guide: an earlier result, shifted; reliable on the left half only.
    TemporalGuide guide;
    guide.warped = warp_image(free_run.image, constant_flow(48, 64, 1, 0)).clamp(0, 1);
    guide.mask = torch::zeros({1, 1, 48, 64});
    guide.mask.narrow(3, 0, 32).fill_(1);
    guide.weight = 2000;
    o.seed = 5;
    o.init = InitKind::Noise;
    const auto unguided = stylize::stylize(model, content, styles, o);
    const auto guided = stylize::stylize(model, content, styles, o, {}, {}, nullptr, &guide);
    CHECK(guided.losses.temporal > 0);
    CHECK(guided.losses.total == Approx(guided.losses.content + guided.losses.style + guided.losses.tv +
                                        guided.losses.temporal).epsilon(1e-6));
    auto diff = [&](const torch::Tensor& img, int64_t col) {
        return (img - guide.warped).abs().narrow(3, col, 32).mean().item<double>();
    };
    // Where the mask holds, the guided run is much closer to the warped frame;
    // where it does not, the guide has no say (both are far from it).
    CHECK(diff(guided.image, 0) < 0.5 * diff(unguided.image, 0));
    CHECK(diff(guided.image, 32) > 0.5 * diff(unguided.image, 32));

    // The caller's start image is not changed by the run (it is the next
    // frame's too): the same call twice gives the same result.
    StylizeOptions from_image = o;
    from_image.init = InitKind::Image;
    const auto start = free_run.image.clone();
    auto init = free_run.image;
    const auto first = stylize::stylize(model, content, styles, from_image, {}, init);
    CHECK(torch::equal(init, start));
    CHECK_FALSE(init.requires_grad());
    const auto second = stylize::stylize(model, content, styles, from_image, {}, init);
    CHECK(torch::equal(first.image, second.image));

    TemporalGuide wrong = guide;
    wrong.mask = torch::ones({1, 1, 24, 32});
    CHECK_THROWS_AS(stylize::stylize(model, content, styles, o, {}, {}, nullptr, &wrong), InvalidArgument);
}
