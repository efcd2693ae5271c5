#include "stylize/targets.hpp"

#include <algorithm>
#include <cmath>

#include <ATen/ATen.h>

#include "loss/style_statistic.hpp"
#include "stylize/network_shape.hpp"
#include "stylize/tiling.hpp"
#include "tiles/tile_plan.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_ops.hpp"
#include "stylize/spatial.hpp"

namespace stylize {

torch::Tensor colour_view(const torch::Tensor& image, ColorMode mode) {
    return mode == ColorMode::Luminance ? luminance_rgb(image) : image;
}

namespace {

using Statistics = std::vector<std::shared_ptr<const StyleStatistic>>;
using PerStatistic = std::vector<std::vector<std::vector<torch::Tensor>>>;  // [statistic][region][layer]

// The style images at their size, in the run's colour view, their region
// masks (undefined without spatial control) and normalised blend weights.
struct StyleInputs {
    std::vector<torch::Tensor> images, masks;
    std::vector<double> weights;
};

StyleInputs style_inputs(const FeatureExtractor& model, const std::vector<StyleImage>& styles,
                         const torch::Tensor& content, int64_t long_side, const StylizeOptions& opt,
                         const SpatialControl* spatial) {
    const auto device = model.config().device;
    double blend_sum = 0;
    for (const auto& s : styles) blend_sum += s.weight;
    if (!(blend_sum > 0)) throw InvalidArgument("--style-blend: the weights sum to zero");
    const auto style_long = std::max<int64_t>(
        16, static_cast<int64_t>(std::lround(static_cast<double>(long_side) * opt.style_scale)));
    StyleInputs in;
    for (size_t k = 0; k < styles.size(); ++k) {
        const auto& s = styles[k];
        if (s.weight <= 0) continue;
        auto img = s.image;
        if (opt.color == ColorMode::MatchMeanCov) img = match_mean_covariance(img, content);
        if (opt.color == ColorMode::MatchHistogram) img = match_histogram(img, content);
        img = colour_view(resize_long_side(img, style_long).to(device), opt.color);
        torch::Tensor masks;
        if (spatial) masks = resize_masks(spatial->styles[k].to(torch::kFloat), img.size(2), img.size(3)).to(device);
        in.images.push_back(img);
        in.masks.push_back(masks);
        in.weights.push_back(s.weight / blend_sum);
    }
    return in;
}

// [statistic][region][layer] = target_of(statistic, region, layer), in that order.
template <class TargetOf>
PerStatistic assemble(const Statistics& statistics, size_t regions, size_t layers, TargetOf target_of) {
    PerStatistic out;
    for (size_t st = 0; st < statistics.size(); ++st) {
        std::vector<std::vector<torch::Tensor>> per_region;
        for (size_t r = 0; r < regions; ++r) {
            std::vector<torch::Tensor> per_layer;
            for (size_t i = 0; i < layers; ++i) per_layer.push_back(target_of(*statistics[st], st, r, i));
            per_region.push_back(std::move(per_layer));
        }
        out.push_back(std::move(per_region));
    }
    return out;
}

// One image's sums of every statistic, region and layer, walked tile by tile
// (undefined where no tile reached the layer).
PerStatistic tiled_sums(const FeatureExtractor& model, const torch::Tensor& image, const torch::Tensor& image_masks,
                        const Statistics& statistics, int64_t regions, const std::vector<size_t>& ids,
                        const std::vector<size_t>& sorted, int64_t tile, int64_t halo) {
    const size_t layers = ids.size();
    const auto shapes = layer_shapes(model, sorted.back() + 1, image.size(2), image.size(3));
    // Each layer's region masks over the whole map.
    std::vector<torch::Tensor> full_masks(layers);
    if (image_masks.defined())
        for (size_t i = 0; i < layers; ++i)
            full_masks[i] = at::adaptive_avg_pool2d(image_masks, {shapes[ids[i]].height, shapes[ids[i]].width});
    PerStatistic acc(statistics.size(), std::vector<std::vector<torch::Tensor>>(static_cast<size_t>(regions),
                                                                                std::vector<torch::Tensor>(layers)));
    for_each_tile(model, image, sorted, tile, halo,
                  [&](const std::vector<torch::Tensor>& feats, const std::vector<Window>& in_full) {
                      for (size_t i = 0; i < layers; ++i) {
                          const size_t slot =
                              static_cast<size_t>(std::find(sorted.begin(), sorted.end(), ids[i]) - sorted.begin());
                          if (!feats[slot].defined()) continue;
                          for (int64_t r = 0; r < regions; ++r) {
                              const auto mask = full_masks[i].defined()
                                                    ? crop(full_masks[i].narrow(0, r, 1), in_full[slot])
                                                    : torch::Tensor();
                              for (size_t st = 0; st < statistics.size(); ++st) {
                                  auto v = statistics[st]->sums(feats[slot], mask).to(torch::kDouble);
                                  auto& a = acc[st][static_cast<size_t>(r)][i];
                                  if (a.defined()) a.add_(v);
                                  else a = v;
                              }
                          }
                      }
                  });
    return acc;
}

// With --tile, a style image larger than a tile is walked tile by tile and
// the targets come from sums over pixels (all images then, so that they
// blend alike).
PerStatistic tiled_targets(const FeatureExtractor& model, const StyleInputs& in, const StylizeOptions& opt,
                           const Statistics& statistics, int64_t regions, const std::vector<std::string>& names) {
    std::vector<size_t> ids;
    for (const auto& n : names) ids.push_back(model.layer_index(n));
    std::vector<size_t> sorted = ids;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    const int64_t tile = effective_tile(model, opt), halo = effective_halo(model, opt);
    // parts[stat][region][layer]: each image's sums and blend weight.
    using Parts = std::vector<std::pair<torch::Tensor, double>>;
    std::vector<std::vector<std::vector<Parts>>> parts(
        statistics.size(), std::vector<std::vector<Parts>>(static_cast<size_t>(regions), std::vector<Parts>(names.size())));
    for (size_t k = 0; k < in.images.size(); ++k) {
        const auto acc = tiled_sums(model, in.images[k], in.masks[k], statistics, regions, ids, sorted, tile, halo);
        for (size_t st = 0; st < statistics.size(); ++st)
            for (size_t r = 0; r < static_cast<size_t>(regions); ++r)
                for (size_t i = 0; i < names.size(); ++i)
                    if (acc[st][r][i].defined()) parts[st][r][i].emplace_back(acc[st][r][i], in.weights[k]);
    }
    return assemble(statistics, static_cast<size_t>(regions), names.size(),
                    [&](const StyleStatistic& s, size_t st, size_t r, size_t i) { return s.target_of_sums(parts[st][r][i]); });
}

// Each style image's features at once, and every statistic's target of their mixture.
PerStatistic whole_image_targets(const FeatureExtractor& model, const StyleInputs& in, const Statistics& statistics,
                                 int64_t regions, const std::vector<std::string>& names) {
    // samples[region][layer]: each style image's features there, with its mask.
    std::vector<std::vector<std::vector<StyleSample>>> samples(
        static_cast<size_t>(regions), std::vector<std::vector<StyleSample>>(names.size()));
    for (size_t k = 0; k < in.images.size(); ++k) {
        const auto& masks = in.masks[k];
        const auto feats = model.extract(in.images[k], names);
        for (int64_t r = 0; r < regions; ++r) {
            const auto mask = masks.defined() ? masks.narrow(0, r, 1) : torch::Tensor();
            for (size_t i = 0; i < feats.size(); ++i)
                samples[static_cast<size_t>(r)][i].push_back(
                    {feats[i], mask.defined() ? mask_at(mask, feats[i]) : mask, in.weights[k]});
        }
    }
    return assemble(statistics, static_cast<size_t>(regions), names.size(),
                    [&](const StyleStatistic& s, size_t, size_t r, size_t i) { return s.target(samples[r][i]); });
}

}  // namespace

StyleTargets compute_style_targets(const FeatureExtractor& model, const std::vector<StyleImage>& styles,
                                   const torch::Tensor& content, int64_t long_side, const StylizeOptions& opt,
                                   const SpatialControl* spatial) {
    torch::NoGradGuard no_grad;
    const auto names = layer_names(opt.style_layers);
    const int64_t regions = spatial ? spatial->content.size(0) : 1;
    const auto statistics = make_style_statistics(opt.style_loss);
    const auto in = style_inputs(model, styles, content, long_side, opt, spatial);
    bool by_tiles = false;
    for (const auto& img : in.images) by_tiles = by_tiles || is_tiled(model, opt, img.size(2), img.size(3));
    StyleTargets targets;
    targets.size = long_side;
    targets.statistics = by_tiles ? tiled_targets(model, in, opt, statistics, regions, names)
                                  : whole_image_targets(model, in, statistics, regions, names);
    return targets;
}

}  // namespace stylize
