#include "model_locator.hpp"

#include <filesystem>

#include "stylize/errors.hpp"

namespace fs = std::filesystem;

namespace stylize::cli {

std::string executable_path() {
    std::error_code ec;
    const auto p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string() : p.string();
}

ModelLocation locate_model(const std::string& explicit_path, const char* env_value,
                           const std::string& install_dir, const std::string& executable) {
    ModelLocation loc;
    if (!explicit_path.empty()) {
        loc.path = explicit_path;
        loc.tried.push_back(explicit_path + " (--model)");
        return loc;
    }
    if (env_value && *env_value) {
        loc.path = env_value;
        loc.tried.push_back(std::string(env_value) + " ($STYLIZE_MODEL)");
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

}  // namespace stylize::cli
