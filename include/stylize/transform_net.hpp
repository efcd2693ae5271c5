#pragma once
// Fast mode's image-transformation network (Johnson, Alahi and Fei-Fei 2016,
// with instance normalisation, Ulyanov et al. 2016): downsampling
// convolutions, residual blocks, upsampling by nearest-neighbour resize and
// convolution (no transposed convolutions, so no checkerboard artefacts),
// reflection padding. One forward pass stylizes an image in the style it
// was trained for (fast_training.hpp).
//
// It is a TorchScript module built in C++: the file `stylize train` writes
// runs in Python too (torch.jit.load(path)(image), image (N,3,H,W) RGB in
// [0,1]) and carries its metadata as the extra file "stylize.json".
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "stylize/options.hpp"

namespace stylize {

/// The network's shape.
struct TransformNetSpec {
    int width = 32;           ///< channels of the first layer; then 2x and 4x after each downsampling
    int residual_blocks = 5;  ///< residual blocks at a quarter of the resolution
};

/// Smallest image side the network accepts.
constexpr int64_t kTransformNetMinSide = 16;

class TransformNet {
public:
    /// A new network with weights drawn from `seed` (PyTorch's default
    /// convolution initialisation). Throws InvalidArgument for a bad spec.
    static TransformNet create(const TransformNetSpec& spec, uint64_t seed);

    /// Reads a network written by save(). Throws ModelError, naming the
    /// file, when it is missing, not TorchScript, or not a stylize
    /// transformation network.
    static TransformNet load(const std::string& path);

    /// Writes the network as TorchScript with `info_json` (a JSON object:
    /// how it was trained) in its metadata. Atomic: a temporary file renamed
    /// over `path`, so a crash never leaves a half-written network.
    /// Throws ImageError when the file cannot be written.
    void save(const std::string& path, const std::string& info_json) const;

    const TransformNetSpec& spec() const { return spec_; }
    /// The training metadata as loaded ("{}" for a new network).
    const std::string& info_json() const { return info_; }

    /// (N,3,H,W) RGB in [0,1] -> (N,3,H,W) in (0,1); differentiable in the
    /// input and the parameters. Any H, W >= kTransformNetMinSide.
    torch::Tensor forward(const torch::Tensor& images) const;

    /// One image (1,3,H,W) in [0,1] -> its stylization, on the CPU, without
    /// autograd. Throws InvalidArgument for a bad shape or size.
    torch::Tensor stylize(const torch::Tensor& image) const;

    /// Parameters in a fixed order, with their names (for the optimiser and
    /// for checkpoints).
    std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const;

    /// Moves the parameters to `device`.
    void to(torch::Device device);
    torch::Device device() const;

    /// Runs forward() in `precision` from now on (copies share the
    /// network, and so this setting). BF16 keeps the convolutions' weights
    /// and the activations in bfloat16 (input, instance-norm parameters, the
    /// last sigmoid and the output stay fp32): for inference only, about
    /// 2x faster on a CPU with AVX512_BF16, within a few 8-bit levels of
    /// fp32 (docs/BENCHMARKS.md, Fast mode). FP32 (the default) is what
    /// training needs; TF32 counts as FP32.
    void set_precision(Precision precision);
    Precision precision() const;

    /// Opaque: the TorchScript module, kept out of this header (torch/script.h is heavy).
    struct Module;

private:
    TransformNet(std::shared_ptr<Module> module, TransformNetSpec spec, std::string info);

    std::shared_ptr<Module> module_;
    TransformNetSpec spec_;
    std::string info_;
};

/// The precision `stylize apply` runs a network in unless told: BF16 on a
/// CPU with native bfloat16 instructions (AVX512_BF16, which the AMX CPUs
/// have too), FP32 elsewhere (emulated bfloat16 is slower) and on CUDA.
Precision fast_apply_precision(torch::Device device);

}  // namespace stylize
