// The engine's parts on their own: the style statistic, the evaluation
// strategies against autograd by hand, and the options as the one source of
// truth for the model's compute settings.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include "run/evaluator.hpp"
#include "fixtures.hpp"
#include "loss/loss_terms.hpp"
#include "loss/style_statistic.hpp"
#include "stylize/engine.hpp"
#include "stylize/losses.hpp"

using namespace stylize;

TEST_CASE("the Gram statistic's loss is the relative error of Gram matrices", "[unit]") {
    torch::manual_seed(3);
    const auto f = torch::randn({1, 4, 5, 6});
    const auto target = gram_matrix(torch::randn({1, 4, 7, 3}));
    GramStatistic gram;
    const double norm = gram.normaliser(target);
    CHECK(norm == Approx((target * target).sum().item<double>()));
    const double by_hand = ((gram_matrix(f) - target).pow(2).sum() / norm).item<double>();
    CHECK(gram.loss(f, {}, target, norm, 0).item<double>() == Approx(by_hand).epsilon(1e-5));
    // Blending is linear in the weights.
    const auto fa = torch::randn({1, 4, 5, 6}), fb = torch::randn({1, 4, 5, 6});
    CHECK(torch::allclose(gram.target({{fa, {}, 0.25}, {fb, {}, 0.75}}),
                          gram_matrix(fa) * 0.25 + gram_matrix(fb) * 0.75, 1e-5, 1e-6));
}

TEST_CASE("both evaluation strategies give autograd's losses and gradient", "[engine]") {
    auto model = FeatureExtractor::load(fixtures::model());
    StylizeOptions o;
    o.style_loss = StyleLossKind::Gram;
    const auto content = fixtures::content_image(48, 64), style = fixtures::style_image(48, 64);
    const auto targets = compute_style_targets(model, {{style, 1.0}}, content, 64, o);
    const auto content_layer = model.layer_index("relu4_2");
    const auto content_target = model.extract(content, {"relu4_2"})[0].detach();
    const auto make_terms = [&] {
        FeatureLosses terms;
        terms.push_back(std::make_unique<ContentLoss>(content_layer, content_target, 2.0, false));
        for (size_t i = 0; i < o.style_layers.size(); ++i)
            terms.push_back(std::make_unique<StyleLoss>(model.layer_index(o.style_layers[i].name),
                                                        std::make_shared<const GramStatistic>(), targets.statistics[0][0][i], 100.0 * (i + 1),
                                                        false));
        return terms;
    };
    torch::manual_seed(5);
    const auto start = (content + 0.1 * torch::randn_like(content)).clamp(0, 1);

    // By hand: every feature from one extract, the same weighted sum, backward.
    auto xr = start.clone().requires_grad_(true);
    std::vector<std::string> names{"relu4_2"};
    for (const auto& l : o.style_layers) names.push_back(l.name);
    const auto feats = model.extract(xr, names);
    auto loss = relative_squared_error(feats[0], content_target) * 2.0;
    double style_sum = 0;
    for (size_t i = 0; i < o.style_layers.size(); ++i) {
        auto t = relative_squared_error(gram_matrix(feats[i + 1]), targets.statistics[0][0][i]) * (100.0 * (i + 1));
        style_sum += t.item<double>();
        loss = loss + t;
    }
    auto tv = total_variation(xr) * 0.5;
    (loss + tv).backward();

    for (bool checkpoint : {false, true}) {
        ImageLosses image_terms;
        image_terms.push_back(std::make_unique<TVLoss>(0.5));
        auto evaluator = make_evaluator(model, make_terms(), std::move(image_terms), checkpoint, 48, 64);
        auto x = start.clone().requires_grad_(true);
        const auto t = evaluator->evaluate(x);
        CHECK(t.style == Approx(style_sum).epsilon(1e-4));
        CHECK(t.tv == Approx(tv.item<double>()).epsilon(1e-5));
        CHECK(t.total == Approx((loss + tv).item<double>()).epsilon(1e-4));
        const double err = ((x.grad() - xr.grad()).abs().max() / xr.grad().abs().max()).item<double>();
        CHECK(err < 1e-4);
    }
}

TEST_CASE("the run's options set the model's pooling and precision", "[engine]") {
    auto model = FeatureExtractor::load(fixtures::model());
    const auto original = model.layers()[0].weight.clone();
    StylizeOptions o;
    o.iterations = 2;
    o.size = 32;
    o.pooling = Pooling::Avg;
    stylize::stylize(model, fixtures::content_image(), {{fixtures::style_image(), 1.0}}, o);
    CHECK(model.config().pooling == Pooling::Avg);
    CHECK(model.config().device == torch::Device(torch::kCPU));
    o.pooling = Pooling::Max;
    o.precision = Precision::BF16;
    stylize::stylize(model, fixtures::content_image(), {{fixtures::style_image(), 1.0}}, o);
    CHECK(model.config().pooling == Pooling::Max);
    CHECK(model.config().precision == Precision::BF16);
    CHECK(model.layers()[0].weight.scalar_type() == torch::kBFloat16);
    // Back to fp32: the weights as loaded, not rounded through bf16.
    o.precision = Precision::FP32;
    stylize::stylize(model, fixtures::content_image(), {{fixtures::style_image(), 1.0}}, o);
    CHECK(model.layers()[0].weight.scalar_type() == torch::kFloat);
    CHECK(torch::equal(model.layers()[0].weight.contiguous(), original.contiguous()));
}
