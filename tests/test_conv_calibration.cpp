// ConvAlgorithm::Auto's measured per-layer choice: the plan arithmetic, the
// remembered plans, and the model's plan switch.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include <filesystem>

#include "fixtures.hpp"
#include "stylize/conv_calibration.hpp"
#include "stylize/errors.hpp"
#include "stylize/model.hpp"

using namespace stylize;
using fixtures::TempDir;
namespace fs = std::filesystem;

namespace {
ConvLayerTiming timing(bool eligible, double direct, double winograd, double convert) {
    ConvLayerTiming t;
    t.eligible = eligible;
    t.direct_ms = direct;
    t.winograd_ms = eligible ? winograd : 0;
    t.convert_ms = eligible ? convert : 0;
    return t;
}

FeatureExtractor auto_model() {
    auto model = FeatureExtractor::load(fixtures::model());
    ExtractorConfig cfg;
    cfg.conv_algorithm = ConvAlgorithm::Auto;
    model.configure(cfg);
    return model;
}
}  // namespace

TEST_CASE("the cheapest plan weighs each layer and the layout changes between them", "[unit]") {
    double ms = 0;
    // Winograd twice as fast everywhere it can run: all of those.
    CHECK(cheapest_conv_plan({timing(false, 5, 0, 0), timing(true, 10, 5, 1), timing(true, 10, 5, 1)}, &ms) == "dww");
    CHECK(ms == Approx(5 + 0.5 + 5 + 5 + 0.5));
    // Direct faster: none.
    CHECK(cheapest_conv_plan({timing(true, 4, 5, 1), timing(true, 4, 6, 1)}, &ms) == "dd");
    CHECK(ms == Approx(8));
    // One layer 1 ms faster as Winograd, but the way there and back costs 4: direct.
    CHECK(cheapest_conv_plan({timing(true, 10, 10, 4), timing(true, 10, 9, 4), timing(true, 10, 10, 4)}, &ms) == "ddd");
    CHECK(ms == Approx(30));
    // The same layer in a run of Winograd layers (no change of layout): Winograd.
    CHECK(cheapest_conv_plan({timing(true, 10, 5, 4), timing(true, 10, 9, 4), timing(true, 10, 5, 4)}, &ms) == "www");
    CHECK(ms == Approx(2 + 5 + 9 + 5 + 2));
    // A layer that cannot run as Winograd breaks the run.
    CHECK(cheapest_conv_plan({timing(true, 10, 5, 2), timing(false, 3, 0, 0), timing(true, 10, 5, 2)}, &ms) == "wdw");
    CHECK(cheapest_conv_plan({}, &ms).empty());
}

TEST_CASE("calibration_side rounds to the nearest power of two from 64 to 512", "[unit]") {
    CHECK(calibration_side(0) == 512);
    CHECK(calibration_side(10) == 64);
    CHECK(calibration_side(90) == 64);
    CHECK(calibration_side(100) == 128);
    CHECK(calibration_side(181) == 128);
    CHECK(calibration_side(182) == 256);
    CHECK(calibration_side(512) == 512);
    CHECK(calibration_side(4000) == 512);
    CHECK_THAT(cpu_identity(), Catch::Contains("LibTorch"));
}

TEST_CASE("apply_conv_plan switches layers to direct and refuses what cannot run", "[model]") {
    auto model = FeatureExtractor::load(fixtures::model());
    ExtractorConfig cfg;
    cfg.conv_algorithm = ConvAlgorithm::Direct;
    model.configure(cfg);
    const auto direct = model.conv_plan();
    REQUIRE(direct == std::string(direct.size(), 'd'));
    CHECK_THROWS_AS(model.apply_conv_plan("dd"), InvalidArgument);
    CHECK_THROWS_AS(model.apply_conv_plan(std::string(direct.size(), 'w')), InvalidArgument);
    CHECK_THROWS_AS(model.apply_conv_plan(std::string(direct.size(), 'x')), InvalidArgument);
    model.apply_conv_plan(direct);
    CHECK(model.conv_plan() == direct);
    if (!winograd_supported()) return;
    auto wino = auto_model();
    auto plan = wino.conv_plan();
    const auto first_w = plan.find('w');
    REQUIRE(first_w != std::string::npos);
    plan[first_w] = 'd';
    wino.apply_conv_plan(plan);
    CHECK(wino.conv_plan() == plan);
    CHECK(!wino.layers()[wino.layer_index("conv2_2")].winograd);
    // The features agree with the direct model's to rounding.
    const auto x = fixtures::content_image();
    const auto a = wino.extract(x, {"relu4_1"})[0], b = model.extract(x, {"relu4_1"})[0];
    CHECK((a - b).abs().max().item<double>() <= 1e-4 * (b.abs().max().item<double>() + 1e-12));
}

TEST_CASE("calibrate_convolutions measures once per key and reads the plan back after", "[model]") {
    TempDir dir;
    const std::string cache = dir / "cache";
    if (!winograd_supported()) {
        auto model = auto_model();
        const auto r = calibrate_convolutions(model, 64, cache);
        CHECK(!r.measured);
        CHECK(r.key.empty());
        WARN("no oneDNN Winograd kernels in this build or on this CPU: nothing to choose between here");
        return;
    }
    auto model = auto_model();
    const auto all_winograd = model.conv_plan();
    int calls = 0;
    const auto first = calibrate_convolutions(model, 70, cache, [&](int64_t side) {
        ++calls;
        CHECK(side == 64);
    });
    CHECK(calls == 1);
    CHECK(first.measured);
    CHECK(first.side == 64);
    REQUIRE(first.layers.size() == all_winograd.size());
    for (size_t i = 0; i < first.layers.size(); ++i) {
        CHECK(first.layers[i].eligible == (all_winograd[i] == 'w'));
        CHECK(first.layers[i].direct_ms > 0);
        CHECK((first.layers[i].winograd_ms > 0) == first.layers[i].eligible);
    }
    CHECK(first.plan == model.conv_plan());
    CHECK(first.plan_ms <= std::min(first.winograd_ms, first.direct_ms) + 1e-9);
    CHECK(fs::exists(fs::path(cache) / "conv-plans.json"));

    // A second run of the same size class reads it back: no measurement.
    auto again = auto_model();
    const auto second = calibrate_convolutions(again, 60, cache, [&](int64_t) { ++calls; });
    CHECK(calls == 1);
    CHECK(!second.measured);
    CHECK(second.key == first.key);
    CHECK(again.conv_plan() == first.plan);
    // Another size class is measured on its own.
    auto larger = auto_model();
    CHECK(calibrate_convolutions(larger, 128, cache, [&](int64_t) { ++calls; }).measured);
    CHECK(calls == 2);

    SECTION("a damaged entry is measured again") {
        auto text = fixtures::read_file((fs::path(cache) / "conv-plans.json").string());
        int damaged = 0;
        for (auto at = text.find("\"plan\": \""); at != std::string::npos; at = text.find("\"plan\": \"", at + 1))
            text.replace(at + 9, 1, "z"), ++damaged;
        REQUIRE(damaged == 2);
        fixtures::write_file((fs::path(cache) / "conv-plans.json").string(), text);
        auto m = auto_model();
        CHECK(calibrate_convolutions(m, 64, cache).measured);
    }
    SECTION("no cache folder, a forced algorithm or bf16: left as configured, nothing measured") {
        auto m = auto_model();
        const auto none = calibrate_convolutions(m, 64, "");
        CHECK(!none.measured);
        CHECK(none.key.empty());
        CHECK(m.conv_plan() == all_winograd);
        for (auto algorithm : {ConvAlgorithm::Winograd, ConvAlgorithm::Direct}) {
            ExtractorConfig cfg;
            cfg.conv_algorithm = algorithm;
            m.configure(cfg);
            const auto before = m.conv_plan();
            CHECK(!calibrate_convolutions(m, 64, (dir / "other")).measured);
            CHECK(m.conv_plan() == before);
        }
        CHECK(!fs::exists(dir / "other"));
    }
}
