#include "io/cache_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace stylize::detail {

nlohmann::json read_cache_entries(const std::string& file, const std::string& format) {
    std::ifstream in(file);
    if (!in) return nlohmann::json::object();
    const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || j.value("format", "") != format || !j.contains("entries") || !j["entries"].is_object())
        return nlohmann::json::object();  // unreadable or another format: start afresh
    return j["entries"];
}

void store_cache_entry(const std::string& file, const std::string& format, const std::string& key,
                       nlohmann::json value, size_t max_entries) {
    std::error_code ec;
    fs::create_directories(fs::path(file).parent_path(), ec);
    auto entries = read_cache_entries(file, format);
    value["used"] = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    entries[key] = std::move(value);
    // Keep the entries used last.
    while (entries.size() > max_entries) {
        auto oldest = entries.begin();
        for (auto it = entries.begin(); it != entries.end(); ++it)
            if (it.value().value("used", int64_t{0}) < oldest.value().value("used", int64_t{0})) oldest = it;
        entries.erase(oldest);
    }
    const nlohmann::json out{{"format", format}, {"entries", entries}};
    std::ostringstream name;
    name << file << "." << ::getpid() << ".tmp";
    const auto tmp = name.str();
    {
        std::ofstream f(tmp, std::ios::trunc);
        if (!f) return;
        f << out.dump(1) << '\n';
        if (!f.flush()) {
            fs::remove(tmp, ec);
            return;
        }
    }
    fs::rename(tmp, file, ec);
    if (ec) fs::remove(tmp, ec);
}

FileLock::FileLock(const std::string& path) {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0)
        while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
        }
}

FileLock::~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace stylize::detail
