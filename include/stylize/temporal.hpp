#pragma once
// Temporal consistency for video (Ruder, Dosovitskiy and Brox, "Artistic
// style transfer for videos", 2016): warping by dense optical flow, the mask
// of pixels whose flow can be trusted, the short-term temporal loss, and the
// warping error used to measure flicker. Tensors only; the flow itself comes
// from optical_flow.hpp.
//
// Flow convention, everywhere: a flow f from frame A to frame B is a
// (1,2,H,W) fp32 tensor of pixel offsets (x first, then y) such that
// A(p) ~ B(p + f(p)). So with f = flow(current, previous),
// warp_image(previous, f) is the previous frame moved onto the current one.
#include <torch/types.h>

namespace stylize {

/// How warp_image samples between pixels. Bilinear moves smoothly but blurs
/// a little at every sub-pixel shift; Nearest keeps pixel-level texture
/// intact (a stylized frame's fine texture is what the style loss measures)
/// at the cost of snapping to whole pixels.
enum class WarpInterpolation { Bilinear, Nearest };
const char* to_string(WarpInterpolation);

/// `image` (1,C,H,W) sampled at p + flow(p) for every pixel p, with the
/// border pixels repeated outside the image. Same size as `flow`.
torch::Tensor warp_image(const torch::Tensor& image, const torch::Tensor& flow,
                         WarpInterpolation interpolation = WarpInterpolation::Bilinear);

/// Pixels of the current frame whose backward flow can be trusted: (1,1,H,W)
/// fp32, 1 = reliable, 0 = not. `backward` = flow(current, previous),
/// `forward` = flow(previous, current). A pixel is unreliable where
///  - the two flows disagree (|w~ + w|^2 > 0.01 (|w~|^2 + |w|^2) + 0.5, with
///    w the backward flow and w~ the forward flow at p + w): occlusions and
///    disocclusions;
///  - the backward flow has a motion boundary (|grad u|^2 + |grad v|^2 >
///    0.01 |w|^2 + 0.002);
///  - p + w falls outside the previous frame.
torch::Tensor reliable_mask(const torch::Tensor& backward, const torch::Tensor& forward);

/// What the temporal loss of one frame compares against: the previous
/// frame's optimised image (Result::state, not clamped) warped onto this one,
/// the mask of reliable pixels, and the loss weight.
struct TemporalGuide {
    torch::Tensor warped;  ///< (1,3,H,W), about [0,1] (optimised images overshoot a little)
    torch::Tensor mask;    ///< (1,1,H,W) in [0,1]
    double weight = 0;
};

/// Ruder et al.'s short-term loss: sum over pixels and channels of
/// mask * (image - warped)^2, divided by the number of values (3 H W), so
/// that it reads like a mean squared difference in [0,1] units (like the TV
/// term). Unweighted; differentiable in `image`.
torch::Tensor temporal_loss(const torch::Tensor& image, const torch::Tensor& warped, const torch::Tensor& mask);

/// The flicker measure: mean absolute difference, in [0,1] units, between
/// `current` and `previous` warped (bilinear, whatever the run used) by
/// `backward` = flow(current, previous), over the pixels where `mask` is 1
/// (and all channels). 0 if the mask is empty.
double warping_error(const torch::Tensor& current, const torch::Tensor& previous, const torch::Tensor& backward,
                     const torch::Tensor& mask);

}  // namespace stylize
