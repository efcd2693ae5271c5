#include "tiles/tiled_evaluator.hpp"

#include <algorithm>

#include <torch/autograd.h>

#include "stylize/errors.hpp"
#include "stylize/network_shape.hpp"
#include "stylize/tiling.hpp"
#include "tiles/tile_plan.hpp"

namespace stylize {
namespace {

class TiledEvaluator final : public Evaluator {
public:
    TiledEvaluator(const FeatureExtractor& model, FeatureLosses terms, ImageLosses image_terms, int64_t height,
                   int64_t width, int64_t tile, int64_t halo)
        : model_(model), terms_(std::move(terms)), image_terms_(std::move(image_terms)), height_(height),
          width_(width) {
        for (const auto& t : terms_) {
            if (!t->additive())
                throw InvalidArgument("--tile: a loss term is not a sum over pixels (use --style-loss gram or "
                                      "mean-cov, without --normalize-gradients)");
            keep_.push_back(t->layer());
        }
        std::sort(keep_.begin(), keep_.end());
        keep_.erase(std::unique(keep_.begin(), keep_.end()), keep_.end());
        depth_ = keep_.empty() ? 0 : keep_.back() + 1;
        for (const auto& t : terms_)
            slot_.push_back(static_cast<size_t>(std::find(keep_.begin(), keep_.end(), t->layer()) - keep_.begin()));
        strides_ = layer_strides(model, depth_);
        shapes_ = layer_shapes(model, depth_, height, width);
        tiles_ = plan_tiles(height, width, tile, halo, tile_geometry(model, depth_).alignment);
    }

    LossTerms evaluate(const torch::Tensor& x) override {
        double content = 0, style = 0;
        std::vector<torch::Tensor> seeds(terms_.size());  // d loss / d sums, per term
        if (depth_ > 0) {
            // Pass 1: every term's sums over the whole image, in double.
            std::vector<torch::Tensor> sums(terms_.size());
            {
                torch::NoGradGuard no_grad;
                for (const auto& tile : tiles_) {
                    const auto feats = run_tile(x.detach(), tile);
                    for (size_t k = 0; k < terms_.size(); ++k) {
                        const auto w = window(tile, terms_[k]->layer());
                        if (w.in_tile.empty()) continue;
                        auto s = partial(k, feats, w).to(torch::kDouble);
                        if (sums[k].defined()) sums[k].add_(s);
                        else sums[k] = s;
                    }
                }
            }
            for (size_t k = 0; k < terms_.size(); ++k) {
                if (!sums[k].defined()) continue;
                auto s = sums[k].requires_grad_(true);
                auto loss = terms_[k]->loss_of_sums(s);
                (terms_[k]->kind() == TermKind::Content ? content : style) += loss.item<double>();
                seeds[k] = torch::autograd::grad({loss}, {s}, {}, false, false, true)[0];
                if (seeds[k].defined()) seeds[k] = seeds[k].to(torch::kFloat);
            }
            // Pass 2: each tile's features again, with autograd; the seeds
            // make each term's gradient that of the whole image's loss.
            if (!x.grad().defined()) x.mutable_grad() = torch::zeros_like(x);
            for (const auto& tile : tiles_) {
                auto in = x.detach()
                              .narrow(2, tile.hy0, tile.hy1 - tile.hy0)
                              .narrow(3, tile.hx0, tile.hx1 - tile.hx0)
                              .clone()
                              .requires_grad_(true);
                auto feats = run_tile(in, tile);
                torch::Tensor surrogate;
                for (size_t k = 0; k < terms_.size(); ++k) {
                    if (!seeds[k].defined()) continue;
                    const auto w = window(tile, terms_[k]->layer());
                    if (w.in_tile.empty()) continue;
                    auto v = (partial(k, feats, w) * seeds[k]).sum();
                    surrogate = surrogate.defined() ? surrogate + v : v;
                }
                feats.clear();
                if (!surrogate.defined()) continue;
                torch::autograd::backward({surrogate});
                surrogate.reset();
                x.mutable_grad()
                    .narrow(2, tile.hy0, tile.hy1 - tile.hy0)
                    .narrow(3, tile.hx0, tile.hx1 - tile.hx0)
                    .add_(in.grad());
            }
            // The Winograd scratchpad stays for the next tile and evaluation:
            // freeing it here cost page faults at every evaluation.
        }
        return finish_evaluation(image_terms_, x, content, style);
    }

private:
    std::vector<torch::Tensor> run_tile(const torch::Tensor& image, const Tile& tile) const {
        const auto part = image.size(2) == tile.hy1 - tile.hy0 && image.size(3) == tile.hx1 - tile.hx0
                              ? image
                              : image.narrow(2, tile.hy0, tile.hy1 - tile.hy0).narrow(3, tile.hx0, tile.hx1 - tile.hx0);
        std::vector<torch::Tensor> feats;
        model_.run_layers(model_.prepare(part), 0, depth_, keep_, &feats);
        return feats;
    }

    TileWindow window(const Tile& tile, size_t layer) const {
        return tile_window(tile, strides_[layer], shapes_[layer].height, shapes_[layer].width, height_, width_);
    }

    torch::Tensor partial(size_t k, const std::vector<torch::Tensor>& feats, const TileWindow& w) const {
        const auto& m = shapes_[terms_[k]->layer()];
        return terms_[k]->partial_sums(crop(feats[slot_[k]], w.in_tile), w.in_full, m.height, m.width);
    }

    const FeatureExtractor& model_;
    FeatureLosses terms_;
    ImageLosses image_terms_;
    int64_t height_, width_;
    std::vector<size_t> keep_, slot_;  // unique sorted layers; each term's index in them
    size_t depth_ = 0;
    std::vector<int64_t> strides_;
    std::vector<MapShape> shapes_;
    std::vector<Tile> tiles_;
};

}  // namespace

std::unique_ptr<Evaluator> make_tiled_evaluator(const FeatureExtractor& model, FeatureLosses terms,
                                                ImageLosses image_terms, int64_t height, int64_t width, int64_t tile,
                                                int64_t halo) {
    return std::make_unique<TiledEvaluator>(model, std::move(terms), std::move(image_terms), height, width, tile,
                                            halo);
}

}  // namespace stylize
