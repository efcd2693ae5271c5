#include "stylize/targets.hpp"

#include <algorithm>
#include <cmath>

#include "style_statistic.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_ops.hpp"

namespace stylize {

torch::Tensor colour_view(const torch::Tensor& image, ColorMode mode) {
    return mode == ColorMode::Luminance ? luminance_rgb(image) : image;
}

StyleTargets compute_style_targets(const FeatureExtractor& model, const std::vector<StyleImage>& styles,
                                   const torch::Tensor& content, int64_t long_side, const StylizeOptions& opt) {
    torch::NoGradGuard no_grad;
    const auto device = model.config().device;
    std::vector<std::string> names;
    for (const auto& l : opt.style_layers) names.push_back(l.name);
    double blend_sum = 0;
    for (const auto& s : styles) blend_sum += s.weight;
    if (!(blend_sum > 0)) throw InvalidArgument("--style-blend: the weights sum to zero");
    const auto style_long = std::max<int64_t>(
        16, static_cast<int64_t>(std::lround(static_cast<double>(long_side) * opt.style_scale)));
    const auto statistic = make_style_statistic();
    std::vector<std::vector<torch::Tensor>> per_layer(names.size());
    std::vector<double> weights;
    for (const auto& s : styles) {
        if (s.weight <= 0) continue;
        auto img = s.image;
        if (opt.color == ColorMode::MatchMeanCov) img = match_mean_covariance(img, content);
        if (opt.color == ColorMode::MatchHistogram) img = match_histogram(img, content);
        img = colour_view(resize_long_side(img, style_long).to(device), opt.color);
        const auto feats = model.extract(img, names);
        for (size_t i = 0; i < feats.size(); ++i) per_layer[i].push_back(statistic->compute(feats[i]));
        weights.push_back(s.weight / blend_sum);
    }
    StyleTargets targets;
    targets.size = long_side;
    for (const auto& stats : per_layer) targets.grams.push_back(statistic->blend(stats, weights));
    return targets;
}

}  // namespace stylize
