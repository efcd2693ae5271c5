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
    return minimum_input_side(model, model.depth_for(run_layer_names(opt)));
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

namespace {

// Everything stylize() can check before it starts: the images, the options,
// the layers against the model, the sizes each scale needs.
void check_run(const FeatureExtractor& model, const torch::Tensor& content_in, const std::vector<StyleImage>& styles_in,
               const StylizeOptions& opt, const torch::Tensor& init_image) {
    validate(opt);
    check_image(content_in, "content image");
    if (styles_in.empty()) throw InvalidArgument("at least one style image is needed");
    for (const auto& s : styles_in) check_image(s.image, "style image");
    check_style_count(opt, styles_in.size());
    if (opt.init == InitKind::Image) check_image(init_image, "--init image");
    check_layers(model, opt);
    check_tiling(model, opt);
}

// What the whole run shares: the inputs, the scales and the totals the
// progress reports count against.
struct RunSetup {
    const FeatureExtractor& model;
    const StylizeOptions& opt;
    const Hooks& hooks;
    torch::Tensor content;  ///< fp32, contiguous, on the CPU
    std::vector<StyleImage> styles;  ///< with the blend weights applied
    std::vector<int> sizes;  ///< long side of each scale
    int total = 0;           ///< evaluations in all, unless stopped early
    bool stochastic = false;  ///< a loss whose evaluations draw at random
    Clock::time_point start;
};

// Where the run is: the result so far, and whether it stops.
struct RunState {
    Result result;
    int evaluation = 0, rejected_before = 0;
    bool stop = false;
};

// One scale: its size, the content at it, and the evaluator of its loss
// (targets computed once, without autograd).
struct Scale {
    int index = 0;
    int64_t h = 0, w = 0;
    torch::Tensor content_s, content_view;
    std::unique_ptr<Evaluator> evaluator;
};

Scale make_scale(const RunSetup& run, int s, const TemporalGuide* temporal, const SpatialControl* spatial,
                 std::vector<StyleTargets>* style_cache) {
    const auto& model = run.model;
    const auto& opt = run.opt;
    const auto device = model.config().device;
    Scale sc;
    sc.index = s;
    std::tie(sc.h, sc.w) =
        size_for_long_side(run.content.size(2), run.content.size(3), run.sizes[static_cast<size_t>(s)]);
    const int64_t h = sc.h, w = sc.w;
    sc.content_s = resize_image(run.content, h, w).clamp(0, 1).to(device);
    sc.content_view = colour_view(sc.content_s, opt.color);
    std::vector<torch::Tensor> content_targets;
    StyleTargets local_style;
    const StyleTargets* style = nullptr;
    // Tiled scales (tiling.hpp) evaluate, and take their content targets, tile by tile.
    const int64_t tile = is_tiled(model, opt, h, w) ? effective_tile(model, opt) : 0;
    const int64_t halo = effective_halo(model, opt);
    const bool use_content = !opt.content_layers.empty() && opt.content_weight > 0;
    {
        torch::NoGradGuard no_grad;
        if (use_content && tile > 0) {
            std::vector<size_t> ids;
            for (const auto& l : opt.content_layers) ids.push_back(model.layer_index(l.name));
            content_targets = extract_tiled(model, sc.content_view, ids, tile, halo);
        } else if (use_content) {
            content_targets = model.extract(sc.content_view, layer_names(opt.content_layers));
        }
        style = &style_targets_for(model, run.styles, run.content, std::max(h, w), opt, spatial, style_cache,
                                   local_style);
    }
    torch::Tensor regions;
    if (spatial) regions = resize_masks(spatial->content.to(torch::kFloat), h, w).to(device);
    sc.evaluator = make_evaluator(model, make_terms(model, opt, content_targets, *style, regions),
                                  make_image_terms(opt, temporal, h, w, device), opt.checkpoint, h, w, tile, halo);
    return sc;
}

void report_progress(const RunSetup& run, const Scale& sc, const RunState& st, const LossTerms& good_terms,
                     const LossTerms& terms, bool accepted) {
    Progress p;
    p.evaluation = st.evaluation;
    p.total = run.total;
    p.scale = sc.index + 1;
    p.scales = static_cast<int>(run.sizes.size());
    p.height = sc.h;
    p.width = sc.w;
    p.losses = good_terms;
    p.evaluated_loss = terms.total;
    p.accepted = accepted;
    p.rejected = st.result.rejected;
    p.elapsed_seconds = std::chrono::duration<double>(Clock::now() - run.start).count();
    run.hooks.on_progress(p);
}

// The optimiser loop of one scale, from `x`. Returns the scale's image
// (unclamped optimiser output); on the last scale (or a stop) with the
// losses of the image as it will be written.
torch::Tensor optimise_scale(const RunSetup& run, const Scale& sc, torch::Tensor x, RunState& st) {
    const auto& opt = run.opt;
    const auto& hooks = run.hooks;
    const bool last_scale = sc.index + 1 == static_cast<int>(run.sizes.size());
    x.requires_grad_(true);
    const int n = last_scale ? opt.iterations : opt.scale_iterations;
    auto optimizer = make_image_optimizer(opt, x, run.stochastic);
    auto last_good = x.detach().clone();  // the last accepted image
    bool have_good = false;
    LossTerms good_terms;
    EarlyStop early(opt.early_stop_tolerance, opt.early_stop_window);
    auto& result = st.result;

    for (int k = 0; k < n; ++k) {
        if (hooks.should_cancel && hooks.should_cancel()) {
            result.stop_reason = StopReason::Cancelled;
            st.stop = true;
            break;
        }
        if (hooks.before_evaluation) hooks.before_evaluation(k);
        if (x.grad().defined()) x.mutable_grad().zero_();
        const LossTerms terms = sc.evaluator->evaluate(x);
        ++st.evaluation;
        const auto grad = x.grad().detach();
        const bool finite = std::isfinite(terms.total) && std::isfinite(grad.sum().item<double>());
        if (!finite && !(have_good && optimizer->can_reject())) {
            std::ostringstream why;
            why << "the loss or its gradient became " << (std::isnan(terms.total) ? "NaN" : "non-finite")
                << " at evaluation " << st.evaluation << "; kept the image of evaluation " << st.evaluation - 1;
            result.stop_reason = StopReason::NonFinite;
            result.stop_detail = why.str();
            st.stop = true;
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
        result.evaluations = st.evaluation;
        result.rejected = st.rejected_before + optimizer->rejected();
        if (hooks.on_progress) report_progress(run, sc, st, good_terms, terms, accepted);
        if (hooks.on_intermediate && hooks.intermediate_every > 0 && st.evaluation % hooks.intermediate_every == 0) {
            auto img = last_good.clamp(0, 1);
            if (opt.color == ColorMode::Luminance) img = combine_luminance_chroma(img, sc.content_s);
            hooks.on_intermediate(img.cpu(), st.evaluation);
        }
        if (last_scale && accepted) {
            if (auto why = early.update(terms.total)) {
                result.stop_reason = StopReason::Converged;
                result.stop_detail = *why;
                st.stop = true;
                break;
            }
        }
        if (k + 1 == n) break;  // the output is the last accepted image
        optimizer->propose(x);
    }
    st.rejected_before = result.rejected;
    torch::NoGradGuard no_grad;
    x = optimizer->output(last_good).detach().clamp(0, 1);
    if ((last_scale || st.stop) && have_good) {
        // Report what is written: the image quantised as the output file
        // will hold it, measured once more (not counted as an evaluation).
        x = quantise(x, opt.output_bit_depth);
        auto measured = x.clone().requires_grad_(true);
        torch::AutoGradMode grad_mode(true);
        // One more evaluation of this scale for the memory hook: it
        // allocates as the others do (a recycling allocator serves it
        // from the same plan).
        if (hooks.before_evaluation) hooks.before_evaluation(n);
        result.losses = sc.evaluator->evaluate(measured);
    }
    return x;
}

}  // namespace

Result stylize(FeatureExtractor& model, const torch::Tensor& content_in, const std::vector<StyleImage>& styles_in,
               const StylizeOptions& opt, const Hooks& hooks, const torch::Tensor& init_image,
               std::vector<StyleTargets>* style_cache, const TemporalGuide* temporal,
               const SpatialControl* spatial) {
    check_run(model, content_in, styles_in, opt, init_image);
    configure_for(model, opt);

    RunSetup run{model, opt, hooks, content_in.to(torch::kFloat).contiguous(), styles_in, {}, 0, false, Clock::now()};
    if (!opt.style_blend.empty())
        for (size_t i = 0; i < run.styles.size(); ++i) run.styles[i].weight = opt.style_blend[i];
    const auto [out_h, out_w] = output_size(run.content.size(2), run.content.size(3), opt.size);
    run.sizes = scale_sizes(static_cast<int>(std::max(out_h, out_w)), opt);
    const int nscales = static_cast<int>(run.sizes.size());
    run.total = (nscales - 1) * opt.scale_iterations + opt.iterations;
    check_geometry(model, opt, run.content, styles_in, run.sizes);
    if (temporal) check_temporal_guide(*temporal, out_h, out_w);
    if (spatial) check_spatial_control(*spatial, run.content, styles_in);
    for (const auto& st : make_style_statistics(opt.style_loss)) run.stochastic = run.stochastic || st->stochastic();

    RunState state;
    torch::Tensor x;          // the image being optimised (device, fp32)
    torch::Tensor content_s;  // content at the current scale (device)
    const auto device = model.config().device;
    for (int s = 0; s < nscales && !state.stop; ++s) {
        const auto scale = make_scale(run, s, temporal, spatial, style_cache);
        content_s = scale.content_s;
        {
            torch::NoGradGuard no_grad;
            x = (s > 0 ? resize_image(x, scale.h, scale.w).clamp(0, 1)
                       : initial_image(opt, scale.content_view, init_image, scale.h, scale.w, device))
                    .contiguous();
        }
        x = optimise_scale(run, scale, x, state);
    }

    torch::NoGradGuard no_grad;
    auto& result = state.result;
    result.state = x.detach().to(torch::kCPU).contiguous();
    auto out = x;
    if (opt.color == ColorMode::Luminance) out = combine_luminance_chroma(out, content_s);
    result.image = out.to(torch::kCPU).contiguous();
    result.seconds = std::chrono::duration<double>(Clock::now() - run.start).count();
    return result;
}

}  // namespace stylize
