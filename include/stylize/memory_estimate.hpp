#pragma once
// The pre-flight memory estimate: what a run needs at its peak, so that the
// CLI can refuse, checkpoint or shrink before the first evaluation.
#include <cstdint>

#include "stylize/model.hpp"
#include "stylize/options.hpp"

namespace stylize {

/// Estimated peak bytes a run of options at (height, width) needs on its
/// device: activations kept for backward, targets, weights, scratchpads and
/// optimiser state. Checked against measured peaks in docs/BENCHMARKS.md.
double estimate_memory_bytes(const FeatureExtractor& model, int64_t height, int64_t width,
                             const StylizeOptions& options);

}  // namespace stylize
