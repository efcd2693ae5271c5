#pragma once
// The Gatys-style optimisation. One call stylizes one content image against
// one or more style images. Progress and cancellation arrive through hooks
// passed with each call; the library never prints and keeps no global state.
//
//   auto model = stylize::FeatureExtractor::load("models/vgg19.pt");
//   stylize::StylizeOptions opt;           // defaults as documented
//   opt.iterations = 200;
//   auto content = stylize::load_image("content.jpg").rgb;
//   auto style = stylize::load_image("style.jpg").rgb;
//   stylize::Hooks hooks;
//   hooks.on_progress = [](const stylize::Progress& p) { /* show p */ };
//   auto result = stylize::stylize(model, content, {style}, opt, hooks);
//   stylize::save_image("out.png", result.image);
//
// Thread safety: concurrent calls need separate FeatureExtractor objects.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "stylize/memory_estimate.hpp"
#include "stylize/model.hpp"
#include "stylize/options.hpp"
#include "stylize/spatial.hpp"
#include "stylize/targets.hpp"
#include "stylize/temporal.hpp"

namespace stylize {

struct LossTerms {
    double content = 0, style = 0, tv = 0, temporal = 0, total = 0;
};

struct Progress {
    int evaluation = 0;         ///< 1-based, over the whole run (all scales)
    int total = 0;              ///< evaluations the run will perform (unless stopped early)
    int scale = 1, scales = 1;  ///< current scale (1-based) and number of scales
    int64_t height = 0, width = 0;  ///< size of the image being optimised
    LossTerms losses;           ///< weighted terms at the optimiser's current (accepted) image
    double evaluated_loss = 0;  ///< total loss of the image this evaluation looked at
    bool accepted = true;       ///< whether the optimiser accepted that image (L-BFGS rejects a step that does not lower the loss enough)
    int rejected = 0;           ///< evaluations rejected so far in the run
    double elapsed_seconds = 0;
};

enum class StopReason { Completed, Converged, Cancelled, NonFinite };
const char* to_string(StopReason);

struct Hooks {
    /// Called after every evaluation.
    std::function<void(const Progress&)> on_progress;
    /// Polled before every evaluation; return true to stop. The run then
    /// returns the latest image with StopReason::Cancelled.
    std::function<bool()> should_cancel;
    /// Called before every evaluation, after should_cancel, with the
    /// evaluation's 0-based index within its scale (an application can
    /// recycle memory there; see src/memory/recycling_allocator.hpp).
    std::function<void(int index_in_scale)> before_evaluation;
    /// Called with the current image (1,3,H,W in [0,1], CPU) every
    /// `intermediate_every` evaluations, if both are set.
    std::function<void(const torch::Tensor&, int evaluation)> on_intermediate;
    int intermediate_every = 0;
};

struct Result {
    torch::Tensor image;        ///< (1,3,H,W) fp32 RGB in [0,1], CPU
    /// The optimised image itself (with ColorMode::Luminance, before the
    /// content's chroma is put back), rounded as `image`: what the losses
    /// were measured on, and where a follow-up run (the next video frame)
    /// starts. (1,3,H,W) fp32 in [0,1], CPU.
    torch::Tensor state;
    /// The losses of the image as written: `image` rounded to
    /// options.output_bit_depth, measured once more after the last
    /// evaluation (that measurement is not counted in `evaluations`).
    LossTerms losses;
    /// The optimiser's own losses at the image it accepted last, before
    /// rounding (for Adam's averaged image: at the last evaluated image).
    LossTerms optimizer_losses;
    int evaluations = 0;
    int rejected = 0;           ///< evaluations whose image the optimiser rejected
    StopReason stop_reason = StopReason::Completed;
    std::string stop_detail;    ///< human-readable why, for Converged/NonFinite
    double seconds = 0;
};

/// Output size (height, width) for `content_hw` under options.size.
std::pair<int64_t, int64_t> output_size(int64_t height, int64_t width, int size);

/// Sizes (long side) of each scale, coarsest first, last = final size.
std::vector<int> scale_sizes(int final_long_side, const StylizeOptions& options);

/// Throws InvalidArgument (naming the option) if a content or style layer of
/// `options` is not in `model`.
void check_layers(const FeatureExtractor& model, const StylizeOptions& options);

/// Smallest image side the layers of `options` can process (the pooling
/// layers' kernels and strides, see network_shape.hpp): 16 for relu5_1.
int64_t minimum_side(const FeatureExtractor& model, const StylizeOptions& options);

/// Resolves "auto|cpu|cuda|cuda:N" to a device; throws RuntimeFailure if absent.
torch::Device resolve_device(const std::string& spec);

/// Reconfigures `model` to the options' device, precision and pooling where
/// it differs; its layout and convolution algorithm stay. stylize() calls it.
void configure_for(FeatureExtractor& model, const StylizeOptions& options);

/// Runs the whole optimisation. The options are the one source of truth for
/// the device, precision and pooling: `model` is reconfigured to them where
/// it differs (its layout and convolution algorithm are kept), so after the
/// call model.config() says what ran. `init_image` is used when options.init == Image.
/// `style_cache`, if given, maps long side -> targets and is filled/reused.
/// `temporal`, if given (a video frame after the first), adds its temporal
/// loss at every scale; its tensors have the output's size (output_size()).
/// `spatial`, if given, restricts each region's style statistics to the
/// matching regions of the style images (spatial.hpp); a style cache must
/// then hold targets made with the same style masks.
Result stylize(FeatureExtractor& model, const torch::Tensor& content,
               const std::vector<StyleImage>& styles, const StylizeOptions& options,
               const Hooks& hooks = {}, const torch::Tensor& init_image = {},
               std::vector<StyleTargets>* style_cache = nullptr, const TemporalGuide* temporal = nullptr,
               const SpatialControl* spatial = nullptr);

}  // namespace stylize
