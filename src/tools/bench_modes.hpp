#pragma once
// The measurements behind stylize_bench's modes other than the plain
// timing: the machine's convolution ceiling, paired configurations in one
// process, and the exactness of tiles; and the helpers they share with it.
#include <cstdint>
#include <string>
#include <vector>

#include "json_output.hpp"
#include "stylize/model.hpp"
#include "stylize/options.hpp"

namespace stylize::bench {

/// x to `digits` decimals: measurements are printed no finer than they mean.
double rounded(double x, int digits);
/// One JSON object on a line of stdout.
void print_json(const cli::Json& j);
double median(std::vector<double> v);
/// Multiply-adds x2 of one evaluation (forward + input-gradient backward).
double gflop_per_evaluation(const FeatureExtractor& model, const StylizeOptions& o, int64_t h, int64_t w);
/// --ceiling: the rate of a large 3x3 convolution at this dtype and thread count.
int ceiling(int threads, Precision precision, bool winograd);
StyleLossKind parse_style_loss(const std::string& v);
/// --pairs: alternate N evaluations of configurations A and B in one process.
int pairs(FeatureExtractor& model, const std::string& a_text, const std::string& b_text, int size, int npairs,
          uint64_t seed);
/// --tile-exactness: tiled against untiled loss and gradient.
int tile_exactness(FeatureExtractor& model, int size, int tile, int halo, uint64_t seed);

}  // namespace stylize::bench
