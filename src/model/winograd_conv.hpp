#pragma once
// 3x3 convolutions through oneDNN's Winograd F(4x4,3x3) kernels (fp32,
// AVX-512). They do about a quarter of the direct method's multiplications
// and ran about 2x faster than the direct kernels ATen uses, per VGG19 layer,
// forward and input-gradient backward (docs/BENCHMARKS.md). The weights are
// constants: there is no weight gradient. Activations are in the blocked
// layout of blocked_layout.hpp.
#include <memory>

#include <torch/types.h>

namespace stylize::detail {

/// Whether this build has oneDNN and this CPU runs its Winograd kernels.
bool winograd_available();

/// Whether a conv layer with this (O,I,kh,kw) weight and padding can run
/// here: 3x3, padding 1, input and output channels multiples of 16.
bool winograd_eligible(const torch::Tensor& weight, int padding);

/// The scratchpad memory the Winograd convolutions of one network share
/// (they run one at a time), resized as the layers' needs change (8 MB for
/// VGG19's conv1_2 at 512 px, 91 MB for conv3_2). oneDNN's own scratchpads,
/// kept with each primitive, held ~0.1 GB more at the memory peak; fresh ones
/// per call cost ~1.3x the time in page faults.
struct ScratchArena;
std::shared_ptr<ScratchArena> make_scratch_arena();
/// Frees the arena's memory now (the next convolution allocates it again).
void release_scratch(ScratchArena& arena);

class WinogradConv {
public:
    /// fp32 CPU weight (O,I,3,3) and bias (O), and the arena to share.
    /// Throws std::runtime_error when winograd_available() is false.
    WinogradConv(const torch::Tensor& weight, const torch::Tensor& bias, std::shared_ptr<ScratchArena> arena);
    ~WinogradConv();
    WinogradConv(const WinogradConv&) = delete;
    WinogradConv& operator=(const WinogradConv&) = delete;

    /// conv (+ ReLU when `relu`) of a blocked fp32 map; returns a blocked
    /// map. Differentiable with respect to `x5`. Thread-safe.
    torch::Tensor operator()(const torch::Tensor& x5, bool relu) const;

    /// Bytes of scratchpad a (1,C,h,w) input needs, forward or backward.
    size_t scratchpad_bytes(int64_t h, int64_t w) const;

    struct State;

private:
    std::unique_ptr<State> state_;
};

}  // namespace stylize::detail
