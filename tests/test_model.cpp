#include <algorithm>
#include <thread>

#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/errors.hpp"
#include "stylize/model.hpp"
#include "stylize/runtime_info.hpp"

using namespace stylize;

TEST_CASE("layers are named VGG-style from their kinds", "[unit]") {
    using K = LayerKind;
    const auto names = name_vgg_layers({K::Conv, K::Relu, K::Conv, K::Relu, K::Pool, K::Conv, K::Relu}, "m");
    CHECK(names == std::vector<std::string>{"conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1", "conv2_1", "relu2_1"});
    CHECK_THROWS_AS(name_vgg_layers({K::Relu, K::Conv}, "m"), ModelError);
    CHECK_THROWS_AS(name_vgg_layers({K::Pool, K::Pool}, "m"), ModelError);
}

TEST_CASE("the narrow fixture model loads with its metadata and VGG19 names", "[model]") {
    auto m = FeatureExtractor::load(fixtures::model());
    CHECK(m.info().has_metadata);
    CHECK(m.info().weights == "random");
    CHECK(m.info().width_divisor == 8);
    CHECK(m.info().sha256.size() == 64);
    const auto names = m.layer_names();
    CHECK(names.size() == 37);  // VGG19 features: 16 conv + 16 relu + 5 pool
    CHECK(names.front() == "conv1_1");
    CHECK(names[names.size() - 2] == "relu5_4");
    CHECK(names.back() == "pool5");
    CHECK(m.has_layer("relu4_2"));
    CHECK(m.channels_at("relu1_1") == 8);
    CHECK(m.channels_at("relu5_1") == 64);
    CHECK(m.depth_for({"relu1_1", "relu3_1"}) == m.layer_index("relu3_1") + 1);
    CHECK_THROWS_WITH(m.layer_index("relu9_9"), Catch::Contains("relu9_9") && Catch::Contains("relu5_1"));
}

TEST_CASE("extract returns the asked layers with the right shapes", "[model]") {
    auto m = FeatureExtractor::load(fixtures::model());
    auto img = fixtures::content_image(32, 48);
    auto f = m.extract(img, {"relu2_1", "relu1_1", "conv1_1"});
    REQUIRE(f.size() == 3);
    CHECK(f[0].sizes() == torch::IntArrayRef({1, 16, 16, 24}));
    CHECK(f[1].sizes() == torch::IntArrayRef({1, 8, 32, 48}));
    // conv1_1 kept before relu1_1 ran in place: it still has negative values.
    CHECK(f[2].min().item<double>() < 0);
    CHECK(torch::allclose(f[1], f[2].clamp_min(0)));
    // Every layout gives the same features; avg pooling differs from max.
    ExtractorConfig cfg;
    auto m2 = FeatureExtractor::load(fixtures::model());
    for (auto layout : {Layout::Contiguous, Layout::ChannelsLast}) {
        cfg.layout = layout;
        m2.configure(cfg);
        CHECK(torch::allclose(m2.extract(img, {"relu3_1", "relu5_1"})[1], m.extract(img, {"relu5_1"})[0], 1e-4, 1e-5));
    }
    // Auto: channels-last up to 128 channels (all of the narrow model), NCHW above.
    CHECK(m.config().layout == Layout::Auto);  // the default
    CHECK(m.layers()[m.layer_index("conv5_1")].channels_last);
    cfg.layout = Layout::Auto;
    m2.configure(cfg);
    CHECK(m2.layers()[m2.layer_index("conv5_1")].channels_last);
    CHECK(m2.layers()[m2.layer_index("conv1_1")].channels_last);
    cfg.layout = Layout::Contiguous;
    m2.configure(cfg);
    CHECK(!m2.layers()[m2.layer_index("conv1_1")].channels_last);
    cfg.pooling = Pooling::Avg;
    m2.configure(cfg);
    CHECK(!torch::allclose(m2.extract(img, {"relu3_1"})[0], m.extract(img, {"relu3_1"})[0], 1e-4, 1e-5));
}

TEST_CASE("bf16 features stay close to fp32 and come back as fp32", "[model]") {
    auto m = FeatureExtractor::load(fixtures::model());
    auto img = fixtures::content_image(32, 48);
    auto ref = m.extract(img, {"relu3_1"})[0];
    ExtractorConfig cfg;
    cfg.precision = Precision::BF16;
    m.configure(cfg);
    auto low = m.extract(img, {"relu3_1"})[0];
    CHECK(low.scalar_type() == torch::kFloat);
    CHECK(((low - ref).norm() / ref.norm()).item<double>() < 0.05);
}

TEST_CASE("usable cores: a CPU quota rounds up, no quota is no limit, the count is at least 1", "[unit]") {
    CHECK(stylize::cpu_quota_cores("400000 100000") == 4);    // cgroup v2 cpu.max
    CHECK(stylize::cpu_quota_cores("150000 100000") == 2);    // 1.5 CPUs: two threads
    CHECK(stylize::cpu_quota_cores("50000 100000") == 1);
    CHECK(stylize::cpu_quota_cores("max 100000") == 0);
    CHECK(stylize::cpu_quota_cores("200000", "100000") == 2);  // cgroup v1 quota and period
    CHECK(stylize::cpu_quota_cores("-1", "100000") == 0);
    CHECK(stylize::cpu_quota_cores("") == 0);
    CHECK(stylize::cpu_quota_cores("4x 100000") == 0);
    const int cores = stylize::usable_cores();
    CHECK(cores >= 1);
    CHECK(cores <= static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST_CASE("model errors name the file and the problem", "[model]") {
    CHECK_THROWS_WITH(FeatureExtractor::load(fixtures::model("absent.pt")),
                      Catch::Contains("absent.pt") && Catch::Contains("not found"));
    CHECK_THROWS_WITH(FeatureExtractor::load(fixtures::model("corrupt.pt")),
                      Catch::Contains("corrupt.pt") && Catch::Contains("TorchScript"));
    CHECK_THROWS_WITH(FeatureExtractor::load(fixtures::model("notvgg.pt")), Catch::Contains("Linear"));
    CHECK_THROWS_WITH(FeatureExtractor::load(fixtures::model("nan.pt")), Catch::Contains("NaN"));
    CHECK_THROWS_AS(FeatureExtractor::load(STYLIZE_FIXTURE_DIR), ModelError);
}

TEST_CASE("a model without metadata falls back to ImageNet normalisation", "[model]") {
    auto m = FeatureExtractor::load(fixtures::model("nometa.pt"));
    CHECK(!m.info().has_metadata);
    CHECK(m.info().mean == std::vector<double>{0.485, 0.456, 0.406});
    auto with = FeatureExtractor::load(fixtures::model());
    auto img = fixtures::content_image(16, 16);
    CHECK(torch::allclose(m.extract(img, {"relu2_1"})[0], with.extract(img, {"relu2_1"})[0]));
}
