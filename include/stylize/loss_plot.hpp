#pragma once
// Training's pictures: the loss curves (each series against the step, on a
// log scale) and the validation sheet.
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace stylize {

struct PlotSeries {
    std::string name;
    std::vector<double> values;  ///< one per step; values <= 0 are not drawn
};

/// Draws the series (with a moving average over `smooth` steps) into a PNG
/// of `width` x `height` pixels at `path`. Throws ImageError when it cannot
/// be written.
void save_loss_plot(const std::string& path, const std::vector<PlotSeries>& series, int smooth = 20,
                    int width = 900, int height = 500);

/// One picture of the validation sheet and the line written above it.
struct LabelledImage {
    std::string label;
    torch::Tensor image;  ///< (1,3,H,W) in [0,1]
};

/// The pictures side by side, each scaled to `height` pixels, with its label
/// above it, into a PNG at `path` (written whole or not at all). Throws
/// ImageError when it cannot be written.
void save_picture_row(const std::string& path, const std::vector<LabelledImage>& pictures, int height = 256);

}  // namespace stylize
