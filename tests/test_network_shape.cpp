#include <catch2/catch.hpp>
#include <torch/types.h>

#include "stylize/engine.hpp"
#include "stylize/network_shape.hpp"

using namespace stylize;

namespace {
// A VGG-like stack from a config: channel counts, 0 = a pool of kernel k,
// stride s (uninitialised weights: only shapes matter here).
FeatureExtractor stack(const std::vector<int>& cfg, int pool_kernel = 2, int pool_stride = 2) {
    std::vector<LayerKind> kinds;
    std::vector<Layer> layers;
    int64_t c = 3;
    for (int v : cfg) {
        if (v == 0) {
            Layer pool{"", LayerKind::Pool, {}, {}, 0};
            pool.pool_kernel = pool_kernel;
            pool.pool_stride = pool_stride;
            layers.push_back(pool);
            kinds.push_back(LayerKind::Pool);
            continue;
        }
        layers.push_back(Layer{"", LayerKind::Conv, torch::zeros({v, c, 3, 3}), torch::zeros({v}), 1});
        layers.push_back(Layer{"", LayerKind::Relu, {}, {}, 0});
        kinds.push_back(LayerKind::Conv);
        kinds.push_back(LayerKind::Relu);
        c = v;
    }
    const auto names = name_vgg_layers(kinds, "stack");
    for (size_t i = 0; i < layers.size(); ++i) layers[i].name = names[i];
    return FeatureExtractor(std::move(layers), ModelInfo{});
}
}  // namespace

TEST_CASE("layer shapes of VGG19 up to relu5_1 at 512x384", "[unit]") {
    const auto m = stack({64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512});
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
    const auto m = stack({8, 0, 8, 0, 8});
    const auto s = layer_shapes(m, m.layers().size(), 37, 21);
    CHECK(s[m.layer_index("pool1")].height == 18);
    CHECK(s[m.layer_index("pool1")].width == 10);
    CHECK(s[m.layer_index("pool2")].height == 9);
    CHECK(s[m.layer_index("pool2")].width == 5);
}

TEST_CASE("pools with another kernel and stride change the shapes and the minimum side", "[unit]") {
    // 3x3 pools with stride 3: 81 -> 27 -> 9; the minimum side for relu3_1
    // is 9 (two pools of kernel 3, stride 3), not 4 as halving would say.
    const auto m = stack({8, 0, 8, 0, 8}, 3, 3);
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
    const auto m = stack({8, 0, 8, 0});
    CHECK(minimum_input_side(m, m.layers().size()) == 4);
    CHECK(minimum_input_side(m, m.layer_index("relu2_1") + 1) == 2);
}
