#include "stylize/targets.hpp"

#include <algorithm>
#include <cmath>

#include "style_statistic.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_ops.hpp"
#include "stylize/spatial.hpp"

namespace stylize {

torch::Tensor colour_view(const torch::Tensor& image, ColorMode mode) {
    return mode == ColorMode::Luminance ? luminance_rgb(image) : image;
}

StyleTargets compute_style_targets(const FeatureExtractor& model, const std::vector<StyleImage>& styles,
                                   const torch::Tensor& content, int64_t long_side, const StylizeOptions& opt,
                                   const SpatialControl* spatial) {
    torch::NoGradGuard no_grad;
    const auto device = model.config().device;
    std::vector<std::string> names;
    for (const auto& l : opt.style_layers) names.push_back(l.name);
    double blend_sum = 0;
    for (const auto& s : styles) blend_sum += s.weight;
    if (!(blend_sum > 0)) throw InvalidArgument("--style-blend: the weights sum to zero");
    const auto style_long = std::max<int64_t>(
        16, static_cast<int64_t>(std::lround(static_cast<double>(long_side) * opt.style_scale)));
    const int64_t regions = spatial ? spatial->content.size(0) : 1;
    // samples[region][layer]: each style image's features there, with its mask.
    std::vector<std::vector<std::vector<StyleSample>>> samples(
        static_cast<size_t>(regions), std::vector<std::vector<StyleSample>>(names.size()));
    for (size_t k = 0; k < styles.size(); ++k) {
        const auto& s = styles[k];
        if (s.weight <= 0) continue;
        auto img = s.image;
        if (opt.color == ColorMode::MatchMeanCov) img = match_mean_covariance(img, content);
        if (opt.color == ColorMode::MatchHistogram) img = match_histogram(img, content);
        img = colour_view(resize_long_side(img, style_long).to(device), opt.color);
        torch::Tensor masks;
        if (spatial) masks = resize_masks(spatial->styles[k].to(torch::kFloat), img.size(2), img.size(3)).to(device);
        const auto feats = model.extract(img, names);
        for (int64_t r = 0; r < regions; ++r) {
            const auto mask = masks.defined() ? masks.narrow(0, r, 1) : torch::Tensor();
            for (size_t i = 0; i < feats.size(); ++i)
                samples[static_cast<size_t>(r)][i].push_back(
                    {feats[i], mask.defined() ? mask_at(mask, feats[i]) : mask, s.weight / blend_sum});
        }
    }
    StyleTargets targets;
    targets.size = long_side;
    for (const auto& statistic : make_style_statistics(opt.style_loss)) {
        std::vector<std::vector<torch::Tensor>> per_region;
        for (const auto& layers : samples) {
            std::vector<torch::Tensor> per_layer;
            for (const auto& layer : layers) per_layer.push_back(statistic->target(layer));
            per_region.push_back(std::move(per_layer));
        }
        targets.statistics.push_back(std::move(per_region));
    }
    return targets;
}

}  // namespace stylize
