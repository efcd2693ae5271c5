#include "loss/term_factory.hpp"

#include "loss/fixed_order_sum.hpp"
#include "loss/style_statistic.hpp"

namespace stylize {
namespace {

std::vector<double> normalised_weights(const std::vector<WeightedLayer>& layers) {
    double sum = 0;
    for (const auto& l : layers) sum += l.weight;
    std::vector<double> out;
    for (const auto& l : layers) out.push_back(sum > 0 ? l.weight / sum : 0.0);
    return out;
}

uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b, uint64_t c) {
    uint64_t x = seed;
    for (uint64_t v : {a, b, c}) {
        x ^= v + 0x9E3779B97F4A7C15ULL + (x << 6) + (x >> 2);
        x *= 0xBF58476D1CE4E5B9ULL;
    }
    return x;
}

}  // namespace

FeatureLosses make_terms(const FeatureExtractor& model, const StylizeOptions& opt,
                         const std::vector<torch::Tensor>& content_targets, const StyleTargets& style,
                         const torch::Tensor& regions) {
    FeatureLosses terms;
    const auto content_w = normalised_weights(opt.content_layers);
    for (size_t k = 0; k < content_targets.size(); ++k)
        terms.push_back(std::make_unique<ContentLoss>(model.layer_index(opt.content_layers[k].name),
                                                      content_targets[k], content_w[k] * opt.content_weight,
                                                      opt.normalize_gradients));
    const auto style_w = normalised_weights(opt.style_layers);
    const auto statistics = make_style_statistics(opt.style_loss);
    for (size_t k = 0; k < statistics.size(); ++k) {
        const auto& per_region = style.statistics[k];
        for (size_t r = 0; r < per_region.size(); ++r) {
            torch::Tensor mask;
            double area = 1.0;
            if (regions.defined()) {
                mask = regions.narrow(0, static_cast<int64_t>(r), 1);
                // In a fixed order: the weight must not depend on the thread count.
                area = fixed_order_sum(mask).item<double>() / static_cast<double>(mask.numel());
                if (!(area > 0)) continue;
            }
            for (size_t i = 0; i < opt.style_layers.size(); ++i) {
                if (!per_region[r][i].defined()) continue;
                terms.push_back(std::make_unique<StyleLoss>(model.layer_index(opt.style_layers[i].name), statistics[k],
                                                            per_region[r][i], style_w[i] * opt.style_weight * area,
                                                            opt.normalize_gradients, mask, mix_seed(opt.seed, k, r, i)));
            }
        }
    }
    return terms;
}

}  // namespace stylize
