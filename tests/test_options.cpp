#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "stylize/errors.hpp"
#include "stylize/options.hpp"

using namespace stylize;

TEST_CASE("layer lists parse names and optional weights", "[unit]") {
    const auto l = parse_layer_list("relu1_1, relu2_1:0.5,relu3_1:2", "--style-layers");
    REQUIRE(l.size() == 3);
    CHECK(l[0].name == "relu1_1");
    CHECK(l[0].weight == 1.0);
    CHECK(l[1].weight == 0.5);
    CHECK(l[2].name == "relu3_1");
    CHECK(l[2].weight == 2.0);
}

TEST_CASE("layer lists reject empty, malformed, negative and duplicate items", "[unit]") {
    CHECK_THROWS_AS(parse_layer_list("", "x"), InvalidArgument);
    CHECK_THROWS_AS(parse_layer_list("relu1_1,", "x"), InvalidArgument);
    CHECK_THROWS_AS(parse_layer_list("relu1_1:-1", "x"), InvalidArgument);
    CHECK_THROWS_AS(parse_layer_list("relu1_1:nan", "x"), InvalidArgument);
    CHECK_THROWS_AS(parse_layer_list("relu1_1:abc", "x"), InvalidArgument);
    CHECK_THROWS_AS(parse_layer_list("relu 1", "x"), InvalidArgument);
    CHECK_THROWS_AS(parse_layer_list("relu1_1,relu1_1", "x"), InvalidArgument);
    CHECK_THROWS_WITH(parse_layer_list("relu1_1:-1", "--style-layers"), Catch::Contains("--style-layers"));
}

TEST_CASE("number lists", "[unit]") {
    CHECK(parse_number_list("0.7, 0.3", "b") == std::vector<double>{0.7, 0.3});
    CHECK_THROWS_AS(parse_number_list("", "b"), InvalidArgument);
    CHECK_THROWS_AS(parse_number_list("1,inf", "b"), InvalidArgument);
    CHECK_THROWS_AS(parse_number_list("1,-2", "b"), InvalidArgument);
}

TEST_CASE("defaults validate; every numeric option rejects meaningless values", "[unit]") {
    StylizeOptions ok;
    REQUIRE_NOTHROW(validate(ok));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto bad = [&](auto mutate) {
        StylizeOptions o;
        mutate(o);
        return o;
    };
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.content_weight = nan; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.style_weight = -1; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.tv_weight = INFINITY; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.iterations = 0; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.lbfgs_history = 0; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.learning_rate = 0; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.learning_rate = nan; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.size = 8; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.size = 100000; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.style_scale = 0; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.scale_factor = 1; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.ema_decay = 1; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.early_stop_tolerance = -0.1; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.style_layers.clear(); })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.style_layers = {{"relu1_1", 0}}; })), InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.style_blend = {0, 0}; })), InvalidArgument);
    // Found by fuzzing: each weight finite, their sum not.
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.style_layers = {{"relu1_1", 1e308}, {"relu2_1", 1e308}}; })),
                    InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.content_layers = {{"relu4_2", 1e308}, {"relu5_2", 1e308}}; })),
                    InvalidArgument);
    CHECK_THROWS_AS(validate(bad([&](auto& o) { o.style_blend = {1e308, 1e308}; })), InvalidArgument);
    CHECK_THROWS_WITH(validate(bad([&](auto& o) { o.iterations = -3; })), Catch::Contains("--iterations"));
}
