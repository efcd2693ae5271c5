#include "io/atomic_write.hpp"

#include <filesystem>

#include <c10/util/Exception.h>

#include "stylize/errors.hpp"

namespace stylize {

void write_atomically(const std::string& path, const std::string& what,
                      const std::function<void(const std::string& temporary_path)>& write) {
    const auto target = std::filesystem::path(path);
    const auto tmp = target.parent_path() / ("." + target.filename().string() + ".tmp");
    std::error_code ec;
    try {
        write(tmp.string());
    } catch (const std::exception& e) {  // c10::Error from LibTorch's writers, mostly
        std::filesystem::remove(tmp, ec);
        const std::string why = e.what();
        throw ImageError(path + ": cannot write the " + what + ": " + why.substr(0, why.find('\n')));
    }
    std::filesystem::rename(tmp, target, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        throw ImageError(path + ": cannot write the " + what + ": " + ec.message());
    }
}

}  // namespace stylize
