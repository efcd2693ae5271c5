#pragma once
// Spatial control (Gatys, Ecker, Bethge, Hertzmann, Shechtman: "Controlling
// perceptual factors in neural style transfer", 2017). The output is divided
// into regions by soft masks over the content image; region r takes its
// style statistics only from region r of the style images (masked
// statistics, the masks averaged down to each layer's resolution). A region
// that no style image has keeps the content: it gets no style term, only
// the content and TV losses.
#include <array>
#include <vector>

#include <torch/types.h>

#include "stylize/targets.hpp"

namespace stylize {

struct SpatialControl {
    /// (R,1,H,W) fp32 in [0,1] over the content image: region r's weight at
    /// each pixel. Any size of the content's aspect ratio; resized per scale.
    torch::Tensor content;
    /// One per style image: (R,1,Hs,Ws) fp32 in [0,1] over that image.
    std::vector<torch::Tensor> styles;
};

/// `--style-region`: one grayscale mask per style image over the content,
/// each (1,1,H,W) in [0,1]; style i applies where mask i is bright and
/// supplies its whole image to that region. Throws InvalidArgument when a
/// mask is empty (no pixel at 1/2 or more).
SpatialControl regions_from_style_masks(const std::vector<torch::Tensor>& content_masks);

/// Colour-coded maps: a (1,3,H,W) map over the content and one over each
/// style image, in [0,1]. Every flat colour covering at least 1% of the
/// content map is a region; pixels of every map join the region of the
/// nearest such colour within 48/255 per channel (JPEG noise), others join
/// none. Throws InvalidArgument when the content map has more than
/// kMaxRegions such colours, or a style map has none of them.
struct ColourRegions {
    SpatialControl control;
    std::vector<std::array<int, 3>> colours;  ///< each region's colour, 0-255
    std::vector<bool> styled;                 ///< whether some style map has the region's colour
};
constexpr int kMaxRegions = 32;
ColourRegions regions_from_colour_maps(const torch::Tensor& content_map, const std::vector<torch::Tensor>& style_maps);

/// Whether an image of h2 x w2 has the aspect ratio of h1 x w1 (within 2%,
/// the rounding of a resized image).
bool same_aspect_ratio(int64_t h1, int64_t w1, int64_t h2, int64_t w2);

/// Checks counts, shapes, values and aspect ratios against the inputs;
/// throws InvalidArgument naming what is wrong.
void check_spatial_control(const SpatialControl& control, const torch::Tensor& content,
                           const std::vector<StyleImage>& styles);

/// (R,1,H,W) masks resized to (h, w): averaged when shrinking, bilinear when
/// growing, in [0,1].
torch::Tensor resize_masks(const torch::Tensor& masks, int64_t h, int64_t w);

}  // namespace stylize
