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
    const auto statistics = make_style_statistics(opt.style_loss);

    // The style images at their size, in the run's colour view, and their
    // region masks.
    std::vector<torch::Tensor> images, image_masks;
    std::vector<double> weights;
    for (size_t k = 0; k < styles.size(); ++k) {
        const auto& s = styles[k];
        if (s.weight <= 0) continue;
        auto img = s.image;
        if (opt.color == ColorMode::MatchMeanCov) img = match_mean_covariance(img, content);
        if (opt.color == ColorMode::MatchHistogram) img = match_histogram(img, content);
        img = colour_view(resize_long_side(img, style_long).to(device), opt.color);
        torch::Tensor masks;
        if (spatial) masks = resize_masks(spatial->styles[k].to(torch::kFloat), img.size(2), img.size(3)).to(device);
        images.push_back(img);
        image_masks.push_back(masks);
        weights.push_back(s.weight / blend_sum);
    }
    StyleTargets targets;
    targets.size = long_side;

    // With --tile, a style image larger than a tile is walked tile by tile
    // and the targets come from sums over pixels (all images then, so that
    // they blend alike).
    bool by_tiles = false;
    for (const auto& img : images) by_tiles = by_tiles || is_tiled(model, opt, img.size(2), img.size(3));
    if (by_tiles) {
        std::vector<size_t> ids;
        for (const auto& n : names) ids.push_back(model.layer_index(n));
        std::vector<size_t> sorted = ids;
        std::sort(sorted.begin(), sorted.end());
        sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
        const int64_t tile = effective_tile(model, opt), halo = effective_halo(model, opt);
        // parts[stat][region][layer]: each image's sums and blend weight.
        std::vector<std::vector<std::vector<std::vector<std::pair<torch::Tensor, double>>>>> parts(
            statistics.size(), std::vector<std::vector<std::vector<std::pair<torch::Tensor, double>>>>(
                                   static_cast<size_t>(regions),
                                   std::vector<std::vector<std::pair<torch::Tensor, double>>>(names.size())));
        for (size_t k = 0; k < images.size(); ++k) {
            const auto shapes = layer_shapes(model, sorted.back() + 1, images[k].size(2), images[k].size(3));
            // Each layer's region masks over the whole map.
            std::vector<torch::Tensor> full_masks(names.size());
            if (image_masks[k].defined())
                for (size_t i = 0; i < names.size(); ++i)
                    full_masks[i] = at::adaptive_avg_pool2d(image_masks[k], {shapes[ids[i]].height, shapes[ids[i]].width});
            std::vector<std::vector<std::vector<torch::Tensor>>> acc(
                statistics.size(), std::vector<std::vector<torch::Tensor>>(static_cast<size_t>(regions),
                                                                           std::vector<torch::Tensor>(names.size())));
            for_each_tile(model, images[k], sorted, tile, halo,
                          [&](const std::vector<torch::Tensor>& feats, const std::vector<Window>& in_full) {
                              for (size_t i = 0; i < names.size(); ++i) {
                                  const size_t slot = static_cast<size_t>(
                                      std::find(sorted.begin(), sorted.end(), ids[i]) - sorted.begin());
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
            for (size_t st = 0; st < statistics.size(); ++st)
                for (size_t r = 0; r < static_cast<size_t>(regions); ++r)
                    for (size_t i = 0; i < names.size(); ++i)
                        if (acc[st][r][i].defined()) parts[st][r][i].emplace_back(acc[st][r][i], weights[k]);
        }
        for (size_t st = 0; st < statistics.size(); ++st) {
            std::vector<std::vector<torch::Tensor>> per_region;
            for (const auto& layers : parts[st]) {
                std::vector<torch::Tensor> per_layer;
                for (const auto& layer : layers) per_layer.push_back(statistics[st]->target_of_sums(layer));
                per_region.push_back(std::move(per_layer));
            }
            targets.statistics.push_back(std::move(per_region));
        }
        return targets;
    }

    // samples[region][layer]: each style image's features there, with its mask.
    std::vector<std::vector<std::vector<StyleSample>>> samples(
        static_cast<size_t>(regions), std::vector<std::vector<StyleSample>>(names.size()));
    for (size_t k = 0; k < images.size(); ++k) {
        const auto& img = images[k];
        const auto& masks = image_masks[k];
        const auto feats = model.extract(img, names);
        for (int64_t r = 0; r < regions; ++r) {
            const auto mask = masks.defined() ? masks.narrow(0, r, 1) : torch::Tensor();
            for (size_t i = 0; i < feats.size(); ++i)
                samples[static_cast<size_t>(r)][i].push_back(
                    {feats[i], mask.defined() ? mask_at(mask, feats[i]) : mask, weights[k]});
        }
    }
    for (const auto& statistic : statistics) {
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
