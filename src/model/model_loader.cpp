#include "stylize/model_loader.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "model/digest_cache.hpp"
#include "stylize/errors.hpp"

namespace fs = std::filesystem;

namespace stylize {

ModelLocation locate_model(const std::string& explicit_path, const std::string& env_path,
                           const std::string& install_dir, const std::string& executable) {
    ModelLocation loc;
    if (!explicit_path.empty()) {
        loc.path = explicit_path;
        loc.tried.push_back(explicit_path + " (--model)");
        return loc;
    }
    if (!env_path.empty()) {
        loc.path = env_path;
        loc.tried.push_back(env_path + " ($STYLIZE_MODEL)");
        return loc;
    }
    std::vector<fs::path> dirs;
    if (!install_dir.empty()) dirs.emplace_back(install_dir);
    if (!executable.empty()) {
        const auto exe_dir = fs::path(executable).parent_path();
        dirs.push_back(exe_dir.parent_path() / "models");
        dirs.push_back(exe_dir.parent_path().parent_path() / "models");
        dirs.push_back(exe_dir / "models");
    }
    for (const auto& d : dirs) {
        for (const char* name : {"vgg19.pt", "vgg19-random.pt"}) {
            const auto candidate = (d / name).lexically_normal();
            loc.tried.push_back(candidate.string());
            std::error_code ec;
            if (fs::is_regular_file(candidate, ec)) {
                loc.path = candidate.string();
                return loc;
            }
        }
    }
    std::string tried;
    for (const auto& t : loc.tried) tried += (tried.empty() ? "" : ", ") + t;
    throw ModelError("no model found (tried " + tried +
                     "); make one with scripts/get_model.sh, or pass --model FILE or set STYLIZE_MODEL");
}

void verify_model(const ModelInfo& info) {
    if (info.sha256_recorded.empty()) return;
    const auto& a = info.sha256_recorded;
    const auto& b = info.sha256;
    const bool same = a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                          return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
                      });
    if (!same)
        throw ModelError(info.path + ": parameters do not match the recorded sha256; the file is corrupt or was "
                         "edited: re-export it (recorded " + a.substr(0, 16) + ", computed " + b.substr(0, 16) + ")");
}

LoadedModel load_model(const ModelRequest& request) {
    auto location = locate_model(request.path, request.env_path, request.install_dir, request.executable_path);
    const detail::DigestCache cache(request.cache_dir);
    const auto stamp = detail::stamp_of(location.path);
    const auto known = stamp ? cache.lookup(*stamp) : std::nullopt;
    auto model = FeatureExtractor::load(location.path, known.value_or(""));
    const auto& info = model.info();
    verify_model(info);
    // Remember it only if the file did not change while it was read.
    if (!known && stamp && detail::stamp_of(location.path) == stamp) cache.remember(*stamp, info.sha256);
    std::vector<std::string> warnings;
    if (!info.has_metadata)
        warnings.push_back(info.path + " has no stylize metadata; assuming ImageNet normalisation (RGB, [0,1], "
                                       "mean/std of torchvision)");
    if (info.weights == "random")
        warnings.push_back(info.path + " has RANDOM weights: it transfers colour and texture but not what a trained "
                                       "VGG19 sees. For real results run scripts/get_model.sh --imagenet (needs "
                                       "internet once).");
    return LoadedModel{std::move(model), std::move(location), std::move(warnings), known.has_value()};
}

}  // namespace stylize
