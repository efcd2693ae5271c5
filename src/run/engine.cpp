#include "stylize/engine.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>

#include "run/early_stop.hpp"
#include "loss/term_factory.hpp"
#include "run/evaluator.hpp"
#include "stylize/tiling.hpp"
#include "tiles/tile_plan.hpp"
#include "loss/fixed_order_sum.hpp"
#include "run/image_optimizer.hpp"
#include "loss/style_statistic.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_ops.hpp"
#include "stylize/network_shape.hpp"
#include "stylize/spatial.hpp"

namespace stylize {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<std::string> names_of(const std::vector<WeightedLayer>& layers) {
    std::vector<std::string> out;
    for (const auto& l : layers) out.push_back(l.name);
    return out;
}

void check_layer_list(const FeatureExtractor& model, const std::vector<WeightedLayer>& layers, const char* option) {
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

std::pair<int64_t, int64_t> size_for_long_side(int64_t h, int64_t w, int64_t long_side) {
    const double s = static_cast<double>(long_side) / static_cast<double>(std::max(h, w));
    return {std::max<int64_t>(1, std::lround(h * s)), std::max<int64_t>(1, std::lround(w * s))};
}

// Every scale, and every style image at its scale, must survive the pooling
// layers down to the deepest layer used.
void check_geometry(const FeatureExtractor& model, const StylizeOptions& opt, const torch::Tensor& content,
                    const std::vector<StyleImage>& styles, const std::vector<int>& sizes) {
    const int64_t min_side = minimum_side(model, opt);
    for (int s : sizes) {
        const auto [h, w] = size_for_long_side(content.size(2), content.size(3), s);
        if (std::min(h, w) < min_side)
            throw InvalidArgument("the output would be " + std::to_string(w) + "x" + std::to_string(h) +
                                  " pixels at --size " + std::to_string(s) + "; the layers used need at least " +
                                  std::to_string(min_side) + " pixels on each side (raise --size, use fewer "
                                  "--scales, or crop the extreme aspect ratio)");
        for (const auto& st : styles) {
            const auto sl = std::max<int64_t>(16, std::lround(s * opt.style_scale));
            const auto [sh, sw] = size_for_long_side(st.image.size(2), st.image.size(3), sl);
            if (std::min(sh, sw) < min_side)
                throw InvalidArgument("a style image would be " + std::to_string(sw) + "x" + std::to_string(sh) +
                                      " pixels at --style-scale " + std::to_string(opt.style_scale) +
                                      "; the layers used need at least " + std::to_string(min_side) +
                                      " pixels on each side (raise --style-scale or crop the style image)");
        }
    }
}

void check_temporal_guide(const TemporalGuide& g, int64_t h, int64_t w) {
    if (!g.warped.defined() || g.warped.dim() != 4 || g.warped.size(1) != 3 || g.warped.size(2) != h ||
        g.warped.size(3) != w)
        throw InvalidArgument("the temporal guide's warped frame must be (1,3," + std::to_string(h) + "," +
                              std::to_string(w) + "), the output's size");
    if (!g.mask.defined() || g.mask.dim() != 4 || g.mask.size(1) != 1 || g.mask.size(2) != h || g.mask.size(3) != w)
        throw InvalidArgument("the temporal guide's mask must be (1,1," + std::to_string(h) + "," + std::to_string(w) +
                              "), the output's size");
    if (!std::isfinite(g.weight) || g.weight < 0)
        throw InvalidArgument("--temporal-weight must be a finite number >= 0");
}

// The image terms of one scale: TV, and the temporal term of a video frame
// with its warped frame and mask resized to the scale (and in the run's
// colour view, like the image being optimised).
ImageLosses make_image_terms(const StylizeOptions& opt, const TemporalGuide* temporal, int64_t h, int64_t w,
                             torch::Device device) {
    ImageLosses terms;
    if (opt.tv_weight > 0) terms.push_back(std::make_unique<TVLoss>(opt.tv_weight));
    if (temporal && temporal->weight > 0) {
        torch::NoGradGuard no_grad;
        auto warped = colour_view(resize_image(temporal->warped.to(torch::kFloat), h, w), opt.color);
        auto mask = resize_image(temporal->mask.to(torch::kFloat), h, w).clamp(0, 1);
        terms.push_back(std::make_unique<TemporalLoss>(warped.to(device), mask.to(device), temporal->weight));
    }
    return terms;
}

// Style targets at `long_side`, from the cache when there is one.
const StyleTargets& style_targets_for(const FeatureExtractor& model, const std::vector<StyleImage>& styles,
                                      const torch::Tensor& content, int64_t long_side, const StylizeOptions& opt,
                                      const SpatialControl* spatial, std::vector<StyleTargets>* cache,
                                      StyleTargets& local) {
    if (!cache) return local = compute_style_targets(model, styles, content, long_side, opt, spatial);
    for (const auto& t : *cache)
        if (t.size == long_side) return t;
    cache->push_back(compute_style_targets(model, styles, content, long_side, opt, spatial));
    return cache->back();
}

// The start image of the first scale.
torch::Tensor initial_image(const StylizeOptions& opt, const torch::Tensor& content_view,
                            const torch::Tensor& init_image, int64_t h, int64_t w, torch::Device device) {
    if (opt.init == InitKind::Content) return content_view.clone();
    if (opt.init == InitKind::Noise) {
        auto gen = at::detail::createCPUGenerator(opt.seed);
        auto x = at::rand({1, 3, h, w}, gen, torch::TensorOptions().dtype(torch::kFloat)).to(device);
        return opt.color == ColorMode::Luminance ? luminance_rgb(x) : x;
    }
    // An image of the run's size is taken as it is (a video frame starts from
    // the previous frame's state, Result::state); resized ones are resized.
    // Either is clamped into the optimiser's box (bicubic upsampling
    // overshoots). A copy: the optimiser changes the start image in place,
    // and the caller's tensor (reused for the next frame) must not change.
    auto x = init_image.to(torch::kFloat).clone();
    if (x.size(2) != h || x.size(3) != w) x = resize_image(x, h, w);
    return colour_view(x.clamp(0, 1).to(device), opt.color);
}

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
    auto names = names_of(opt.content_layers);
    for (const auto& l : opt.style_layers) names.push_back(l.name);
    return minimum_input_side(model, model.depth_for(names));
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

void configure_for(FeatureExtractor& model, const StylizeOptions& opt) {
    auto cfg = model.config();
    const auto device = resolve_device(opt.device);
    if (cfg.device == device && cfg.precision == opt.precision && cfg.pooling == opt.pooling) return;
    cfg.device = device;
    cfg.precision = opt.precision;
    cfg.pooling = opt.pooling;
    model.configure(cfg);
}

Result stylize(FeatureExtractor& model, const torch::Tensor& content_in, const std::vector<StyleImage>& styles_in,
               const StylizeOptions& opt, const Hooks& hooks, const torch::Tensor& init_image,
               std::vector<StyleTargets>* style_cache, const TemporalGuide* temporal,
               const SpatialControl* spatial) {
    validate(opt);
    check_image(content_in, "content image");
    if (styles_in.empty()) throw InvalidArgument("at least one style image is needed");
    for (const auto& s : styles_in) check_image(s.image, "style image");
    if (!opt.style_blend.empty() && opt.style_blend.size() != styles_in.size())
        throw InvalidArgument("--style-blend has " + std::to_string(opt.style_blend.size()) + " weights for " +
                              std::to_string(styles_in.size()) + " style images");
    if (opt.init == InitKind::Image) check_image(init_image, "--init image");
    check_layers(model, opt);
    check_tiling(model, opt);
    configure_for(model, opt);

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
    check_geometry(model, opt, content, styles_in, sizes);
    if (temporal) check_temporal_guide(*temporal, out_h, out_w);
    if (spatial) check_spatial_control(*spatial, content, styles_in);
    const bool use_content = !opt.content_layers.empty() && opt.content_weight > 0;
    bool stochastic = false;  // a loss whose evaluations draw at random
    for (const auto& st : make_style_statistics(opt.style_loss)) stochastic = stochastic || st->stochastic();

    Result result;
    torch::Tensor x;          // the image being optimised (device, fp32)
    torch::Tensor content_s;  // content at the current scale (device)
    int evaluation = 0, rejected_before = 0;
    bool stop = false;

    for (int s = 0; s < nscales && !stop; ++s) {
        const auto [h, w] = size_for_long_side(content.size(2), content.size(3), sizes[static_cast<size_t>(s)]);
        content_s = resize_image(content, h, w).clamp(0, 1).to(device);
        const auto content_view = colour_view(content_s, opt.color);

        // Targets: computed once per scale, without autograd.
        std::vector<torch::Tensor> content_targets;
        StyleTargets local_style;
        const StyleTargets* style = nullptr;
        // Tiled scales (tiling.hpp) evaluate, and take their content
        // targets, tile by tile.
        const int64_t tile = is_tiled(model, opt, h, w) ? effective_tile(model, opt) : 0;
        const int64_t halo = effective_halo(model, opt);
        {
            torch::NoGradGuard no_grad;
            if (use_content && tile > 0) {
                std::vector<size_t> ids;
                for (const auto& l : opt.content_layers) ids.push_back(model.layer_index(l.name));
                content_targets = extract_tiled(model, content_view, ids, tile, halo);
            } else if (use_content) {
                content_targets = model.extract(content_view, names_of(opt.content_layers));
            }
            style = &style_targets_for(model, styles, content, std::max(h, w), opt, spatial, style_cache,
                                       local_style);
        }
        torch::Tensor regions;
        if (spatial) regions = resize_masks(spatial->content.to(torch::kFloat), h, w).to(device);
        auto evaluator = make_evaluator(model, make_terms(model, opt, content_targets, *style, regions),
                                        make_image_terms(opt, temporal, h, w, device), opt.checkpoint, h, w, tile,
                                        halo);

        {
            torch::NoGradGuard no_grad;
            x = (s > 0 ? resize_image(x, h, w).clamp(0, 1) : initial_image(opt, content_view, init_image, h, w, device))
                    .contiguous();
        }
        x.requires_grad_(true);

        const int n = s + 1 < nscales ? opt.scale_iterations : opt.iterations;
        auto optimizer = make_image_optimizer(opt, x, stochastic);
        auto last_good = x.detach().clone();  // the last accepted image
        bool have_good = false;
        LossTerms good_terms;
        EarlyStop early(opt.early_stop_tolerance, opt.early_stop_window);

        for (int k = 0; k < n; ++k) {
            if (hooks.should_cancel && hooks.should_cancel()) {
                result.stop_reason = StopReason::Cancelled;
                stop = true;
                break;
            }
            if (hooks.before_evaluation) hooks.before_evaluation(k);
            if (x.grad().defined()) x.mutable_grad().zero_();
            const LossTerms terms = evaluator->evaluate(x);
            ++evaluation;
            const auto grad = x.grad().detach();
            const bool finite = std::isfinite(terms.total) && std::isfinite(grad.sum().item<double>());
            if (!finite && !(have_good && optimizer->can_reject())) {
                std::ostringstream why;
                why << "the loss or its gradient became " << (std::isnan(terms.total) ? "NaN" : "non-finite")
                    << " at evaluation " << evaluation << "; kept the image of evaluation " << evaluation - 1;
                result.stop_reason = StopReason::NonFinite;
                result.stop_detail = why.str();
                stop = true;
                break;
            }
            torch::NoGradGuard no_grad;
            const bool accepted = optimizer->judge(x.detach(), finite ? terms.total : NAN, grad);
            if (accepted) {
                last_good.copy_(x.detach());
                have_good = true;
                good_terms = terms;
                optimizer->observe(last_good);
            }
            result.losses = result.optimizer_losses = good_terms;
            result.evaluations = evaluation;
            result.rejected = rejected_before + optimizer->rejected();
            if (hooks.on_progress) {
                Progress p;
                p.evaluation = evaluation;
                p.total = total;
                p.scale = s + 1;
                p.scales = nscales;
                p.height = h;
                p.width = w;
                p.losses = good_terms;
                p.evaluated_loss = terms.total;
                p.accepted = accepted;
                p.rejected = result.rejected;
                p.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
                hooks.on_progress(p);
            }
            if (hooks.on_intermediate && hooks.intermediate_every > 0 && evaluation % hooks.intermediate_every == 0) {
                auto img = last_good.clamp(0, 1);
                if (opt.color == ColorMode::Luminance) img = combine_luminance_chroma(img, content_s);
                hooks.on_intermediate(img.cpu(), evaluation);
            }
            if (s + 1 == nscales && accepted) {
                if (auto why = early.update(terms.total)) {
                    result.stop_reason = StopReason::Converged;
                    result.stop_detail = *why;
                    stop = true;
                    break;
                }
            }
            if (k + 1 == n) break;  // the output is the last accepted image
            optimizer->propose(x);
        }
        rejected_before = result.rejected;
        torch::NoGradGuard no_grad;
        x = optimizer->output(last_good).detach().clamp(0, 1);
        if ((s + 1 == nscales || stop) && have_good) {
            // Report what is written: the image quantised as the output file
            // will hold it, measured once more (not counted as an evaluation).
            x = quantise(x, opt.output_bit_depth);
            auto measured = x.clone().requires_grad_(true);
            torch::AutoGradMode grad_mode(true);
            // One more evaluation of this scale for the memory hook: it
            // allocates as the others do (a recycling allocator serves it
            // from the same plan).
            if (hooks.before_evaluation) hooks.before_evaluation(n);
            result.losses = evaluator->evaluate(measured);
        }
    }

    torch::NoGradGuard no_grad;
    result.state = x.detach().to(torch::kCPU).contiguous();
    auto out = x;
    if (opt.color == ColorMode::Luminance) out = combine_luminance_chroma(out, content_s);
    result.image = out.to(torch::kCPU).contiguous();
    result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
}

}  // namespace stylize
