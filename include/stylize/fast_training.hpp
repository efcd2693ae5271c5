#pragma once
// Fast mode's training (Johnson, Alahi and Fei-Fei 2016): a transformation
// network (transform_net.hpp) learns, with Adam on batches of content
// crops, to produce images whose losses are those the optimisation mode
// minimises: the same content, style and TV terms over the same feature
// extractor, computed by the same code (per image, with the same
// normalisation), so the losses of the two modes compare directly.
//
// The caller owns the loop: it feeds batches (crop_sampler.hpp makes them
// from a folder, deterministically from the seed and the step) and decides
// when to log, validate, checkpoint or stop. A run resumed from a
// checkpoint continues exactly as the uninterrupted run would have.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "stylize/engine.hpp"
#include "stylize/model.hpp"
#include "stylize/options.hpp"
#include "stylize/targets.hpp"
#include "stylize/transform_net.hpp"

namespace stylize {

struct FastTrainOptions {
    /// The losses, as in the optimisation mode: content and style layers and
    /// weights, --style-loss, --tv-weight, --pooling, --style-scale (relative
    /// to the crop), --style-blend, the device and precision. The
    /// optimisation's own settings (iterations, sizes, init) are not used.
    StylizeOptions losses;
    TransformNetSpec net;
    int crop = 256;               ///< side of the square training crops
    int batch = 4;                ///< crops per step
    double learning_rate = 1e-3;  ///< Adam's step size
    uint64_t seed = 0;            ///< the network's initial weights (the crops take theirs from the caller)
};

/// Throws InvalidArgument naming the option at fault.
void validate(const FastTrainOptions& options);

class FastTrainer {
public:
    /// A new network (from options.seed) for `styles`, whose targets are
    /// computed once here at the crop size times --style-scale. `model` is
    /// configured for the options' device, precision and pooling, and must
    /// outlive the trainer. `data_key` names the training data (e.g. the
    /// style files' hashes); a checkpoint only resumes with the same key.
    FastTrainer(FeatureExtractor& model, const std::vector<StyleImage>& styles, const FastTrainOptions& options,
                std::string data_key = "");
    ~FastTrainer();
    FastTrainer(const FastTrainer&) = delete;
    FastTrainer& operator=(const FastTrainer&) = delete;

    /// One Adam step on `batch` ((N,3,crop,crop) RGB in [0,1]). Returns the
    /// batch's mean weighted loss terms before the step. Throws
    /// RuntimeFailure if the loss is not finite.
    LossTerms step(const torch::Tensor& batch);

    int64_t steps_done() const;
    /// The losses of every step so far (after a resume, from the first).
    const std::vector<LossTerms>& history() const;
    const TransformNet& net() const;
    const FastTrainOptions& options() const;
    /// The settings a checkpoint must match to resume, as a JSON object.
    std::string fingerprint() const;

    /// Writes the network, Adam's state, the step and the loss history
    /// to `path`, atomically (a temporary file renamed over it).
    void save_checkpoint(const std::string& path) const;
    /// Restores all of that from a checkpoint of the same settings. Throws
    /// ModelError for a file that is not a checkpoint, InvalidArgument
    /// naming the settings that differ.
    void load_checkpoint(const std::string& path);

private:
    struct State;
    std::unique_ptr<State> s_;
};

/// The weighted loss terms of `image` ((1,3,H,W) in [0,1]) as a stylization
/// of `content` (resized to the image) with `styles`, under `options` (the
/// style targets at the image's long side): what the optimisation would
/// report for that image. Used to compare fast and optimised outputs.
LossTerms measure_losses(FeatureExtractor& model, const torch::Tensor& content, const std::vector<StyleImage>& styles,
                         const torch::Tensor& image, const StylizeOptions& options);

}  // namespace stylize
