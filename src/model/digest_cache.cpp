#include "model/digest_cache.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace stylize::detail {
namespace {

constexpr const char* kFormat = "stylize-model-digests-1";

nlohmann::json read_entries(const std::string& file) {
    std::ifstream in(file);
    if (!in) return nlohmann::json::object();
    const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || j.value("format", "") != kFormat || !j.contains("files") || !j["files"].is_object())
        return nlohmann::json::object();  // unreadable or another format: start afresh
    return j["files"];
}

nlohmann::json to_json(const FileStamp& s) {
    return {{"device", s.device}, {"inode", s.inode}, {"size", s.size}, {"mtime_ns", s.mtime_ns},
            {"ctime_ns", s.ctime_ns}};
}

}  // namespace

std::optional<FileStamp> stamp_of(const std::string& path) {
    std::error_code ec;
    const auto canonical = fs::canonical(path, ec);
    struct stat st {};
    if (ec || ::stat(canonical.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    FileStamp s;
    s.path = canonical.string();
    s.device = static_cast<uint64_t>(st.st_dev);
    s.inode = static_cast<uint64_t>(st.st_ino);
    s.size = static_cast<uint64_t>(st.st_size);
    s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    s.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
    return s;
}

DigestCache::DigestCache(std::string folder) : folder_(std::move(folder)) {}

std::string DigestCache::file() const {
    return folder_.empty() ? std::string() : (fs::path(folder_) / "model-digests.json").string();
}

std::optional<std::string> DigestCache::lookup(const FileStamp& stamp) const {
    if (folder_.empty()) return std::nullopt;
    const auto files = read_entries(file());
    if (!files.contains(stamp.path)) return std::nullopt;
    const auto& e = files[stamp.path];
    if (!e.is_object() || !e.contains("stamp") || e["stamp"] != to_json(stamp)) return std::nullopt;
    const auto digest = e.value("sha256", std::string());
    if (digest.size() != 64) return std::nullopt;
    return digest;
}

void DigestCache::remember(const FileStamp& stamp, const std::string& sha256) const {
    if (folder_.empty()) return;
    std::error_code ec;
    fs::create_directories(folder_, ec);
    auto files = read_entries(file());
    files[stamp.path] = {{"stamp", to_json(stamp)}, {"sha256", sha256}, {"used", std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count()}};
    // Keep the most recently used files.
    while (files.size() > kMaxEntries) {
        auto oldest = files.begin();
        for (auto it = files.begin(); it != files.end(); ++it)
            if (it.value().value("used", int64_t{0}) < oldest.value().value("used", int64_t{0})) oldest = it;
        files.erase(oldest);
    }
    const nlohmann::json out{{"format", kFormat}, {"files", files}};
    std::ostringstream name;
    name << file() << "." << ::getpid() << ".tmp";
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
    fs::rename(tmp, file(), ec);
    if (ec) fs::remove(tmp, ec);
}

}  // namespace stylize::detail
