#pragma once
// ConvAlgorithm::Auto, chosen by measurement: the first run of a model at a
// size class on a CPU times each 3x3 convolution both ways (oneDNN Winograd
// and ATen's direct kernels, forward and input gradient, at that layer's
// shape) and the layout conversions between them, picks the cheapest plan,
// and remembers it in the cache folder (like FFTW's wisdom). Later runs with
// the same CPU, LibTorch, model and size class read it back, so their bytes
// do not depend on a measurement. Both ways agree to rounding (relative 1e-5
// per layer).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "stylize/model.hpp"

namespace stylize {

/// One conv layer's measured cost, milliseconds for forward + input gradient.
struct ConvLayerTiming {
    std::string name;
    bool eligible = false;      ///< can run as Winograd (else winograd_ms is 0)
    double direct_ms = 0, winograd_ms = 0;
    double convert_ms = 0;      ///< to the blocked layout and back, at this layer's input
};

struct ConvCalibration {
    std::string plan;           ///< FeatureExtractor::conv_plan() after the call
    std::string key;            ///< what the remembered plan is keyed by ("" when not calibrated)
    int64_t side = 0;           ///< the size class measured at (0 when not calibrated)
    bool measured = false;      ///< measured by this call (false: read back, or not calibrated)
    double seconds = 0;         ///< time the measurement took
    std::vector<ConvLayerTiming> layers;  ///< per conv layer, when measured
    /// Predicted milliseconds per evaluation for the chosen plan, all
    /// Winograd (where eligible) and all direct, when measured.
    double plan_ms = 0, winograd_ms = 0, direct_ms = 0;
};

/// The cheapest plan (one letter per layer, 'w' Winograd, 'd' direct) for
/// these per-layer costs, counting half a layer's round trip for each change
/// of layout and ending unblocked; its predicted total in `*ms`.
std::string cheapest_conv_plan(const std::vector<ConvLayerTiming>& layers, double* ms = nullptr);

/// The size class a run whose longer side is `side` pixels is measured at:
/// the nearest power of two, 64 to 512 (larger runs use 512's choice).
int64_t calibration_side(int64_t side);

/// What a remembered choice is valid for on this machine: the CPU's model
/// name and vector extensions, and the LibTorch version.
std::string cpu_identity();

/// For a model configured with ConvAlgorithm::Auto on the CPU in fp32 and at
/// least one Winograd layer: applies the remembered or newly measured
/// fastest plan for images whose longer side is about `side` pixels and
/// says which. Any other model, and any model when `cache_dir` is "", is
/// left as configured (Winograd wherever eligible; the result says measured
/// false and an empty key): a choice that is not remembered could change
/// from one run to the next with the machine's load, and with it the
/// output's bytes. `before_measuring` is called once before a measurement
/// starts (a few seconds at 512 px). Throws what LibTorch throws.
ConvCalibration calibrate_convolutions(FeatureExtractor& model, int64_t side, const std::string& cache_dir,
                                       const std::function<void(int64_t side)>& before_measuring = {});

}  // namespace stylize
