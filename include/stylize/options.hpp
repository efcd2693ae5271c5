#pragma once
// Option structs for a stylization run. Plain data with documented defaults;
// the CLI fills them from the command line, library users fill them in code.
// The numeric settings' defaults and ranges are declared in settings.hpp.
#include <cstdint>
#include <string>
#include <vector>

#include "stylize/settings.hpp"

namespace stylize {

enum class OptimizerKind { LBFGS, Adam };
enum class InitKind { Content, Noise, Image };
enum class Pooling { Max, Avg };
/// Colour handling. Luminance: transfer style on luminance only and keep the
/// content's chroma (YCbCr). MatchMeanCov / MatchHistogram: before optimising,
/// recolour the style image so its colour statistics equal the content's.
enum class ColorMode { Style, Luminance, MatchMeanCov, MatchHistogram };
/// Precision of the feature extractor's convolutions. Gram matrices, losses,
/// the image and the optimiser state always stay fp32.
enum class Precision { FP32, TF32, BF16 };
/// How a style layer's features are compared with the style's
/// (style_statistic.hpp; docs/guides/styles-and-masks.md). Gram: the Gram matrix.
/// MeanCov: the features' mean and covariance. SlicedWasserstein: sorted
/// random 1-D projections of the features (Heitz et al. 2021). Histogram:
/// the Gram term plus per-channel histogram matching (Risser et al. 2017).
enum class StyleLossKind { Gram, MeanCov, SlicedWasserstein, Histogram };

/// A layer name with a weight, e.g. "relu3_1:0.5".
struct WeightedLayer {
    std::string name;
    double weight = 1.0;
};

struct StylizeOptions {
    // Layers and loss weights.
    /// relu2_2 beside relu4_2: a shallow layer holds the photo's structure
    /// where deep features alone let a dark style paint it away (docs/HOW_IT_WORKS.md,
    /// "Choosing the defaults"; docs/BENCHMARKS.md).
    std::vector<WeightedLayer> content_layers{{"relu2_2", 0.5}, {"relu4_2", 0.5}};
    std::vector<WeightedLayer> style_layers{
        {"relu1_1", 1.0}, {"relu2_1", 1.0}, {"relu3_1", 1.0}, {"relu4_1", 1.0}, {"relu5_1", 1.0}};
    double content_weight = settings::content_weight.fallback;
    double style_weight = settings::style_weight.fallback;  ///< why 3: settings.hpp
    double tv_weight = settings::tv_weight.fallback;
    bool normalize_gradients = false;
    /// Mean and covariance by default: at an equal time budget, judged by
    /// another network, Gram left 2 of 4 pairs nearly unstylized where
    /// mean-cov stylized all of them (docs/guides/styles-and-masks.md).
    StyleLossKind style_loss = StyleLossKind::MeanCov;
    Pooling pooling = Pooling::Max;

    // Optimisation.
    OptimizerKind optimizer = OptimizerKind::LBFGS;
    int iterations = settings::iterations.fallback;        ///< loss evaluations at the final scale
    int lbfgs_history = settings::lbfgs_history.fallback;  ///< L-BFGS correction pairs kept
    double learning_rate = settings::learning_rate.fallback;  ///< Adam step size, in [0,1] pixel units
    double ema_decay = settings::ema_decay.fallback;       ///< Adam iterate averaging (0 = off), e.g. 0.99
    double early_stop_tolerance = settings::early_stop.fallback;  ///< relative improvement; 0 = off
    int early_stop_window = settings::early_stop_window.fallback;  ///< evaluations the improvement is measured over

    // Geometry.
    int size = settings::size.fallback;                  ///< long side of the output; 0 = the content's size
    double style_scale = settings::style_scale.fallback;  ///< style image long side relative to the output's
    int scales = settings::scales.fallback;              ///< coarse-to-fine scales (1 = single scale)
    double scale_factor = settings::scale_factor.fallback;  ///< size ratio between scales
    int scale_iterations = settings::scale_iterations.fallback;  ///< evaluations at each scale before the last

    // Initialisation and colour.
    InitKind init = InitKind::Content;
    /// Bits per channel of the file the result goes to (8 or 16; 0 = not
    /// quantised): Result::losses are measured on the image rounded to it.
    int output_bit_depth = settings::output_bit_depth.fallback;
    uint64_t seed = 0;
    ColorMode color = ColorMode::Style;
    std::vector<double> style_blend;  ///< one weight per style image (normalised); empty = equal

    // Compute.
    std::string device = "auto";   ///< auto | cpu | cuda | cuda:N
    Precision precision = Precision::FP32;
    /// Activation checkpointing: keep only each pooling block's input during
    /// the forward pass and recompute the block's activations during the
    /// backward pass. Less memory (the largest block instead of all of them)
    /// for one extra forward pass of all but the deepest block.
    bool checkpoint = false;
    /// Exact tiled evaluation (tiling.hpp): the side of a tile in pixels,
    /// rounded down to the layers' alignment; 0 = off. Scales no larger than
    /// one tile run untiled.
    int tile = settings::tile.fallback;
    /// Pixels of context around each tile; -1 = the exact halo (the
    /// receptive field of the deepest layer used). Smaller is faster and no
    /// longer exact.
    int tile_halo = settings::tile_halo.fallback;
};

/// The names of `layers`, in their order (what FeatureExtractor::extract takes).
std::vector<std::string> layer_names(const std::vector<WeightedLayer>& layers);

/// Every layer a run reads: the content layers' names, then the style
/// layers' (a name in both lists appears twice).
std::vector<std::string> run_layer_names(const StylizeOptions& options);

/// Parses "relu1_1,relu2_1:0.5" into weighted layers (weight defaults to 1).
/// Throws InvalidArgument naming the bad item.
std::vector<WeightedLayer> parse_layer_list(const std::string& text, const std::string& what);

/// "relu2_2:0.5,relu4_2:0.5": the form parse_layer_list reads (":1" left out).
std::string format_layer_list(const std::vector<WeightedLayer>& layers);

/// Parses "0.7,0.3" into non-negative finite numbers. Throws InvalidArgument.
std::vector<double> parse_number_list(const std::string& text, const std::string& what);

/// Checks every field for a meaningful value; throws InvalidArgument naming the
/// option and the value. Does not check layer names against a model.
void validate(const StylizeOptions& options);

/// Throws InvalidArgument unless options.style_blend is empty or has one
/// weight per style image.
void check_style_count(const StylizeOptions& options, size_t style_count);

/// Calls f(key, value) for every field of `o`, in declaration order, under
/// its provenance name (the settings' keys): the one list a record of the
/// options (the CLI's sidecars and reports) is made from. Enums are passed
/// as they are (to_string names them). tile and tile_halo only when tiled:
/// an untiled run's record reads as records did before tiles.
template <class F>
void for_each_option(const StylizeOptions& o, F&& f) {
    f("content_layers", o.content_layers);
    f("style_layers", o.style_layers);
    f(settings::content_weight.key, o.content_weight);
    f(settings::style_weight.key, o.style_weight);
    f(settings::tv_weight.key, o.tv_weight);
    f("normalize_gradients", o.normalize_gradients);
    f("style_loss", o.style_loss);
    f("pooling", o.pooling);
    f("optimizer", o.optimizer);
    f(settings::iterations.key, o.iterations);
    f(settings::lbfgs_history.key, o.lbfgs_history);
    f(settings::learning_rate.key, o.learning_rate);
    f(settings::ema_decay.key, o.ema_decay);
    f(settings::early_stop.key, o.early_stop_tolerance);
    f(settings::early_stop_window.key, o.early_stop_window);
    f(settings::size.key, o.size);
    f(settings::style_scale.key, o.style_scale);
    f(settings::scales.key, o.scales);
    f(settings::scale_factor.key, o.scale_factor);
    f(settings::scale_iterations.key, o.scale_iterations);
    f("init", o.init);
    f(settings::output_bit_depth.key, o.output_bit_depth);
    f("seed", o.seed);
    f("colors", o.color);
    f("style_blend", o.style_blend);
    f("device", o.device);
    f("precision", o.precision);
    f("checkpoint", o.checkpoint);
    if (o.tile > 0) {
        f(settings::tile.key, o.tile);
        f(settings::tile_halo.key, o.tile_halo);
    }
}

const char* to_string(OptimizerKind);
const char* to_string(InitKind);
const char* to_string(Pooling);
const char* to_string(ColorMode);
const char* to_string(Precision);
const char* to_string(StyleLossKind);

}  // namespace stylize
