#pragma once
// 3x3 convolutions run through oneDNN primitives of stylize's own, made once
// per input shape with the weights put in the kernels' format once (ATen
// reorders the weights on every call, and the activations of NCHW layers in
// and out of oneDNN's blocked format twice per call):
//  - WinogradF32: oneDNN's Winograd F(4x4,3x3) kernels, fp32, AVX-512. About
//    a quarter of the direct method's multiplications; about 2x faster than
//    ATen's direct kernels per VGG19 layer, forward and input gradient.
//    Activations in the blocked layout of blocked_layout.hpp.
//  - DirectBf16: oneDNN's direct bf16 kernels (fp32 accumulation; AMX or
//    AVX512_BF16), activations channels-last bf16 end to end, so a bf16
//    evaluation runs no reorder at all (docs/BENCHMARKS.md).
// The weights are constants: there is no weight gradient. Both fuse the
// following ReLU when asked.
#include <memory>

#include <torch/types.h>

namespace stylize::detail {

enum class OneDnnKernel { WinogradF32, DirectBf16 };

/// Whether this build was made with oneDNN's headers (so the two below can
/// tell what the CPU offers).
bool onednn_linked();

/// Whether this build has oneDNN and this CPU runs its Winograd kernels.
bool winograd_available();

/// Whether this build has oneDNN and this CPU has native bf16 convolution
/// kernels (not oneDNN's reference ones).
bool bf16_conv_available();

/// Whether a conv layer with this (O,I,kh,kw) weight and padding can run as
/// a OneDnnConv: 3x3, padding 1, input and output channels multiples of 16.
bool onednn_eligible(const torch::Tensor& weight, int padding);

/// The scratchpad memory the oneDNN convolutions of one network share
/// (they run one at a time), resized as the layers' needs change (8 MB for
/// VGG19's conv1_2 at 512 px, 91 MB for conv3_2 with Winograd). oneDNN's own
/// scratchpads, kept with each primitive, held ~0.1 GB more at the memory
/// peak; fresh ones per call cost ~1.3x the time in page faults.
struct ScratchArena;
std::shared_ptr<ScratchArena> make_scratch_arena();
/// Frees the arena's memory now (the next convolution allocates it again).
void release_scratch(ScratchArena& arena);

class OneDnnConv {
public:
    /// fp32 CPU weight (O,I,3,3) and bias (O), the kernel, and the arena to
    /// share. Throws std::runtime_error when the kernel is not available.
    OneDnnConv(const torch::Tensor& weight, const torch::Tensor& bias, OneDnnKernel kernel,
               std::shared_ptr<ScratchArena> arena);
    ~OneDnnConv();
    OneDnnConv(const OneDnnConv&) = delete;
    OneDnnConv& operator=(const OneDnnConv&) = delete;

    OneDnnKernel kernel() const;

    /// conv (+ ReLU when `relu`). WinogradF32: a blocked fp32 map in, a
    /// blocked map out. DirectBf16: a (N,I,H,W) bf16 map in (made
    /// channels-last if it is not), a channels-last (N,O,H,W) bf16 map out.
    /// Differentiable with respect to the input. Thread-safe.
    torch::Tensor operator()(const torch::Tensor& x, bool relu) const;

    /// Bytes of scratchpad a (1,I,h,w) input needs, forward or backward.
    size_t scratchpad_bytes(int64_t h, int64_t w) const;

    struct State;

private:
    std::unique_ptr<State> state_;
};

}  // namespace stylize::detail
