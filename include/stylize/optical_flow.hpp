#pragma once
// Dense optical flow between two frames, through OpenCV's video module (no
// external program). The flow convention is temporal.hpp's: the flow from A
// to B is (1,2,H,W) fp32 pixel offsets (x, y) with A(p) ~ B(p + f(p)).
#include <memory>
#include <string>

#include <torch/types.h>

namespace stylize {

/// DIS (Kroeger et al. 2016, OpenCV's PRESET_MEDIUM): fast and good on
/// natural video. Farneback (2003): smoother, slower.
enum class FlowMethod { DIS, Farneback };
const char* to_string(FlowMethod);

/// One flow algorithm, created once and reused for every frame pair.
/// Not thread-safe: one object per thread.
class OpticalFlow {
public:
    virtual ~OpticalFlow() = default;
    /// Flow from `from` to `to`, both (1,3,H,W) RGB in [0,1] of the same size
    /// (computed on their luminance, 8-bit, as OpenCV's algorithms expect).
    virtual torch::Tensor compute(const torch::Tensor& from, const torch::Tensor& to) = 0;
};

std::unique_ptr<OpticalFlow> make_optical_flow(FlowMethod method);

}  // namespace stylize
