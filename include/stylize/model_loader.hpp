#pragma once
// Finding, loading and verifying the model file: the one place the CLI (and
// any other front end) gets its FeatureExtractor from.
//
//   stylize::ModelRequest req;
//   req.path = cli_model_flag;                    // "" = search
//   req.env_path = getenv_or_empty("STYLIZE_MODEL");
//   req.install_dir = "/usr/share/stylize/models";
//   req.executable_path = path_of_this_program;
//   auto loaded = stylize::load_model(req);       // throws ModelError
//   for (auto& w : loaded.warnings) log_warning(w);
//
// Pure functions of their arguments: nothing here reads the environment.
#include <string>
#include <vector>

#include "stylize/model.hpp"

namespace stylize {

/// Where the model was found, and every place that was tried.
struct ModelLocation {
    std::string path;
    std::vector<std::string> tried;
};

/// Finds the model file, in this order:
///   1. `explicit_path` (--model), if given: used as is, even if missing;
///   2. `env_path` ($STYLIZE_MODEL), if not empty: likewise;
///   3. the install location `install_dir` (<prefix>/share/stylize/models/);
///   4. models/ next to the executable's folder (a build tree inside the
///      project: build/stylize -> models/), one level further up
///      (build/tests/x -> models/), then the executable's own models/.
/// In each folder vgg19.pt (ImageNet) is preferred to vgg19-random.pt.
/// Empty arguments are skipped. Throws ModelError listing the places tried
/// when nothing is found.
ModelLocation locate_model(const std::string& explicit_path, const std::string& env_path,
                           const std::string& install_dir, const std::string& executable_path);

/// What load_model() needs to find the model; see locate_model().
struct ModelRequest {
    std::string path;             ///< explicit file (--model); "" = search
    std::string env_path;         ///< value of $STYLIZE_MODEL; "" = unset
    std::string install_dir;      ///< <prefix>/share/stylize/models
    std::string executable_path;  ///< the running program, for the models/ folders near it
    /// Folder where the digests of verified model files are remembered, so an
    /// unchanged file is not hashed again (keyed by path, device, inode,
    /// size, mtime and ctime); "" = hash every time.
    std::string cache_dir;
};

struct LoadedModel {
    FeatureExtractor model;             ///< as FeatureExtractor::load leaves it (CPU, fp32); configure() it
    ModelLocation location;
    std::vector<std::string> warnings;  ///< for the user: no metadata, random weights
    bool digest_from_cache = false;     ///< the parameters' SHA-256 came from ModelRequest::cache_dir
};

/// Throws ModelError when the model's metadata records a parameter SHA-256
/// (ModelInfo::sha256_recorded) that differs from the computed one.
void verify_model(const ModelInfo& info);

/// Locates, loads (FeatureExtractor::load) and verifies (verify_model) the
/// model, and lists what the user should be warned about. Throws ModelError.
/// With a cache_dir, a file whose stamp matches a remembered one takes the
/// remembered digest (it was verified when it was remembered); any other
/// file is hashed, verified, then remembered.
LoadedModel load_model(const ModelRequest& request);

}  // namespace stylize
