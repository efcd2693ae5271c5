#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

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

namespace {

// Every numeric setting of StylizeOptions with its field, for the tests below.
template <class T>
struct Field {
    const Setting<T>& setting;
    T StylizeOptions::*member;
};

const std::vector<Field<int>> int_fields{
    {settings::iterations, &StylizeOptions::iterations},
    {settings::lbfgs_history, &StylizeOptions::lbfgs_history},
    {settings::early_stop_window, &StylizeOptions::early_stop_window},
    {settings::size, &StylizeOptions::size},
    {settings::scales, &StylizeOptions::scales},
    {settings::scale_iterations, &StylizeOptions::scale_iterations},
    {settings::output_bit_depth, &StylizeOptions::output_bit_depth},
    {settings::tile, &StylizeOptions::tile},
    {settings::tile_halo, &StylizeOptions::tile_halo},
};
const std::vector<Field<double>> double_fields{
    {settings::content_weight, &StylizeOptions::content_weight},
    {settings::style_weight, &StylizeOptions::style_weight},
    {settings::tv_weight, &StylizeOptions::tv_weight},
    {settings::learning_rate, &StylizeOptions::learning_rate},
    {settings::ema_decay, &StylizeOptions::ema_decay},
    {settings::early_stop, &StylizeOptions::early_stop_tolerance},
    {settings::style_scale, &StylizeOptions::style_scale},
    {settings::scale_factor, &StylizeOptions::scale_factor},
};

// validate() of the defaults with one field changed: "" when accepted, else the message.
template <class T>
std::string verdict(T StylizeOptions::*member, T value) {
    StylizeOptions o;
    o.*member = value;
    try {
        validate(o);
        return "";
    } catch (const InvalidArgument& e) {
        return e.what();
    }
}

}  // namespace

TEST_CASE("settings: the defaults and validate()'s ranges are the settings' own", "[unit]") {
    const StylizeOptions defaults;
    for (const auto& f : int_fields) {
        const auto& s = f.setting;
        INFO(s.flag);
        CHECK(defaults.*f.member == s.fallback);
        CHECK(verdict(f.member, s.min).empty());
        CHECK(verdict(f.member, s.max).empty());
        if (s.special_means) CHECK(verdict(f.member, s.special).empty());
        const auto below = verdict(f.member, s.min - 1 == s.special && s.special_means ? s.min - 2 : s.min - 1);
        CHECK(below == std::string(s.flag) + " must be " + range_text(s) + ", got " +
                           std::to_string(s.min - 1 == s.special && s.special_means ? s.min - 2 : s.min - 1));
        CHECK(verdict(f.member, s.max + 1) ==
              std::string(s.flag) + " must be " + range_text(s) + ", got " + std::to_string(s.max + 1));
    }
    for (const auto& f : double_fields) {
        const auto& s = f.setting;
        INFO(s.flag);
        CHECK(defaults.*f.member == s.fallback);
        CHECK(verdict(f.member, s.min).empty() == !s.min_open);
        CHECK(verdict(f.member, s.max).empty() == !s.max_open);
        CHECK(verdict(f.member, std::nextafter(s.min, s.max)).empty());
        CHECK_THAT(verdict(f.member, std::nextafter(s.min, -1e300)),
                   Catch::StartsWith(std::string(s.flag) + " must be " + range_text(s) + ", got "));
        CHECK_THAT(verdict(f.member, std::numeric_limits<double>::quiet_NaN()),
                   Catch::StartsWith(std::string(s.flag) + " must be "));
        CHECK_THAT(verdict(f.member, std::numeric_limits<double>::infinity()),
                   Catch::StartsWith(std::string(s.flag) + " must be "));
    }
}

TEST_CASE("settings: the range in the messages says what is accepted", "[unit]") {
    CHECK(range_text(settings::iterations) == "between 1 and 1000000");
    CHECK(range_text(settings::learning_rate) == "in (0, 10]");
    CHECK(range_text(settings::ema_decay) == "in [0, 1)");
    CHECK(range_text(settings::content_weight) == "a finite number >= 0");
    CHECK(range_text(settings::size) == "0 (keep) or between 16 and 16384");
    CHECK(range_text(settings::bit_depth) == "8 or 16");
    CHECK(range_text(settings::output_bit_depth) == "0 (not quantised) or 8 or 16");
    CHECK(range_text(settings::save_every) == ">= 0");
    // --tile 1 to 15 pass here (the tile plan then says the smallest tile
    // is 16): the message says so, not 16-16384.
    CHECK(range_text(settings::tile) == "0 (off) or between 1 and 16384");
    CHECK(verdict(&StylizeOptions::tile, 8).empty());
    CHECK(verdict(&StylizeOptions::tile, -1) == "--tile must be 0 (off) or between 1 and 16384, got -1");
    CHECK(verdict(&StylizeOptions::output_bit_depth, 12) == "--bit-depth must be 0 (not quantised) or 8 or 16, got 12");
    CHECK_THROWS_WITH(check_setting(settings::jpeg_quality, 0), "--jpeg-quality must be between 1 and 100, got 0");
    CHECK_THROWS_WITH(check_setting(settings::threads, 1025), "--threads must be between 0 and 1024, got 1025");
    CHECK_NOTHROW(check_setting(settings::threads, 0));
}

TEST_CASE("settings: --style-blend needs one weight per style image", "[unit]") {
    StylizeOptions o;
    CHECK_NOTHROW(check_style_count(o, 3));
    o.style_blend = {0.3, 0.7};
    CHECK_NOTHROW(check_style_count(o, 2));
    CHECK_THROWS_WITH(check_style_count(o, 3), "--style-blend has 2 weights for 3 style images");
}

TEST_CASE("layer names come in the lists' order, content first", "[unit]") {
    StylizeOptions o;
    o.content_layers = {{"relu4_2", 0.5}, {"relu2_2", 0.5}};
    o.style_layers = {{"relu1_1", 1}, {"relu4_2", 2}};
    CHECK(layer_names(o.style_layers) == std::vector<std::string>{"relu1_1", "relu4_2"});
    CHECK(run_layer_names(o) == std::vector<std::string>{"relu4_2", "relu2_2", "relu1_1", "relu4_2"});
    CHECK(layer_names({}).empty());
}

TEST_CASE("for_each_option visits every field once, under the settings' keys", "[unit]") {
    StylizeOptions o;
    o.tile = 128;  // tile and tile_halo are visited only when tiled
    std::vector<std::string> keys;
    for_each_option(o, [&](const char* key, const auto&) { keys.push_back(key); });
    // One key per field: the struct's fields, counted by hand (update both
    // when a field is added).
    CHECK(keys.size() == 30);
    std::vector<std::string> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
    for (const auto& f : int_fields) CHECK(std::count(keys.begin(), keys.end(), f.setting.key) == 1);
    for (const auto& f : double_fields) CHECK(std::count(keys.begin(), keys.end(), f.setting.key) == 1);
    o.tile = 0;
    keys.clear();
    for_each_option(o, [&](const char* key, const auto&) { keys.push_back(key); });
    CHECK(keys.size() == 28);
    CHECK(std::count(keys.begin(), keys.end(), "tile") == 0);
}
