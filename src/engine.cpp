#include "stylize/engine.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/autograd.h>
#include <torch/cuda.h>
#include <torch/optim/adam.h>

#include "lbfgs.hpp"
#include "segment_plan.hpp"
#include "winograd_conv.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_ops.hpp"
#include "stylize/losses.hpp"

namespace stylize {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<double> normalised_weights(const std::vector<WeightedLayer>& layers) {
    double sum = 0;
    for (const auto& l : layers) sum += l.weight;
    std::vector<double> out;
    for (const auto& l : layers) out.push_back(sum > 0 ? l.weight / sum : 0.0);
    return out;
}

std::vector<std::string> names_of(const std::vector<WeightedLayer>& layers) {
    std::vector<std::string> out;
    for (const auto& l : layers) out.push_back(l.name);
    return out;
}

void check_layer_list(const FeatureExtractor& model, const std::vector<WeightedLayer>& layers,
                      const char* option) {
    for (const auto& l : layers) {
        try {
            model.layer_index(l.name);
        } catch (const InvalidArgument& e) {
            throw InvalidArgument(std::string(option) + ": " + e.what());
        }
    }
}

void check_image(const torch::Tensor& t, const char* what) {
    if (!t.defined() || t.dim() != 4 || t.size(0) != 1 || t.size(1) != 3 || t.size(2) < 1 || t.size(3) < 1)
        throw InvalidArgument(std::string(what) + " must be a (1,3,H,W) image tensor");
    if (!torch::isfinite(t).all().item<bool>())
        throw InvalidArgument(std::string(what) + " contains NaN or infinite pixels");
}

// The image as the network sees it under the colour mode.
torch::Tensor colour_view(const torch::Tensor& img, ColorMode mode) {
    return mode == ColorMode::Luminance ? luminance_rgb(img) : img;
}

std::pair<int64_t, int64_t> size_for_long_side(int64_t h, int64_t w, int64_t long_side) {
    const double s = static_cast<double>(long_side) / static_cast<double>(std::max(h, w));
    return {std::max<int64_t>(1, std::lround(h * s)), std::max<int64_t>(1, std::lround(w * s))};
}

// Losses and gradient at one point. The network runs as a list of segments
// (layer ranges): one segment normally, or one per pooling block with
// checkpointing, where a no-grad pass keeps only the segments' inputs and the
// backward pass recomputes each segment from its input, deepest first, feeding
// it the gradient that arrived at its output (segment_plan.hpp picks them).
struct Evaluator {
    const FeatureExtractor& model;
    const StylizeOptions& opt;
    std::vector<std::string> names;           // content layers then style layers
    std::vector<double> content_w, style_w;   // normalised
    std::vector<torch::Tensor> content_targets;
    const StyleTargets& style;
    std::vector<double> content_norms, style_norms;  // ||target||^2, once per scale

    // Layer index of each name, and the unique sorted indices to keep.
    std::vector<size_t> index, keep;
    std::vector<size_t> starts;  // segment starts; the last segment ends at `depth`
    size_t depth = 0;

    void plan(int64_t height, int64_t width) {
        index.clear();
        for (const auto& n : names) index.push_back(model.layer_index(n));
        keep = index;
        std::sort(keep.begin(), keep.end());
        keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
        depth = keep.empty() ? 0 : keep.back() + 1;
        starts = plan_segments(model, depth, height, width, opt.precision == Precision::BF16 ? 2.0 : 4.0,
                               opt.checkpoint)
                     .starts;
    }

    // Adds the weighted loss terms of the kept activations `feats` (layer
    // indices `ids`) to `content`/`style_sum` (detached, for reporting) and
    // returns their differentiable sum (undefined when there is none).
    torch::Tensor terms(const std::vector<size_t>& ids, const std::vector<torch::Tensor>& feats,
                        torch::Tensor& content, torch::Tensor& style_sum) const {
        torch::Tensor total;
        const size_t nc = content_w.size();
        for (size_t k = 0; k < names.size(); ++k) {
            const auto at = std::find(ids.begin(), ids.end(), index[k]);
            if (at == ids.end()) continue;
            auto f = feats[static_cast<size_t>(at - ids.begin())];
            if (opt.normalize_gradients) f = normalize_gradient(f);
            torch::Tensor t;
            if (k < nc) {
                t = relative_squared_error(f, content_targets[k], content_norms[k]) * (content_w[k] * opt.content_weight);
                content = content + t.detach();
            } else {
                const size_t i = k - nc;
                t = relative_squared_error(gram_matrix(f), style.grams[i], style_norms[i]) * (style_w[i] * opt.style_weight);
                style_sum = style_sum + t.detach();
            }
            total = total.defined() ? total + t : t;
        }
        return total;
    }

    LossTerms operator()(const torch::Tensor& x) const {
        auto content = x.new_zeros({}).detach(), style_sum = x.new_zeros({}).detach();
        const size_t nseg = starts.size();
        std::vector<torch::Tensor> inputs(nseg);  // inputs of segments 1.. (checkpointing only)
        if (nseg > 1) {
            torch::NoGradGuard no_grad;
            auto h = model.prepare(x);
            for (size_t s = 0; s + 1 < nseg; ++s) {
                h = model.run_layers(h, starts[s], starts[s + 1], {}, nullptr, /*winograd=*/false);
                inputs[s + 1] = h;
            }
        }
        torch::Tensor grad_out;  // gradient at the output of the segment being processed
        for (size_t s = nseg; s-- > 0;) {
            const size_t begin = starts[s], end = s + 1 < nseg ? starts[s + 1] : depth;
            auto in = s == 0 ? x : inputs[s].requires_grad_(true);
            std::vector<size_t> ids;
            for (size_t i : keep)
                if (i >= begin && i < end) ids.push_back(i);
            std::vector<torch::Tensor> feats;
            // Recomputed blocks run direct (see run_layers), in both passes so
            // that they agree; the tail keeps its Winograd convolutions.
            auto out = model.run_layers(s == 0 ? model.prepare(x) : in, begin, end, ids, &feats, s + 1 == nseg);
            auto loss = terms(ids, feats, content, style_sum);
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
            if (s + 1 == nseg && nseg > 1) model.release_scratch();
        }
        LossTerms t;
        if (opt.tv_weight > 0) {
            auto tv = total_variation(x) * opt.tv_weight;
            tv.backward();
            t.tv = tv.item<double>();
        }
        t.content = content.item<double>();
        t.style = style_sum.item<double>();
        t.total = t.content + t.style + t.tv;
        return t;
    }
};

class EarlyStop {
public:
    EarlyStop(double tol, int window) : tol_(tol), window_(window) {}
    // Returns a reason when the best loss improved by less than tol over the window.
    std::optional<std::string> update(double loss) {
        best_ = history_.empty() ? loss : std::min(best_, loss);
        history_.push_back(best_);
        if (tol_ <= 0 || static_cast<int>(history_.size()) <= window_) return std::nullopt;
        const double then = history_[history_.size() - 1 - static_cast<size_t>(window_)];
        const double gain = (then - best_) / std::max(std::abs(then), 1e-30);
        if (gain >= tol_) return std::nullopt;
        std::ostringstream why;
        why << "loss improved by " << gain * 100 << "% over the last " << window_
            << " evaluations (tolerance " << tol_ * 100 << "%)";
        return why.str();
    }
    void reset() { history_.clear(); }

private:
    double tol_;
    int window_;
    double best_ = 0;
    std::vector<double> history_;
};

}  // namespace

const char* to_string(StopReason r) {
    switch (r) {
        case StopReason::Completed: return "completed";
        case StopReason::Converged: return "converged";
        case StopReason::Cancelled: return "cancelled";
        default: return "non-finite";
    }
}

std::pair<int64_t, int64_t> output_size(int64_t height, int64_t width, int size) {
    if (size <= 0) return {height, width};
    return size_for_long_side(height, width, size);
}

std::vector<int> scale_sizes(int final_long_side, const StylizeOptions& options) {
    std::vector<int> sizes{final_long_side};
    for (int s = 1; s < options.scales; ++s) {
        const int next = static_cast<int>(std::lround(sizes.back() / options.scale_factor));
        if (next < 16) break;
        sizes.push_back(next);
    }
    std::reverse(sizes.begin(), sizes.end());
    return sizes;
}

int64_t minimum_side(const FeatureExtractor& model, const StylizeOptions& opt) {
    std::vector<std::string> names;
    for (const auto& l : opt.content_layers) names.push_back(l.name);
    for (const auto& l : opt.style_layers) names.push_back(l.name);
    const size_t depth = model.depth_for(names);
    int64_t side = 1;
    for (size_t i = 0; i + 1 < depth; ++i)
        if (model.layers()[i].kind == LayerKind::Pool) side *= model.layers()[i].pool_stride;
    return side;
}

void check_layers(const FeatureExtractor& model, const StylizeOptions& opt) {
    check_layer_list(model, opt.content_layers, "--content-layers");
    check_layer_list(model, opt.style_layers, "--style-layers");
}

torch::Device resolve_device(const std::string& spec) {
    if (spec == "auto") return torch::cuda::is_available() ? torch::Device("cuda:0") : torch::Device(torch::kCPU);
    if (spec == "cpu") return torch::kCPU;
    if (spec.rfind("cuda", 0) == 0) {
        torch::Device d(torch::kCPU);
        try {
            d = torch::Device(spec);
        } catch (const std::exception&) {
            throw InvalidArgument("--device: '" + spec + "' is not a device (auto, cpu, cuda, cuda:N)");
        }
        if (!torch::cuda::is_available())
            throw RuntimeFailure("--device " + spec +
                                 ": CUDA is not available in this build or on this machine; use --device cpu");
        const int index = d.has_index() ? d.index() : 0;
        if (index >= static_cast<int>(torch::cuda::device_count()))
            throw RuntimeFailure("--device " + spec + ": only " + std::to_string(torch::cuda::device_count()) +
                                 " CUDA device(s) present");
        return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    throw InvalidArgument("--device: '" + spec + "' is not a device (auto, cpu, cuda, cuda:N)");
}

StyleTargets compute_style_targets(const FeatureExtractor& model, const std::vector<StyleImage>& styles,
                                   const torch::Tensor& content, int64_t long_side,
                                   const StylizeOptions& opt) {
    torch::NoGradGuard no_grad;
    const auto device = model.config().device;
    const auto names = names_of(opt.style_layers);
    double blend_sum = 0;
    for (const auto& s : styles) blend_sum += s.weight;
    if (!(blend_sum > 0)) throw InvalidArgument("--style-blend: the weights sum to zero");
    const auto style_long = std::max<int64_t>(
        16, static_cast<int64_t>(std::lround(static_cast<double>(long_side) * opt.style_scale)));
    StyleTargets targets;
    targets.size = long_side;
    for (const auto& s : styles) {
        if (s.weight <= 0) continue;
        auto img = s.image;
        if (opt.color == ColorMode::MatchMeanCov) img = match_mean_covariance(img, content);
        if (opt.color == ColorMode::MatchHistogram) img = match_histogram(img, content);
        img = colour_view(resize_long_side(img, style_long).to(device), opt.color);
        const auto feats = model.extract(img, names);
        for (size_t i = 0; i < feats.size(); ++i) {
            auto g = gram_matrix(feats[i]) * (s.weight / blend_sum);
            if (targets.grams.size() <= i) targets.grams.push_back(g);
            else targets.grams[i].add_(g);
        }
    }
    return targets;
}

double estimate_memory_bytes(const FeatureExtractor& model, int64_t height, int64_t width,
                             const StylizeOptions& opt) {
    std::vector<std::string> names = names_of(opt.content_layers);
    for (const auto& l : opt.style_layers) names.push_back(l.name);
    const size_t depth = model.depth_for(names);
    const double act_bytes = opt.precision == Precision::BF16 ? 2.0 : 4.0;
    double h = static_cast<double>(height), w = static_cast<double>(width), c = 3;
    double peak_layer = 0, grams = 0, weights = 0, scratch = 0, unblocked = 0;
    bool blocked = false;
    for (size_t i = 0; i < depth; ++i) {
        const auto& l = model.layers()[i];
        if (l.kind == LayerKind::Conv) {
            weights += static_cast<double>(l.weight.numel()) * act_bytes;
            if (l.winograd) {
                // Its weights in oneDNN's blocked format, and the shared scratchpad.
                weights += static_cast<double>(l.weight.numel()) * 4;
                scratch = std::max(scratch, static_cast<double>(l.winograd->scratchpad_bytes(
                                                static_cast<int64_t>(h), static_cast<int64_t>(w))));
                blocked = true;
            }
            c = static_cast<double>(l.weight.size(0));
        } else if (l.kind == LayerKind::Pool) {
            h = std::floor(h / 2);
            w = std::floor(w / 2);
        }
        peak_layer = std::max(peak_layer, c * h * w * act_bytes);
        for (const auto& sl : opt.style_layers)
            if (sl.name == l.name) grams += 2 * c * c * 4;  // target and current Gram
        // A feature kept from a channel-blocked run is an unblocked copy.
        if (blocked && std::find(names.begin(), names.end(), l.name) != names.end()) unblocked += c * h * w * 4;
    }
    // Activations kept for the backward pass (with checkpointing: the
    // segments' inputs plus the largest segment).
    const double saved = plan_segments(model, depth, height, width, act_bytes, opt.checkpoint).saved_bytes;
    // Backward holds about two layer-sized gradients at a time; content targets are small.
    const double pixels = static_cast<double>(height * width);
    const double image_state = 3 * pixels * 4 * 8;  // image, grad, copies, EMA, resize buffers
    const double optimiser = opt.optimizer == OptimizerKind::LBFGS
                                 ? 2.0 * opt.lbfgs_history * 3 * pixels * 4
                                 : 2.0 * 3 * pixels * 4;
    return saved + 3 * peak_layer + grams + weights + scratch + unblocked + image_state + optimiser;
}

Result stylize(FeatureExtractor& model, const torch::Tensor& content_in,
               const std::vector<StyleImage>& styles_in, const StylizeOptions& opt, const Hooks& hooks,
               const torch::Tensor& init_image, std::vector<StyleTargets>* style_cache) {
    validate(opt);
    check_image(content_in, "content image");
    if (styles_in.empty()) throw InvalidArgument("at least one style image is needed");
    for (const auto& s : styles_in) check_image(s.image, "style image");
    if (!opt.style_blend.empty() && opt.style_blend.size() != styles_in.size())
        throw InvalidArgument("--style-blend has " + std::to_string(opt.style_blend.size()) +
                              " weights for " + std::to_string(styles_in.size()) + " style images");
    if (opt.init == InitKind::Image) check_image(init_image, "--init image");
    check_layers(model, opt);

    std::vector<StyleImage> styles = styles_in;
    if (!opt.style_blend.empty())
        for (size_t i = 0; i < styles.size(); ++i) styles[i].weight = opt.style_blend[i];

    const auto start = Clock::now();
    const auto device = model.config().device;
    const auto content = content_in.to(torch::kFloat).contiguous();
    const auto [out_h, out_w] = output_size(content.size(2), content.size(3), opt.size);
    const auto sizes = scale_sizes(static_cast<int>(std::max(out_h, out_w)), opt);
    const int nscales = static_cast<int>(sizes.size());
    const int total = (nscales - 1) * opt.scale_iterations + opt.iterations;
    // Every scale, and every style image at its scale, must survive the pooling
    // layers down to the deepest layer used.
    const int64_t min_side = minimum_side(model, opt);
    for (int s : sizes) {
        const auto [h, w] = size_for_long_side(content.size(2), content.size(3), s);
        if (std::min(h, w) < min_side)
            throw InvalidArgument("the output would be " + std::to_string(w) + "x" + std::to_string(h) +
                                  " pixels at --size " + std::to_string(s) + "; the layers used need at least " +
                                  std::to_string(min_side) + " pixels on each side (raise --size, use fewer "
                                  "--scales, or crop the extreme aspect ratio)");
        for (const auto& st : styles_in) {
            const auto sl = std::max<int64_t>(16, std::lround(s * opt.style_scale));
            const auto [sh, sw] = size_for_long_side(st.image.size(2), st.image.size(3), sl);
            if (std::min(sh, sw) < min_side)
                throw InvalidArgument("a style image would be " + std::to_string(sw) + "x" + std::to_string(sh) +
                                      " pixels at --style-scale " + std::to_string(opt.style_scale) +
                                      "; the layers used need at least " + std::to_string(min_side) +
                                      " pixels on each side (raise --style-scale or crop the style image)");
        }
    }

    std::vector<std::string> names = names_of(opt.content_layers);
    for (const auto& l : opt.style_layers) names.push_back(l.name);
    const auto content_w = normalised_weights(opt.content_layers);
    const auto style_w = normalised_weights(opt.style_layers);

    Result result;
    torch::Tensor x;           // the image being optimised (device, fp32)
    torch::Tensor content_s;   // content at the current scale (device)
    int evaluation = 0;
    bool stop = false;

    for (int s = 0; s < nscales && !stop; ++s) {
        const auto [h, w] = size_for_long_side(content.size(2), content.size(3), sizes[static_cast<size_t>(s)]);
        content_s = resize_image(content, h, w).clamp(0, 1).to(device);
        const auto content_view = colour_view(content_s, opt.color);

        // Targets: computed once per scale, without autograd.
        std::vector<torch::Tensor> content_targets;
        const StyleTargets* style = nullptr;
        StyleTargets local_style;
        {
            torch::NoGradGuard no_grad;
            if (!content_w.empty() && opt.content_weight > 0)
                content_targets = model.extract(content_view, names_of(opt.content_layers));
            const int64_t long_side = std::max(h, w);
            if (style_cache) {
                for (const auto& t : *style_cache)
                    if (t.size == long_side) style = &t;
                if (!style) {
                    style_cache->push_back(compute_style_targets(model, styles, content, long_side, opt));
                    style = &style_cache->back();
                }
            } else {
                local_style = compute_style_targets(model, styles, content, long_side, opt);
                style = &local_style;
            }
        }
        Evaluator evaluate{model, opt, {}, {}, style_w, content_targets, *style, {}, {}, {}, {}, {}, 0};
        for (const auto& t : content_targets) evaluate.content_norms.push_back(squared_norm(t));
        for (const auto& g : style->grams) evaluate.style_norms.push_back(squared_norm(g));
        if (!content_targets.empty()) {
            evaluate.names = names_of(opt.content_layers);
            evaluate.content_w = content_w;
        }
        for (const auto& l : opt.style_layers) evaluate.names.push_back(l.name);
        evaluate.plan(h, w);

        // Initial image for this scale.
        {
            torch::NoGradGuard no_grad;
            if (s > 0) {
                x = resize_image(x, h, w).clamp(0, 1);
            } else if (opt.init == InitKind::Content) {
                x = content_view.clone();
            } else if (opt.init == InitKind::Noise) {
                auto gen = at::detail::createCPUGenerator(opt.seed);
                x = at::rand({1, 3, h, w}, gen, torch::TensorOptions().dtype(torch::kFloat)).to(device);
                if (opt.color == ColorMode::Luminance) x = luminance_rgb(x);
            } else {
                x = colour_view(resize_image(init_image.to(torch::kFloat), h, w).clamp(0, 1).to(device),
                                opt.color);
            }
            x = x.contiguous();
        }
        x.requires_grad_(true);

        const int n = s + 1 < nscales ? opt.scale_iterations : opt.iterations;
        const auto numel = x.numel();
        std::optional<LBFGS> lbfgs;
        std::optional<torch::optim::Adam> adam;
        if (opt.optimizer == OptimizerKind::LBFGS) {
            lbfgs.emplace(numel, opt.lbfgs_history, x.options().requires_grad(false));
        } else {
            adam.emplace(std::vector<torch::Tensor>{x}, torch::optim::AdamOptions(opt.learning_rate));
        }
        auto last_good = x.detach().clone();  // last evaluated, finite image
        torch::Tensor ema;
        int ema_count = 0;
        EarlyStop early(opt.early_stop_tolerance, opt.early_stop_window);

        for (int k = 0; k < n; ++k) {
            if (hooks.should_cancel && hooks.should_cancel()) {
                result.stop_reason = StopReason::Cancelled;
                stop = true;
                break;
            }
            if (x.grad().defined()) x.mutable_grad().zero_();
            LossTerms terms = evaluate(x);
            ++evaluation;
            const auto grad = x.grad().detach();
            if (!std::isfinite(terms.total) || !std::isfinite(grad.sum().item<double>())) {
                std::ostringstream why;
                why << "the loss or its gradient became " << (std::isnan(terms.total) ? "NaN" : "non-finite")
                    << " at evaluation " << evaluation << "; kept the image of evaluation "
                    << evaluation - 1;
                result.stop_reason = StopReason::NonFinite;
                result.stop_detail = why.str();
                stop = true;
                break;
            }
            torch::NoGradGuard no_grad;
            last_good.copy_(x.detach());
            result.losses = terms;
            result.evaluations = evaluation;
            if (opt.optimizer == OptimizerKind::Adam && opt.ema_decay > 0) {
                // Bias-corrected exponential moving average of the iterates.
                ++ema_count;
                if (!ema.defined()) ema = at::zeros_like(last_good);
                ema.mul_(opt.ema_decay).add_(last_good, 1 - opt.ema_decay);
            }
            if (hooks.on_progress) {
                Progress p;
                p.evaluation = evaluation;
                p.total = total;
                p.scale = s + 1;
                p.scales = nscales;
                p.height = h;
                p.width = w;
                p.losses = terms;
                p.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
                hooks.on_progress(p);
            }
            if (hooks.on_intermediate && hooks.intermediate_every > 0 &&
                evaluation % hooks.intermediate_every == 0) {
                auto img = last_good.clamp(0, 1);
                if (opt.color == ColorMode::Luminance) img = combine_luminance_chroma(img, content_s);
                hooks.on_intermediate(img.cpu(), evaluation);
            }
            if (s + 1 == nscales) {
                if (auto why = early.update(terms.total)) {
                    result.stop_reason = StopReason::Converged;
                    result.stop_detail = *why;
                    stop = true;
                    break;
                }
            }
            if (k + 1 == n) break;  // the output is the last evaluated image
            if (lbfgs) {
                auto flat = x.detach().view({-1});
                lbfgs->step(flat, grad.reshape({-1}));
            } else {
                adam->step();
            }
        }
        torch::NoGradGuard no_grad;
        x = (ema_count > 0 ? ema / (1 - std::pow(opt.ema_decay, ema_count)) : last_good).detach();
    }

    torch::NoGradGuard no_grad;
    auto out = x.clamp(0, 1);
    if (opt.color == ColorMode::Luminance) out = combine_luminance_chroma(out, content_s);
    result.image = out.to(torch::kCPU).contiguous();
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
}

}  // namespace stylize
