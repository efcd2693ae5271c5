// CUDA tests: hidden ([.]) so plain runs skip them; `ctest -L cuda` runs
// "[cuda]", which main.cpp reports as skipped (exit 4) without a CUDA device.
#include <catch2/catch.hpp>
#include <torch/cuda.h>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/engine.hpp"
#include "stylize/errors.hpp"

using namespace stylize;

TEST_CASE("CUDA and CPU runs agree within tolerance", "[.][cuda]") {
    REQUIRE(torch::cuda::is_available());
    StylizeOptions o;
    o.size = 64;
    o.iterations = 20;
    auto cpu_model = FeatureExtractor::load(fixtures::model());
    auto cpu = stylize::stylize(cpu_model, fixtures::content_image(), {{fixtures::style_image(), 1.0}}, o);
    for (auto precision : {Precision::FP32, Precision::TF32, Precision::BF16}) {
        auto gpu_model = FeatureExtractor::load(fixtures::model());
        ExtractorConfig cfg;
        cfg.device = resolve_device("cuda");
        cfg.precision = precision;
        gpu_model.configure(cfg);
        o.device = "cuda";
        o.precision = precision;
        auto gpu = stylize::stylize(gpu_model, fixtures::content_image(), {{fixtures::style_image(), 1.0}}, o);
        INFO(to_string(precision));
        CHECK(gpu.image.device().is_cpu());
        CHECK(gpu.evaluations == 20);
        CHECK(std::abs(gpu.losses.total - cpu.losses.total) / cpu.losses.total < 0.05);
        CHECK((gpu.image - cpu.image).abs().mean().item<double>() < 0.02);
    }
}

TEST_CASE("an absent CUDA device index is a runtime error", "[.][cuda]") {
    CHECK_THROWS_AS(resolve_device("cuda:99"), RuntimeFailure);
}

TEST_CASE("without CUDA, --device cuda is a clear runtime error", "[unit]") {
    if (torch::cuda::is_available()) return;
    CHECK_THROWS_WITH(resolve_device("cuda"), Catch::Contains("--device cpu"));
    CHECK_THROWS_AS(resolve_device("gpu"), InvalidArgument);
    CHECK(resolve_device("auto").is_cpu());
}
