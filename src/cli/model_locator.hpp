#pragma once
#include <string>
#include <vector>

namespace stylize::cli {

/// Where the model was found, and every place that was tried.
struct ModelLocation {
    std::string path;
    std::vector<std::string> tried;
};

/// Finds the model file, in this order:
///   1. `explicit_path` (--model), if given: used as is, even if missing;
///   2. $STYLIZE_MODEL, if set;
///   3. the install location <prefix>/share/stylize/models/;
///   4. models/ next to the executable's folder (a build tree inside the
///      project: build/stylize -> models/), then the executable's own folder.
/// In each folder vgg19.pt (ImageNet) is preferred to vgg19-random.pt.
/// Throws ModelError listing the places tried when nothing is found.
ModelLocation locate_model(const std::string& explicit_path, const char* env_value,
                           const std::string& install_dir, const std::string& executable_path);

/// Path of the running executable (/proc/self/exe), or "" if unknown.
std::string executable_path();

}  // namespace stylize::cli
