#include "run/evaluator.hpp"

#include <algorithm>

#include <torch/autograd.h>

#include "memory/segment_plan.hpp"
#include "tiles/tiled_evaluator.hpp"
#include "stylize/losses.hpp"

namespace stylize {
namespace {

// What every strategy shares: the terms, the layers they read, and the
// reporting sums.
class EvaluatorBase : public Evaluator {
protected:
    EvaluatorBase(const FeatureExtractor& model, FeatureLosses terms, ImageLosses image_terms)
        : model_(model), terms_(std::move(terms)), image_terms_(std::move(image_terms)) {
        for (const auto& t : terms_) keep_.push_back(t->layer());
        std::sort(keep_.begin(), keep_.end());
        keep_.erase(std::unique(keep_.begin(), keep_.end()), keep_.end());
        depth_ = keep_.empty() ? 0 : keep_.back() + 1;
    }

    // The kept layers in [begin, end).
    std::vector<size_t> kept_in(size_t begin, size_t end) const {
        std::vector<size_t> ids;
        for (size_t i : keep_)
            if (i >= begin && i < end) ids.push_back(i);
        return ids;
    }

    // Sum of the terms whose layer is in `ids` (activations `feats`), in the
    // terms' order; adds each detached to the content or style sum.
    torch::Tensor sum_terms(const std::vector<size_t>& ids, const std::vector<torch::Tensor>& feats,
                            torch::Tensor& content, torch::Tensor& style) const {
        torch::Tensor total;
        for (const auto& term : terms_) {
            const auto at = std::find(ids.begin(), ids.end(), term->layer());
            if (at == ids.end()) continue;
            auto t = (*term)(feats[static_cast<size_t>(at - ids.begin())]);
            auto& sum = term->kind() == TermKind::Content ? content : style;
            sum = sum + t.detach();
            total = total.defined() ? total + t : t;
        }
        return total;
    }

    // Adds the image terms (TV, temporal) and reads the sums back.
    LossTerms finish(const torch::Tensor& x, const torch::Tensor& content, const torch::Tensor& style) const {
        return finish_evaluation(image_terms_, x, content.item<double>(), style.item<double>());
    }

    const FeatureExtractor& model_;
    FeatureLosses terms_;
    ImageLosses image_terms_;
    std::vector<size_t> keep_;  // unique sorted layer indices the terms read
    size_t depth_ = 0;
};

// Keeps every activation the backward pass needs: one forward, one backward.
class PlainEvaluator final : public EvaluatorBase {
public:
    PlainEvaluator(const FeatureExtractor& model, FeatureLosses terms, ImageLosses image_terms)
        : EvaluatorBase(model, std::move(terms), std::move(image_terms)) {}

    LossTerms evaluate(const torch::Tensor& x) override {
        auto content = x.new_zeros({}).detach(), style = x.new_zeros({}).detach();
        std::vector<torch::Tensor> feats;
        model_.run_layers(model_.prepare(x), 0, depth_, keep_, &feats);
        auto loss = sum_terms(keep_, feats, content, style);
        feats.clear();
        if (loss.defined()) torch::autograd::backward({loss}, {torch::ones_like(loss)});
        return finish(x, content, style);
    }
};

// Activation checkpointing (segment_plan.hpp): a no-grad pass keeps only the
// segments' inputs; the backward pass recomputes each segment from its
// input, deepest first, feeding it the gradient that arrived at its output.
class CheckpointedEvaluator final : public EvaluatorBase {
public:
    CheckpointedEvaluator(const FeatureExtractor& model, FeatureLosses terms, ImageLosses image_terms,
                          std::vector<size_t> starts)
        : EvaluatorBase(model, std::move(terms), std::move(image_terms)), starts_(std::move(starts)) {}

    LossTerms evaluate(const torch::Tensor& x) override {
        auto content = x.new_zeros({}).detach(), style = x.new_zeros({}).detach();
        const size_t nseg = starts_.size();
        std::vector<torch::Tensor> inputs(nseg);  // inputs of segments 1..
        {
            torch::NoGradGuard no_grad;
            auto h = model_.prepare(x);
            for (size_t s = 0; s + 1 < nseg; ++s) {
                h = model_.run_layers(h, starts_[s], starts_[s + 1], {}, nullptr, /*winograd=*/false);
                inputs[s + 1] = h;
            }
        }
        torch::Tensor grad_out;  // gradient at the output of the segment being processed
        for (size_t s = nseg; s-- > 0;) {
            const size_t begin = starts_[s], end = s + 1 < nseg ? starts_[s + 1] : depth_;
            auto in = s == 0 ? x : inputs[s].requires_grad_(true);
            const auto ids = kept_in(begin, end);
            std::vector<torch::Tensor> feats;
            // Recomputed blocks run direct (see run_layers), in both passes so
            // that they agree; the tail keeps its Winograd convolutions.
            auto out = model_.run_layers(s == 0 ? model_.prepare(x) : in, begin, end, ids, &feats, s + 1 == nseg);
            auto loss = sum_terms(ids, feats, content, style);
            std::vector<torch::Tensor> roots, seeds;
            if (loss.defined()) {
                roots.push_back(loss);
                seeds.push_back(torch::ones_like(loss));
            }
            if (grad_out.defined()) {
                roots.push_back(out);
                seeds.push_back(std::move(grad_out));
            }
            // The graph keeps what backward needs; drop the local handles.
            feats.clear();
            out.reset();
            loss.reset();
            if (!roots.empty()) torch::autograd::backward(roots, seeds);
            roots.clear();
            seeds.clear();
            if (s > 0) {
                grad_out = in.grad();
                inputs[s].reset();
            }
            // The tail is done with the Winograd scratchpad; the recomputed
            // blocks (direct) hold the memory peak without it.
            if (s + 1 == nseg) model_.release_scratch();
        }
        return finish(x, content, style);
    }

private:
    std::vector<size_t> starts_;
};

}  // namespace

LossTerms finish_evaluation(const ImageLosses& image_terms, const torch::Tensor& x, double content, double style) {
    LossTerms t;
    torch::Tensor total;
    for (const auto& term : image_terms) {
        auto v = (*term)(x);
        (term->kind() == TermKind::Temporal ? t.temporal : t.tv) += v.item<double>();
        total = total.defined() ? total + v : v;
    }
    if (total.defined()) total.backward();
    t.content = content;
    t.style = style;
    t.total = t.content + t.style + t.tv + t.temporal;
    return t;
}

std::unique_ptr<Evaluator> make_evaluator(const FeatureExtractor& model, FeatureLosses terms,
                                          ImageLosses image_terms, bool checkpoint, int64_t height, int64_t width,
                                          int64_t tile, int64_t halo) {
    if (tile > 0 && (height > tile || width > tile))
        return make_tiled_evaluator(model, std::move(terms), std::move(image_terms), height, width, tile, halo);
    size_t depth = 0;
    for (const auto& t : terms) depth = std::max(depth, t->layer() + 1);
    if (checkpoint) {
        const double act_bytes = model.config().precision == Precision::BF16 ? 2.0 : 4.0;
        auto starts = plan_segments(model, depth, height, width, act_bytes, true).starts;
        if (starts.size() > 1)
            return std::make_unique<CheckpointedEvaluator>(model, std::move(terms), std::move(image_terms),
                                                               std::move(starts));
    }
    return std::make_unique<PlainEvaluator>(model, std::move(terms), std::move(image_terms));
}

}  // namespace stylize
