#pragma once
// Option structs for a stylization run. Plain data with documented defaults;
// the CLI fills them from the command line, library users fill them in code.
#include <cstdint>
#include <string>
#include <vector>

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
    double content_weight = 1.0;
    /// Chosen with the mean-cov loss, judged by another network: every pair
    /// of the study set stylized and recognisable (1000, the Gatys value,
    /// turned dark styles' photos black).
    double style_weight = 3.0;
    double tv_weight = 1.0;
    bool normalize_gradients = false;
    /// Mean and covariance by default: at an equal time budget, judged by
    /// another network, Gram left 2 of 4 pairs nearly unstylized where
    /// mean-cov stylized all of them (docs/guides/styles-and-masks.md).
    StyleLossKind style_loss = StyleLossKind::MeanCov;
    Pooling pooling = Pooling::Max;

    // Optimisation.
    OptimizerKind optimizer = OptimizerKind::LBFGS;
    int iterations = 300;          ///< loss evaluations at the final scale
    int lbfgs_history = 10;        ///< L-BFGS correction pairs kept (measured: docs/BENCHMARKS.md)
    double learning_rate = 0.02;   ///< Adam step size, in [0,1] pixel units
    double ema_decay = 0.0;        ///< Adam iterate averaging (0 = off), e.g. 0.99
    double early_stop_tolerance = 0.0;  ///< relative improvement; 0 = off
    int early_stop_window = 50;    ///< evaluations over which the improvement is measured

    // Geometry.
    int size = 512;                ///< long side of the output; 0 = the content's size
    double style_scale = 1.0;      ///< style image long side relative to the output's
    int scales = 1;                ///< coarse-to-fine scales (1 = single scale)
    double scale_factor = 1.41421356237;  ///< size ratio between scales
    int scale_iterations = 100;    ///< evaluations at each scale before the last

    // Initialisation and colour.
    InitKind init = InitKind::Content;
    /// Bits per channel of the file the result goes to (8 or 16; 0 = not
    /// quantised): Result::losses are measured on the image rounded to it.
    int output_bit_depth = 8;
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
    int tile = 0;
    /// Pixels of context around each tile; -1 = the exact halo (the
    /// receptive field of the deepest layer used). Smaller is faster and no
    /// longer exact.
    int tile_halo = -1;
};

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

const char* to_string(OptimizerKind);
const char* to_string(InitKind);
const char* to_string(Pooling);
const char* to_string(ColorMode);
const char* to_string(Precision);
const char* to_string(StyleLossKind);

}  // namespace stylize
