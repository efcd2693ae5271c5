// Exact tiled evaluation: the tile plan, the geometry the layers ask for,
// the tiled loss and gradient against the untiled ones, and whole runs
// (the command line's --tile is in test_cli_tiling.cpp).
#include <catch2/catch.hpp>
#include <torch/types.h>

#include "run/evaluator.hpp"
#include "fixtures.hpp"
#include "loss/loss_terms.hpp"
#include "loss/style_statistic.hpp"
#include "stylize/engine.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"
#include "stylize/memory_estimate.hpp"
#include "stylize/tiling.hpp"
#include "tiles/tile_plan.hpp"

using namespace stylize;
using fixtures::TempDir;
namespace fs = std::filesystem;

namespace {

double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
    return ((a - b).norm() / b.norm()).item<double>();
}

double psnr(const torch::Tensor& a, const torch::Tensor& b) {
    const double mse = (a - b).pow(2).mean().item<double>();
    return mse == 0 ? 1e9 : 10 * std::log10(1.0 / mse);
}

// Content at relu4_2 and, at every style layer, one term per statistic:
// mean-cov over the whole image and Gram in a soft region (the left of the
// image fading out to the right).
FeatureLosses mixed_terms(const FeatureExtractor& model, const torch::Tensor& content, const torch::Tensor& style,
                          int64_t h, int64_t w) {
    torch::NoGradGuard no_grad;
    FeatureLosses terms;
    const auto c = model.extract(content, {"relu4_2"});
    terms.push_back(std::make_unique<ContentLoss>(model.layer_index("relu4_2"), c[0], 1.0, false));
    const std::vector<std::string> layers{"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
    const auto s = model.extract(style, layers);
    auto region = torch::linspace(1, 0, w).reshape({1, 1, 1, w}).expand({1, 1, h, w}).contiguous();
    auto mean_cov = std::make_shared<const MeanCovStatistic>();
    auto gram = std::make_shared<const GramStatistic>();
    for (size_t i = 0; i < layers.size(); ++i) {
        const auto idx = model.layer_index(layers[i]);
        terms.push_back(std::make_unique<StyleLoss>(idx, mean_cov, mean_cov->target({{s[i], {}, 1.0}}), 100.0, false));
        terms.push_back(std::make_unique<StyleLoss>(idx, gram, gram->target({{s[i], {}, 1.0}}), 100.0, false, region));
    }
    return terms;
}

struct Evaluation {
    LossTerms losses;
    torch::Tensor grad;
};

Evaluation evaluate(const FeatureExtractor& model, const torch::Tensor& image, const torch::Tensor& content,
                    const torch::Tensor& style, int64_t tile, int64_t halo) {
    const int64_t h = image.size(2), w = image.size(3);
    ImageLosses image_terms;
    image_terms.push_back(std::make_unique<TVLoss>(1.0));
    auto ev = make_evaluator(model, mixed_terms(model, content, style, h, w), std::move(image_terms), false, h, w,
                             tile, halo);
    auto x = image.clone().requires_grad_(true);
    Evaluation e;
    e.losses = ev->evaluate(x);
    e.grad = x.grad().clone();
    return e;
}

}  // namespace

TEST_CASE("tile geometry: VGG19 up to relu5_1 needs tiles aligned to 16 and a halo of 96", "[unit]") {
    const auto model = fixtures::vgg19_stack();
    const auto deep = tile_geometry(model, model.layer_index("relu5_1") + 1);
    CHECK(deep.alignment == 16);
    CHECK(deep.exact_halo == 96);  // 85 pixels of reach, rounded up to 16
    // Up to relu3_1: two pools (alignment 4), reach 2 + 1 + 4 + 2 + 4 = 13.
    const auto shallow = tile_geometry(model, model.layer_index("relu3_1") + 1);
    CHECK(shallow.alignment == 4);
    CHECK(shallow.exact_halo == 16);
}

TEST_CASE("tile plan: every pixel belongs to one tile; halos are aligned and clipped", "[unit]") {
    for (auto [h, w, tile, halo] : std::vector<std::array<int64_t, 4>>{
             {200, 264, 96, 96}, {512, 512, 128, 16}, {100, 37, 48, 0}, {64, 64, 256, 96}}) {
        const auto tiles = plan_tiles(h, w, tile, halo, 16);
        auto cover = torch::zeros({h, w}, torch::kInt);
        for (const auto& t : tiles) {
            CHECK(t.y1 - t.y0 <= tile);
            CHECK(t.x1 - t.x0 <= tile);
            CHECK(t.y0 % 16 == 0);
            CHECK(t.x0 % 16 == 0);
            CHECK(t.hy0 % 16 == 0);
            CHECK(t.hx0 % 16 == 0);
            CHECK((t.hy0 == 0 || t.y0 - t.hy0 >= halo));
            CHECK((t.hy1 == h || t.hy1 - t.y1 >= halo));
            CHECK((t.hx1 == w || t.hx1 - t.x1 >= halo));
            cover.narrow(0, t.y0, t.y1 - t.y0).narrow(1, t.x0, t.x1 - t.x0).add_(1);
        }
        CHECK(cover.min().item<int>() == 1);
        CHECK(cover.max().item<int>() == 1);
    }
    // Even pieces: 520 rows in tiles of at most 512 are two of 272 and 248,
    // not 512 and 8.
    const auto two = plan_tiles(520, 64, 512, 0, 16);
    REQUIRE(two.size() == 2);
    CHECK(two[0].y1 == 272);
}

TEST_CASE("tiling refuses what cannot work, naming the option and the value that would", "[unit]") {
    const auto model = fixtures::vgg19_stack();
    StylizeOptions o;
    o.tile = 8;
    CHECK_THROWS_WITH(check_tiling(model, o), Catch::Contains("--tile 8") && Catch::Contains("smallest tile is 16"));
    o.tile = 64;
    CHECK_THROWS_WITH(check_tiling(model, o), Catch::Contains("exact halo") && Catch::Contains("smallest tile is 96"));
    o.tile_halo = 16;
    CHECK_NOTHROW(check_tiling(model, o));
    o.tile = 128;
    o.tile_halo = 200;
    CHECK_THROWS_WITH(check_tiling(model, o), Catch::Contains("--tile-halo 200") &&
                                                  Catch::Contains("largest halo for this tile is 128") &&
                                                  Catch::Contains("raise --tile to at least 208"));
    o.tile_halo = -1;
    o.style_loss = StyleLossKind::SlicedWasserstein;
    CHECK_THROWS_WITH(check_tiling(model, o), Catch::Contains("--tile") && Catch::Contains("mean-cov"));
    o.style_loss = StyleLossKind::MeanCov;
    o.normalize_gradients = true;
    CHECK_THROWS_WITH(check_tiling(model, o), Catch::Contains("--normalize-gradients"));
}

TEST_CASE("tiled features, sums and targets equal the whole image's", "[engine]") {
    auto model = FeatureExtractor::load(fixtures::model());
    const auto image = fixtures::content_image(200, 264);
    const std::vector<size_t> ids{model.layer_index("relu1_1"), model.layer_index("relu3_1"),
                                  model.layer_index("relu5_1")};
    const auto whole = model.extract(image, {"relu1_1", "relu3_1", "relu5_1"});
    const auto tiled = extract_tiled(model, image, ids, 96, 96);
    for (size_t i = 0; i < ids.size(); ++i) {
        REQUIRE(tiled[i].sizes() == whole[i].sizes());
        CHECK(relative_error(tiled[i], whole[i]) < 1e-5);
    }
    // A halo too small changes the features near the seams.
    const auto rough = extract_tiled(model, image, ids, 96, 16);
    CHECK(relative_error(rough[2], whole[2]) > 1e-3);

    // Style targets from tiles, with a blend and regions.
    StylizeOptions o;
    o.tile = 96;
    const std::vector<StyleImage> styles{{fixtures::style_image(200, 264, 7), 0.3},
                                         {fixtures::style_image(150, 150, 13), 0.7}};
    for (auto loss : {StyleLossKind::MeanCov, StyleLossKind::Gram}) {
        o.style_loss = loss;
        StylizeOptions untiled = o;
        untiled.tile = 0;
        const auto a = compute_style_targets(model, styles, image, 264, untiled);
        const auto b = compute_style_targets(model, styles, image, 264, o);
        for (size_t i = 0; i < a.statistics[0][0].size(); ++i) {
            CHECK(relative_error(b.statistics[0][0][i], a.statistics[0][0][i]) < 1e-4);
        }
    }
}

TEST_CASE("the tiled loss and gradient equal the untiled ones with the exact halo", "[engine]") {
    auto model = FeatureExtractor::load(fixtures::model());
    const int64_t h = 200, w = 264;  // not multiples of 16: the last tiles end on the image's edge
    const auto content = fixtures::content_image(h, w);
    const auto style = fixtures::style_image(h, w, 7);
    auto gen = at::detail::createCPUGenerator(5);
    const auto image = (content * 0.7 + at::rand({1, 3, h, w}, gen) * 0.3).contiguous();
    const auto plain = evaluate(model, image, content, style, 0, 0);
    const int64_t halo = tile_geometry(model, model.layer_index("relu5_1") + 1).exact_halo;
    for (int64_t tile : {96, 128}) {
        const auto tiled = evaluate(model, image, content, style, tile, halo);
        CHECK(tiled.losses.content == Approx(plain.losses.content).epsilon(1e-4));
        CHECK(tiled.losses.style == Approx(plain.losses.style).epsilon(1e-4));
        CHECK(tiled.losses.tv == Approx(plain.losses.tv).epsilon(1e-6));
        CHECK(relative_error(tiled.grad, plain.grad) < 1e-4);
    }
    // Without the halo the gradient is visibly wrong: the check can fail.
    const auto rough = evaluate(model, image, content, style, 96, 0);
    CHECK(relative_error(rough.grad, plain.grad) > 1e-2);
}

TEST_CASE("a tiled run gives the untiled run's image, and tiles only the scales that need it", "[engine]") {
    auto model = FeatureExtractor::load(fixtures::model());
    const auto content = fixtures::content_image(192, 256);
    const std::vector<StyleImage> styles{{fixtures::style_image(192, 256, 9), 1.0}};
    StylizeOptions o;
    o.size = 0;
    o.iterations = 5;
    const auto plain = stylize::stylize(model, content, styles, o);
    o.tile = 128;
    const auto tiled = stylize::stylize(model, content, styles, o);
    CHECK(tiled.evaluations == plain.evaluations);
    CHECK(tiled.losses.total == Approx(plain.losses.total).epsilon(1e-2));
    CHECK(psnr(tiled.image, plain.image) >= 40.0);
    // L-BFGS amplifies rounding differences over the evaluations (on this
    // narrow model about 88 dB after 5 evaluations, 52 after 10, 32 after
    // 50; docs/guides/tiles-and-memory.md). Tiles must not diverge faster than a
    // change of the style weight by one part in a million does.
    o.tile = 0;
    o.style_weight *= 1 + 1e-6;
    const auto nudged = stylize::stylize(model, content, styles, o);
    CHECK(psnr(tiled.image, plain.image) >= psnr(nudged.image, plain.image) - 6.0);
    o.style_weight = StylizeOptions{}.style_weight;

    // Two scales, 128 px then 256 px, with one evaluation at the last: the
    // output is the first scale's result enlarged, the same bytes when that
    // scale (no larger than a tile) ran untiled.
    o.scales = 2;
    o.scale_factor = 2.0;
    o.scale_iterations = 8;
    o.iterations = 1;
    o.tile = 0;
    const auto plain2 = stylize::stylize(model, content, styles, o);
    o.tile = 128;
    const auto tiled2 = stylize::stylize(model, content, styles, o);
    CHECK(torch::equal(tiled2.image, plain2.image));
    CHECK(tiled2.losses.total == Approx(plain2.losses.total).epsilon(1e-4));  // the last scale's, in tiles
}

TEST_CASE("the memory estimate of a tiled run is that of one tile plus the whole image's state", "[unit]") {
    const auto model = fixtures::vgg19_stack();
    StylizeOptions o;
    o.content_layers = {{"relu4_2", 1.0}};
    const double plain = estimate_memory_bytes(model, 2048, 2048, o);
    o.tile = 512;
    const double tiled = estimate_memory_bytes(model, 2048, 2048, o);
    CHECK(tiled < plain / 4);
    // A shallow content layer's target is whole-image state: relu2_2's is a
    // 128-channel map at half the resolution, 1024^2 x 128 floats here (the
    // tile's own term adds a little more).
    StylizeOptions shallow = o;
    shallow.content_layers = {{"relu2_2", 0.5}, {"relu4_2", 0.5}};
    const double target_bytes = 1024.0 * 1024 * 128 * 4;
    const double more = estimate_memory_bytes(model, 2048, 2048, shallow) - tiled;
    CHECK(more >= target_bytes);
    CHECK(more < 1.25 * target_bytes);
    o.tile = 1024;
    CHECK(estimate_memory_bytes(model, 2048, 2048, o) > tiled);
    // An image no larger than a tile is not tiled.
    o.tile = 4096;
    CHECK(estimate_memory_bytes(model, 2048, 2048, o) == plain);
}
