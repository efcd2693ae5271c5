// Spatial control (spatial.hpp): region masks from grayscale or
// colour-coded maps, their checks, and a two-region run in which each
// region must take its own style.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/engine.hpp"
#include "stylize/errors.hpp"
#include "stylize/losses.hpp"
#include "stylize/spatial.hpp"

using namespace stylize;

namespace {

// (1,3,h,w) map: left `split` columns colour a, the rest colour b.
torch::Tensor two_colour_map(int64_t h, int64_t w, int64_t split, std::array<float, 3> a, std::array<float, 3> b) {
    auto m = torch::empty({1, 3, h, w});
    for (int c = 0; c < 3; ++c) {
        m[0][c].narrow(1, 0, split).fill_(a[static_cast<size_t>(c)]);
        m[0][c].narrow(1, split, w - split).fill_(b[static_cast<size_t>(c)]);
    }
    return m;
}

}  // namespace

TEST_CASE("style region masks: one region per style, whole style images, empty masks refused", "[unit]") {
    auto left = torch::zeros({1, 1, 8, 10}), right = torch::zeros({1, 1, 8, 10});
    left.narrow(3, 0, 5).fill_(1.0);
    right.narrow(3, 5, 5).fill_(0.8);
    const auto c = regions_from_style_masks({left, right});
    REQUIRE(c.content.sizes() == torch::IntArrayRef({2, 1, 8, 10}));
    CHECK(torch::equal(c.content[0], left[0]));
    REQUIRE(c.styles.size() == 2);
    CHECK(c.styles[0].view({-1})[0].item<float>() == 1.0f);  // style 1 feeds region 1 ...
    CHECK(c.styles[0].view({-1})[1].item<float>() == 0.0f);  // ... and not region 2
    CHECK(c.styles[1].view({-1})[1].item<float>() == 1.0f);
    // A mask with nothing at 50% or brighter.
    CHECK_THROWS_WITH(regions_from_style_masks({left, torch::full({1, 1, 8, 10}, 0.4)}),
                      Catch::Contains("style region 2 is empty"));
}

TEST_CASE("colour-coded maps: regions by colour, JPEG noise tolerated, missing colours reported", "[unit]") {
    const std::array<float, 3> red{1, 0, 0}, blue{0, 0, 1}, green{0, 1, 0};
    const auto content = two_colour_map(10, 20, 8, red, blue);
    torch::manual_seed(1);
    auto style1 = (two_colour_map(12, 24, 12, blue, red) + 0.04 * torch::randn({1, 3, 12, 24})).clamp(0, 1);
    const auto style2 = two_colour_map(12, 24, 24 - 1, green, red);  // red in one column only
    const auto r = regions_from_colour_maps(content, {style1, style2});
    REQUIRE(r.colours.size() == 2);
    CHECK(r.colours[0] == std::array<int, 3>{0, 0, 255});  // the larger region first
    CHECK(r.control.content[0].sum().item<double>() == 12 * 10);
    CHECK(r.control.content[1].sum().item<double>() == 8 * 10);
    // Noisy style pixels still join their colour's region.
    CHECK(r.control.styles[0][0].sum().item<double>() == 12 * 12);
    CHECK(r.control.styles[0][1].sum().item<double>() == 12 * 12);
    CHECK(r.control.styles[1][0].sum().item<double>() == 0);   // style 2 has no blue
    CHECK(r.control.styles[1][1].sum().item<double>() == 12);  // and one red column
    CHECK(r.styled == std::vector<bool>{true, true});
    // A colour no style map has: the region is reported unstyled.
    const auto only_red = regions_from_colour_maps(content, {two_colour_map(12, 24, 12, red, green)});
    CHECK(only_red.styled == std::vector<bool>{false, true});
    // A style map without any of the content's colours is refused.
    CHECK_THROWS_WITH(regions_from_colour_maps(content, {style1, two_colour_map(12, 24, 12, green, green)}),
                      Catch::Contains("style mask 2 has none of the content mask's colours"));
    // Too many flat colours: 64 blocks of 5x5 pixels in 64 colours 85 apart.
    auto many = torch::empty({1, 3, 40, 40});
    for (int64_t k = 0; k < 64; ++k)
        for (int c = 0; c < 3; ++c)
            many[0][c].narrow(0, (k / 8) * 5, 5).narrow(1, (k % 8) * 5, 5).fill_(((k >> (2 * c)) & 3) / 3.0);
    CHECK_THROWS_WITH(regions_from_colour_maps(many, {style1}), Catch::Contains("colour-coded mask needs at most"));
}

TEST_CASE("spatial control is checked against the images", "[unit]") {
    const auto content = fixtures::content_image(48, 64);
    const std::vector<StyleImage> styles{{fixtures::style_image(48, 64), 1.0}};
    auto c = regions_from_style_masks({torch::ones({1, 1, 24, 32})});
    CHECK_NOTHROW(check_spatial_control(c, content, styles));
    auto wrong_aspect = regions_from_style_masks({torch::ones({1, 1, 32, 32})});
    CHECK_THROWS_WITH(check_spatial_control(wrong_aspect, content, styles), Catch::Contains("aspect ratio"));
    CHECK_THROWS_WITH(check_spatial_control(c, content, {styles[0], styles[0]}), Catch::Contains("2"));
    CHECK(same_aspect_ratio(480, 640, 240, 321));
    CHECK(!same_aspect_ratio(480, 640, 480, 480));
    // Resizing keeps masks in [0,1]; shrinking averages.
    auto half = torch::zeros({1, 1, 4, 4});
    half.narrow(3, 0, 2).fill_(1.0);
    CHECK(torch::allclose(resize_masks(half, 1, 2), torch::tensor({1.0f, 0.0f}).view({1, 1, 1, 2})));
    const auto up = resize_masks(half, 9, 9);
    CHECK(up.min().item<float>() >= 0);
    CHECK(up.max().item<float>() <= 1);
}

// The test: a two-region content with two very different styles.
// Each half of the output must take the colour of its own style, and its
// Gram loss against its own style must be well below the one against the
// other style, for every style loss.
TEST_CASE("two regions each take their own style, with every style loss", "[engine]") {
    auto model = FeatureExtractor::load(fixtures::model());
    const int64_t h = 48, w = 64;
    const auto content = torch::full({1, 3, h, w}, 0.5) + 0.1 * fixtures::content_image(h, w);
    // Style A: warm, fine stripes. Style B: cold, coarse checks.
    const auto a = (fixtures::style_image(h, w, 4.0) * torch::tensor({1.0f, 0.6f, 0.2f}).view({1, 3, 1, 1})).clamp(0, 1);
    auto y = torch::arange(h).view({h, 1}).expand({h, w}), x = torch::arange(w).view({1, w}).expand({h, w});
    const auto checks = ((y / 8 + x / 8) % 2).to(torch::kFloat);
    const auto b = torch::stack({0.1 + 0.1 * checks, 0.2 + 0.3 * checks, 0.5 + 0.5 * checks}).unsqueeze(0);
    auto left = torch::zeros({1, 1, h, w}), right = torch::zeros({1, 1, h, w});
    left.narrow(3, 0, w / 2).fill_(1.0);
    right.narrow(3, w / 2, w / 2).fill_(1.0);
    const auto spatial = regions_from_style_masks({left, right});

    const auto mean_colour = [](const torch::Tensor& img) { return img.mean({0, 2, 3}); };
    const auto colour_a = mean_colour(a), colour_b = mean_colour(b);
    // Gram loss of a region of `img` against a style image, at relu2_1.
    const auto region_gram_loss = [&](const torch::Tensor& img, int64_t x0, const torch::Tensor& style) {
        const auto crop = img.narrow(3, x0, w / 2).contiguous();
        const auto fi = model.extract(crop, {"relu2_1"})[0];
        const auto fs = model.extract(style.narrow(3, 0, w / 2).contiguous(), {"relu2_1"})[0];
        return relative_squared_error(gram_matrix(fi), gram_matrix(fs)).item<double>();
    };
    for (auto kind : {StyleLossKind::Gram, StyleLossKind::MeanCov, StyleLossKind::SlicedWasserstein,
                      StyleLossKind::Histogram}) {
        INFO(to_string(kind));
        StylizeOptions o;
        o.size = 0;
        o.iterations = 60;
        o.style_loss = kind;
        o.style_weight = 1e3;
        o.style_layers = {{"relu1_1", 1.0}, {"relu2_1", 1.0}, {"relu3_1", 1.0}};
        const auto r = stylize::stylize(model, content, {{a, 1.0}, {b, 1.0}}, o, {}, {}, nullptr, nullptr, &spatial);
        INFO("stop " << to_string(r.stop_reason) << " after " << r.evaluations << ", style " << r.losses.style
                     << ", content " << r.losses.content);
        const auto out_left = r.image.narrow(3, 0, w / 2), out_right = r.image.narrow(3, w / 2, w / 2);
        // Colour: each half at most half as far from its own style's mean colour as from the other's.
        const double left_own = (mean_colour(out_left) - colour_a).norm().item<double>();
        const double left_other = (mean_colour(out_left) - colour_b).norm().item<double>();
        const double right_own = (mean_colour(out_right) - colour_b).norm().item<double>();
        const double right_other = (mean_colour(out_right) - colour_a).norm().item<double>();
        CHECK(left_own < 0.5 * left_other);
        CHECK(right_own < 0.5 * right_other);
        // Texture: each half's Gram loss against its own style at most half that against the other.
        CHECK(region_gram_loss(r.image, 0, a) < 0.5 * region_gram_loss(r.image, 0, b));
        CHECK(region_gram_loss(r.image, w / 2, b) < 0.5 * region_gram_loss(r.image, w / 2, a));
    }
}

TEST_CASE("without masks the Gram targets are those of the whole style images", "[engine]") {
    auto model = FeatureExtractor::load(fixtures::model());
    StylizeOptions o;
    o.style_loss = StyleLossKind::Gram;
    const auto content = fixtures::content_image(48, 64), style = fixtures::style_image(48, 64);
    const auto plain = compute_style_targets(model, {{style, 1.0}}, content, 64, o);
    // One region covering everything gives the same targets.
    const auto all = regions_from_style_masks({torch::ones({1, 1, 48, 64})});
    const auto masked = compute_style_targets(model, {{style, 1.0}}, content, 64, o, &all);
    REQUIRE(masked.statistics.size() == 1);
    REQUIRE(masked.statistics[0].size() == 1);
    for (size_t i = 0; i < o.style_layers.size(); ++i)
        CHECK(torch::allclose(masked.statistics[0][0][i], plain.statistics[0][0][i], 1e-4, 1e-6));
}
