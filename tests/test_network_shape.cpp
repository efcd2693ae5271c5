#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/engine.hpp"
#include "stylize/network_shape.hpp"

using namespace stylize;

using fixtures::vgg_stack;

TEST_CASE("layer shapes of VGG19 up to relu5_1 at 512x384", "[unit]") {
    const auto m = fixtures::vgg19_stack();
    const size_t depth = m.layer_index("relu5_1") + 1;
    const auto s = layer_shapes(m, depth, 384, 512);
    REQUIRE(s.size() == depth);
    const auto at = [&](const char* name) { return s[m.layer_index(name)]; };
    CHECK(at("relu1_2").channels == 64);
    CHECK(at("relu1_2").height == 384);
    CHECK(at("pool1").height == 192);
    CHECK(at("pool1").width == 256);
    CHECK(at("relu3_1").channels == 256);
    CHECK(at("relu4_1").height == 48);
    CHECK(at("relu5_1").height == 24);
    CHECK(at("relu5_1").width == 32);
    CHECK(at("relu5_1").elements() == 512.0 * 24 * 32);
    CHECK(minimum_input_side(m, depth) == 16);
}

TEST_CASE("odd sizes round down at each pool", "[unit]") {
    const auto m = vgg_stack({8, 0, 8, 0, 8});
    const auto s = layer_shapes(m, m.layers().size(), 37, 21);
    CHECK(s[m.layer_index("pool1")].height == 18);
    CHECK(s[m.layer_index("pool1")].width == 10);
    CHECK(s[m.layer_index("pool2")].height == 9);
    CHECK(s[m.layer_index("pool2")].width == 5);
}

TEST_CASE("pools with another kernel and stride change the shapes and the minimum side", "[unit]") {
    // 3x3 pools with stride 3: 81 -> 27 -> 9; the minimum side for relu3_1
    // is 9 (two pools of kernel 3, stride 3), not 4 as halving would say.
    const auto m = vgg_stack({8, 0, 8, 0, 8}, 3, 3);
    const auto s = layer_shapes(m, m.layers().size(), 81, 80);
    CHECK(s[m.layer_index("pool1")].height == 27);
    CHECK(s[m.layer_index("pool1")].width == 26);
    CHECK(s[m.layer_index("pool2")].height == 9);
    CHECK(s[m.layer_index("pool2")].width == 8);
    CHECK(minimum_input_side(m, m.layer_index("relu3_1") + 1) == 9);
    StylizeOptions o;
    o.content_layers = {{"relu2_1", 1}};
    o.style_layers = {{"relu3_1", 1}};
    CHECK(minimum_side(m, o) == 9);
    // Too small for the second pool: zero-sized from there on.
    CHECK(layer_shapes(m, m.layers().size(), 8, 8)[m.layer_index("pool2")].height == 0);
}

TEST_CASE("a deepest layer that is a pool needs its own window", "[unit]") {
    const auto m = vgg_stack({8, 0, 8, 0});
    CHECK(minimum_input_side(m, m.layers().size()) == 4);
    CHECK(minimum_input_side(m, m.layer_index("relu2_1") + 1) == 2);
}
