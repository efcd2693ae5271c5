#pragma once
// A loss-curve picture: each series against the step, on a log scale.
#include <string>
#include <utility>
#include <vector>

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

}  // namespace stylize
