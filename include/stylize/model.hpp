#pragma once
// The VGG-style feature extractor: loaded from a TorchScript file, its
// conv/relu/pool stack named in the usual way (conv1_1, relu1_1, pool1, ...),
// executed only as deep as the layers a run asks for.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "stylize/model_info.hpp"
#include "stylize/options.hpp"

namespace stylize {

namespace detail {
class OneDnnConv;
struct ScratchArena;
}

enum class LayerKind { Conv, Relu, Pool };

struct Layer {
    std::string name;  ///< conv1_1, relu1_1, pool1, ...
    LayerKind kind;
    torch::Tensor weight, bias;  ///< Conv only: in the run's precision; fp32 where `bf16` holds its own copies
    int padding = 0;             ///< Conv only
    int pool_kernel = 2, pool_stride = 2;  ///< Pool only
    bool channels_last = false;  ///< Conv only: memory format this layer runs in
    /// Conv only: set by configure() when this layer runs as a oneDNN
    /// Winograd convolution (see ConvAlgorithm).
    std::shared_ptr<const detail::OneDnnConv> winograd = nullptr;
    /// Conv only: set by configure() when this layer runs on oneDNN's bf16
    /// kernels through stylize's own primitives (bf16 on a CPU that has
    /// them: weights converted once, activations channels-last throughout).
    std::shared_ptr<const detail::OneDnnConv> bf16 = nullptr;
};

/// Memory format of the activations. Auto: channels-last for convolutions
/// with at most 128 output channels, contiguous (NCHW) above. Measured with
/// Debian's LibTorch 1.13 (oneDNN 2.6) on a 2-core AVX-512 Xeon: channels-last
/// runs the 64- and 128-channel layers about 2x faster and the 256- and
/// 512-channel layers' backward about 1.5x slower. End to end Auto is about
/// 10% faster than Contiguous (paired runs, docs/BENCHMARKS.md), once the Gram
/// matrix gradient keeps the features' layout.
enum class Layout { Auto, ChannelsLast, Contiguous };

/// How the 3x3 convolutions are computed on the CPU.
/// Direct: ATen's convolutions (oneDNN's direct kernels).
/// Winograd: oneDNN's Winograd F(4x4,3x3) kernels, a quarter of the
/// multiplications; about 2x faster per layer and ~1.4x end to end on an
/// AVX-512 CPU (docs/BENCHMARKS.md). Results differ from Direct by rounding
/// (relative 1e-5 per layer). Needs a build with oneDNN (STYLIZE_ONEDNN), an
/// AVX-512 CPU, fp32, and channel counts that are multiples of 16 (VGG's
/// conv1_1, with 3 input channels, stays direct).
/// Auto: Winograd where it can run, otherwise Direct.
enum class ConvAlgorithm { Auto, Direct, Winograd };

/// Compute settings the extractor runs under.
struct ExtractorConfig {
    torch::Device device = torch::kCPU;
    Precision precision = Precision::FP32;
    Pooling pooling = Pooling::Max;
    Layout layout = Layout::Auto;  ///< end-to-end fastest here; see Layout
    ConvAlgorithm conv_algorithm = ConvAlgorithm::Auto;
};

const char* to_string(ConvAlgorithm);

/// Whether ConvAlgorithm::Winograd can run in this build on this CPU.
bool winograd_supported();

class FeatureExtractor {
public:
    /// Loads `path` (a TorchScript module whose children, or whose `features`
    /// child's children, are Conv2d/ReLU/MaxPool2d/AvgPool2d), reads its
    /// metadata and computes the SHA-256 of its parameters (info().sha256),
    /// or takes `known_sha256` when it is given (the digest computed earlier
    /// for this unchanged file: load_model()'s cache). Throws ModelError.
    /// Does not compare that digest with the one the metadata records:
    /// load_model() (model_loader.hpp) does.
    static FeatureExtractor load(const std::string& path, const std::string& known_sha256 = "");

    /// Builds an extractor from layers directly (for tests).
    FeatureExtractor(std::vector<Layer> layers, ModelInfo info);

    const ModelInfo& info() const { return info_; }
    const std::vector<Layer>& layers() const { return layers_; }
    std::vector<std::string> layer_names() const;
    bool has_layer(const std::string& name) const;
    /// Index of `name` in layers(); throws InvalidArgument listing valid names.
    size_t layer_index(const std::string& name) const;
    /// Channels of the feature map at `name`.
    int64_t channels_at(const std::string& name) const;

    /// Moves weights to the device and precision (always from the weights as
    /// loaded). Not thread-safe with extract(). Changes no process-wide
    /// LibTorch setting: TF32 on CUDA is the application's switch (see
    /// process_settings.hpp). Throws InvalidArgument when config.conv_algorithm is
    /// Winograd and it cannot run (see ConvAlgorithm).
    void configure(const ExtractorConfig& config);
    /// Drops the layers from index `depth` on, which no run of this
    /// extractor will use (their weights and Winograd copies are freed).
    void keep_layers(size_t depth);
    /// Number of conv layers that run as Winograd convolutions.
    int winograd_layers() const;
    /// One letter per conv layer, in order: 'w' runs as a Winograd
    /// convolution, 'd' direct ("wwddd..."; what the sidecar records).
    std::string conv_plan() const;
    /// Runs the conv layers marked 'd' in `plan` (as conv_plan() writes it)
    /// direct; 'w' keeps a layer as configured. Throws InvalidArgument when
    /// the plan's length is not the number of conv layers or it marks 'w' a
    /// layer that was not configured as Winograd (conv_calibration.hpp).
    void apply_conv_plan(const std::string& plan);
    /// Frees the Winograd convolutions' shared scratchpad until they next run
    /// (checkpointing does, before it recomputes the direct-convolution blocks).
    void release_scratch() const;
    const ExtractorConfig& config() const { return config_; }

    /// Runs `image` (N,3,H,W, fp32, RGB in [0,1]) through the network up to the
    /// deepest of `names` and returns those activations as fp32, in the order
    /// asked. Differentiable w.r.t. `image`.
    std::vector<torch::Tensor> extract(const torch::Tensor& image,
                                       const std::vector<std::string>& names) const;

    /// The network input for `image` (N,3,H,W fp32 RGB in [0,1]): channel
    /// order, value range, normalisation and precision applied. Differentiable.
    torch::Tensor prepare(const torch::Tensor& image) const;

    /// Runs layers [begin, end) on `x` (what prepare() or an earlier range
    /// returned) and returns the last activation. The activations of the
    /// layer indices in `keep` (sorted, unique) are appended to `*kept` as
    /// fp32, in index order. extract() is prepare() plus one range.
    /// `winograd` false runs the range with direct convolutions even where
    /// Winograd ones are configured: checkpointing does so for the blocks it
    /// recomputes, whose large activations the blocked layout's conversion
    /// copies would otherwise add to the memory peak.
    torch::Tensor run_layers(torch::Tensor x, size_t begin, size_t end, const std::vector<size_t>& keep,
                             std::vector<torch::Tensor>* kept, bool winograd = true) const;

    /// Layer indices where the pooling blocks of the first `depth` layers
    /// start: 0 and one past each pool. Activation checkpointing recomputes
    /// the network block by block from these boundaries.
    std::vector<size_t> block_starts(size_t depth) const;

    /// Number of layers that extract() would run for `names`.
    size_t depth_for(const std::vector<std::string>& names) const;

private:
    std::vector<Layer> layers_;
    ModelInfo info_;
    ExtractorConfig config_;
    torch::Tensor mean_, inv_std_;
    std::vector<torch::Tensor> master_weights_, master_biases_;  ///< per layer, fp32 CPU, as loaded
    std::shared_ptr<detail::ScratchArena> scratch_;  ///< shared by the oneDNN layers
};

/// Names conv/relu/pool layers VGG-style from their kinds in order. Throws
/// ModelError if the sequence has no conv layer or a relu not after a conv.
std::vector<std::string> name_vgg_layers(const std::vector<LayerKind>& kinds,
                                         const std::string& model_path);

}  // namespace stylize
