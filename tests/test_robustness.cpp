// Odd inputs in the library: unusual image files, and sizes the engine must
// upscale or refuse. The command line's side is in test_cli_robustness.cpp.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/engine.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"
#include "stylize/image_ops.hpp"

using namespace stylize;
using fixtures::TempDir;
namespace fs = std::filesystem;

namespace {
std::string image(const std::string& name) { return (fs::path(STYLIZE_FIXTURE_DIR) / "images" / name).string(); }

}  // namespace

TEST_CASE("EXIF orientation is applied", "[unit]") {
    const auto plain = load_image(image("plain.jpg"));
    const auto rotated = load_image(image("exif_rot90.jpg"));
    REQUIRE(plain.rgb.sizes() == torch::IntArrayRef({1, 3, 24, 40}));
    REQUIRE(rotated.rgb.sizes() == torch::IntArrayRef({1, 3, 40, 24}));
    // Orientation 6 = rotate 90 degrees clockwise for display.
    CHECK((rotated.rgb - plain.rgb.rot90(-1, {2, 3})).abs().mean().item<double>() < 0.02);
}

TEST_CASE("CMYK JPEG, 16-bit greyscale PNG, 1x1 images load as RGB", "[unit]") {
    const auto cmyk = load_image(image("cmyk.jpg"));
    const auto plain = load_image(image("plain.jpg"));
    REQUIRE(cmyk.rgb.sizes() == plain.rgb.sizes());
    CHECK((cmyk.rgb - plain.rgb).abs().mean().item<double>() < 0.05);
    const auto g16 = load_image(image("grey16.png"));
    CHECK(g16.bit_depth == 16);
    CHECK(g16.rgb[0][0][3][10].item<double>() == Approx((10 * 1500 + 3) / 65535.0).margin(1e-6));
    CHECK(load_image(image("one.png")).rgb.sizes() == torch::IntArrayRef({1, 3, 1, 1}));
}

TEST_CASE("truncated JPEG, GIF, and a header declaring 60000x60000 are refused", "[unit]") {
    CHECK_THROWS_WITH(load_image(image("truncated.jpg")), Catch::Contains("truncated"));
    CHECK_THROWS_AS(load_image(image("anim.gif")), ImageError);
    CHECK_THROWS_WITH(load_image(image("huge_header.jpg")), Catch::Contains("60000x60000") && Catch::Contains("--max-pixels"));
}

TEST_CASE("a 1x1 content is upscaled; an extreme aspect ratio is refused clearly", "[engine]") {
    auto model = FeatureExtractor::load(fixtures::model());
    StylizeOptions o;
    o.size = 32;
    o.iterations = 2;
    auto one = load_image(image("one.png")).rgb;
    auto r = stylize::stylize(model, one, {{fixtures::style_image(), 1.0}}, o);
    CHECK(r.image.sizes() == torch::IntArrayRef({1, 3, 32, 32}));
    CHECK(minimum_side(model, o) == 16);
    auto wide = load_image(image("wide.png")).rgb;
    CHECK_THROWS_WITH(stylize::stylize(model, wide, {{fixtures::style_image(), 1.0}}, o),
                      Catch::Contains("at least 16 pixels"));
    CHECK_THROWS_WITH(stylize::stylize(model, fixtures::content_image(), {{wide, 1.0}}, o),
                      Catch::Contains("style image"));
    // Shallower layers need less.
    o.style_layers = {{"relu1_1", 1.0}};
    o.content_layers = {{"relu1_2", 1.0}};
    CHECK(minimum_side(model, o) == 1);
}
