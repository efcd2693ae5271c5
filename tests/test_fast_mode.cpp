// Fast mode: the transformation network, its training (losses, checkpoints,
// resume) and the crops it trains on (the commands: test_cli_fast_mode.cpp).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/types.h>

#include "fast_mode_fixtures.hpp"
#include "fixtures.hpp"
#include "stylize/crop_sampler.hpp"
#include "stylize/errors.hpp"
#include "stylize/fast_training.hpp"
#include "stylize/image_io.hpp"
#include "stylize/image_ops.hpp"
#include "stylize/loss_plot.hpp"
#include "stylize/runtime_info.hpp"
#include "stylize/transform_net.hpp"

using namespace stylize;
using fixtures::same_parameters;
using fixtures::TempDir;
using fixtures::write_training_set;
namespace fs = std::filesystem;

namespace {

FastTrainOptions small_options() {
    FastTrainOptions o;
    o.crop = 32;
    o.batch = 2;
    o.net.width = 4;
    o.net.residual_blocks = 1;
    o.learning_rate = 0.01;
    o.losses.style_layers = {{"relu1_1", 1}, {"relu2_1", 1}};
    o.losses.content_layers = {{"relu2_1", 1}};
    return o;
}

torch::Tensor fixed_batch() {
    return torch::cat({fixtures::content_image(32, 32), fixtures::content_image(32, 32).flip({2})}, 0);
}

bool has_native_bf16() {
    const auto f = stylize::cpu_info().features;
    return std::find(f.begin(), f.end(), "AVX512_BF16") != f.end();
}

}  // namespace

TEST_CASE("transformation network: any size in, the same size out, in (0,1), seeded", "[unit]") {
    const auto a = TransformNet::create({4, 1}, 7), b = TransformNet::create({4, 1}, 7), c = TransformNet::create({4, 1}, 8);
    CHECK(same_parameters(a, b));
    CHECK_FALSE(same_parameters(a, c));
    torch::NoGradGuard no_grad;
    for (auto [h, w] : {std::pair<int64_t, int64_t>{37, 50}, {16, 16}, {64, 33}}) {
        const auto y = a.forward(torch::rand({2, 3, h, w}));
        CHECK(y.sizes() == torch::IntArrayRef({2, 3, h, w}));
        CHECK(y.min().item<float>() > 0);
        CHECK(y.max().item<float>() < 1);
    }
    CHECK_THROWS_AS(a.forward(torch::rand({1, 3, 15, 40})), InvalidArgument);
    CHECK_THROWS_AS(a.stylize(torch::rand({2, 3, 32, 32})), InvalidArgument);
    CHECK_THROWS_AS(TransformNet::create({0, 1}, 0), InvalidArgument);
}

TEST_CASE("transformation network: bf16 inference within a few 8-bit levels of fp32, and back", "[unit]") {
    auto net = TransformNet::create({16, 2}, 3);
    torch::manual_seed(5);
    const auto x = torch::rand({1, 3, 37, 50});
    const auto fp32 = net.stylize(x);
    CHECK(net.precision() == Precision::FP32);
    net.set_precision(Precision::BF16);
    CHECK(net.precision() == Precision::BF16);
    const auto copy = net;  // copies share the network and its precision
    CHECK(copy.precision() == Precision::BF16);
    const auto bf16 = net.stylize(x);
    CHECK(bf16.scalar_type() == torch::kFloat);
    REQUIRE(bf16.sizes() == fp32.sizes());
    const double max_diff = (bf16 - fp32).abs().max().item<double>();
    CHECK(max_diff > 0);             // it did run in bf16
    CHECK(max_diff < 4.0 / 255.0);   // 2-5 levels of 255 at 512 px on a trained network
    CHECK(torch::equal(net.stylize(x), bf16));
    // Back to fp32: the original weights, the same bytes as before.
    net.set_precision(Precision::FP32);
    CHECK(torch::equal(net.stylize(x), fp32));
    CHECK(fast_apply_precision(torch::kCPU) == (has_native_bf16() ? Precision::BF16 : Precision::FP32));
}

TEST_CASE("transformation network: saved as TorchScript with metadata, loaded the same", "[unit]") {
    TempDir dir;
    const auto net = TransformNet::create({4, 2}, 3);
    net.save(dir / "net.pt", R"({"steps": 12})");
    CHECK_FALSE(fs::exists(dir / ".net.pt.tmp"));
    const auto back = TransformNet::load(dir / "net.pt");
    CHECK(same_parameters(net, back));
    CHECK(back.spec().width == 4);
    CHECK(back.spec().residual_blocks == 2);
    CHECK(nlohmann::json::parse(back.info_json())["steps"] == 12);
    const auto x = fixtures::content_image(40, 44);
    CHECK(torch::equal(net.stylize(x), back.stylize(x)));
    // The file is plain TorchScript: LibTorch (or Python) runs it as it is.
    auto module = torch::jit::load(dir / "net.pt");
    torch::NoGradGuard no_grad;
    CHECK(torch::allclose(module.forward({x}).toTensor().clamp(0, 1), net.stylize(x)));

    SECTION("anything else is refused as a model error naming the file") {
        fixtures::write_file(dir / "junk.pt", "not a network");
        for (const auto& bad : {fixtures::model(), dir / "junk.pt", dir / "missing.pt"}) {
            try {
                TransformNet::load(bad);
                FAIL("loaded " << bad);
            } catch (const ModelError& e) {
                CHECK(std::string(e.what()).find(bad) == 0);
            }
        }
    }
}

TEST_CASE("crops: deterministic per seed and step, square, enlarged when small", "[unit]") {
    TempDir dir;
    write_training_set(dir);
    std::vector<std::string> paths;
    for (auto n : {"a.png", "b.png", "c.jpg", "d.png"}) paths.push_back(dir / ("contents/" + std::string(n)));
    const CropSampler s(paths, 48, 5), same(paths, 48, 5), other(paths, 48, 6);
    const auto b3 = s.batch(3, 4);
    CHECK(b3.sizes() == torch::IntArrayRef({4, 3, 48, 48}));
    CHECK(torch::equal(b3, same.batch(3, 4)));
    CHECK_FALSE(torch::equal(b3, s.batch(4, 4)));
    CHECK_FALSE(torch::equal(b3, other.batch(3, 4)));
    CHECK(torch::equal(b3.narrow(0, 0, 2), s.batch(3, 2)));  // the n-th crop of a step does not depend on the batch size
    // b (40 wide) and c (40x40) are smaller than 48 on their short side.
    CHECK(s.smaller_than_crop() == std::vector<std::string>{paths[1], paths[2]});
    CHECK_THROWS_AS(CropSampler({}, 48, 0), InvalidArgument);
    CHECK_THROWS_AS(CropSampler({dir / "contents/missing.png"}, 48, 0), ImageError);
}

TEST_CASE("training lowers the losses the optimisation uses", "[engine]") {
    auto model = FeatureExtractor::load(fixtures::model());
    const auto opt = small_options();
    FastTrainer trainer(model, {{fixtures::style_image(48, 48, 6), 1.0}}, opt);
    const auto batch = fixed_batch();
    std::vector<LossTerms> seen;
    for (int i = 0; i < 40; ++i) seen.push_back(trainer.step(batch));
    CHECK(trainer.steps_done() == 40);
    CHECK(trainer.history().size() == 40);
    CHECK(seen.back().style < 0.5 * seen.front().style);
    CHECK(seen.back().total < 0.5 * seen.front().total);
    // The reported terms are what measure_losses says of the network's
    // output for each image (the same code), averaged over the batch.
    torch::Tensor out;
    {
        torch::NoGradGuard no_grad;
        out = trainer.net().forward(batch);
    }
    const auto next = trainer.step(batch);  // losses before this step: at `out`
    double style = 0, content = 0;
    for (int64_t i = 0; i < 2; ++i) {
        const auto l = measure_losses(model, batch.narrow(0, i, 1), {{fixtures::style_image(48, 48, 6), 1.0}},
                                      out.narrow(0, i, 1), opt.losses);
        style += l.style / 2;
        content += l.content / 2;
    }
    CHECK(next.style == Approx(style).epsilon(1e-3));
    CHECK(next.content == Approx(content).epsilon(1e-3));
}

TEST_CASE("a resumed training run equals the uninterrupted one", "[engine]") {
    TempDir dir;
    auto model = FeatureExtractor::load(fixtures::model());
    const auto opt = small_options();
    const std::vector<StyleImage> styles{{fixtures::style_image(48, 48, 6), 1.0}};
    auto batch_of = [](int64_t step) { return fixed_batch() * (0.5 + 0.1 * static_cast<double>(step % 4)); };
    FastTrainer straight(model, styles, opt);
    for (int s = 0; s < 6; ++s) straight.step(batch_of(s));
    {
        FastTrainer first(model, styles, opt);
        for (int s = 0; s < 3; ++s) first.step(batch_of(s));
        first.save_checkpoint(dir / "ckpt.pt");
    }
    FastTrainer resumed(model, styles, opt);
    resumed.load_checkpoint(dir / "ckpt.pt");
    CHECK(resumed.steps_done() == 3);
    for (int s = 3; s < 6; ++s) resumed.step(batch_of(s));
    CHECK(same_parameters(straight.net(), resumed.net()));
    REQUIRE(resumed.history().size() == 6);
    for (size_t i = 0; i < 6; ++i) CHECK(resumed.history()[i].total == straight.history()[i].total);

    SECTION("other settings or another file are refused") {
        auto other = opt;
        other.crop = 40;
        FastTrainer different(model, styles, other);
        CHECK_THROWS_WITH(different.load_checkpoint(dir / "ckpt.pt"), Catch::Contains("crop 32 (now 40)"));
        FastTrainer other_style(model, styles, opt, "another style");
        CHECK_THROWS_WITH(other_style.load_checkpoint(dir / "ckpt.pt"), Catch::Contains("data"));
        fixtures::write_file(dir / "junk.pt", "junk");
        CHECK_THROWS_AS(resumed.load_checkpoint(dir / "junk.pt"), ModelError);
        CHECK_THROWS_AS(resumed.load_checkpoint(fixtures::model()), ModelError);
    }
}

TEST_CASE("fast mode refuses options it cannot honour", "[unit]") {
    auto o = small_options();
    o.crop = 16;
    CHECK_THROWS_WITH(validate(o), Catch::Contains("--crop"));
    o = small_options();
    o.batch = 0;
    CHECK_THROWS_WITH(validate(o), Catch::Contains("--batch"));
    o = small_options();
    o.learning_rate = -1;
    CHECK_THROWS_WITH(validate(o), Catch::Contains("--learning-rate"));
    o = small_options();
    o.losses.color = ColorMode::Luminance;
    CHECK_THROWS_WITH(validate(o), Catch::Contains("--colors"));
}

TEST_CASE("measure_losses: the content itself has no content loss", "[engine]") {
    auto model = FeatureExtractor::load(fixtures::model());
    const auto content = fixtures::content_image(40, 48);
    const auto l = measure_losses(model, content, {{fixtures::style_image(48, 48, 6), 1.0}}, content, small_options().losses);
    CHECK(l.content == 0);
    CHECK(l.style > 0);
    CHECK(l.total == Approx(l.content + l.style + l.tv));
}

TEST_CASE("loss plot: a PNG of the curves", "[unit]") {
    TempDir dir;
    std::vector<double> v;
    for (int i = 1; i <= 100; ++i) v.push_back(100.0 / i);
    save_loss_plot(dir / "plot.png", {{"total", v}, {"style", std::vector<double>(100, 0.5)}});
    const auto img = load_image(dir / "plot.png").rgb;
    CHECK(img.size(2) == 500);
    CHECK(img.size(3) == 900);
    CHECK(img.min().item<float>() < 0.1);  // something was drawn on the white
}
