#pragma once
// What stylize knows about a model file: its metadata (the archive's extra
// file stylize.json, written by scripts/export_vgg19.py) and the digest of its
// parameters. Needs only the standard library.
#include <string>
#include <vector>

namespace stylize {

/// Missing metadata falls back to ImageNet normalisation; `has_metadata` says so.
struct ModelInfo {
    std::string path;
    bool has_metadata = false;
    std::string weights = "unknown";  ///< "imagenet", "random" or "unknown"
    std::string source;               ///< where the weights came from
    /// SHA-256 of the parameters, computed when the model is loaded, the same
    /// digest as parameter_sha256() in scripts/export_vgg19.py.
    std::string sha256;
    /// The SHA-256 the metadata records ("" if none). load_model() refuses a
    /// model where it is set and differs from `sha256`.
    std::string sha256_recorded;
    std::vector<double> mean{0.485, 0.456, 0.406};
    std::vector<double> std{0.229, 0.224, 0.225};
    double value_min = 0.0, value_max = 1.0;
    std::string channel_order = "RGB";
    int width_divisor = 1;
};

}  // namespace stylize
