#include "model/digest_cache.hpp"

#include "io/cache_file.hpp"

#include <sys/stat.h>

#include <filesystem>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace stylize::detail {
namespace {

// Version 2: the shared cache-file layout (io/cache_file.hpp).
constexpr const char* kFormat = "stylize-model-digests-2";

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
    const auto files = read_cache_entries(file(), kFormat);
    if (!files.contains(stamp.path)) return std::nullopt;
    const auto& e = files[stamp.path];
    if (!e.is_object() || !e.contains("stamp") || e["stamp"] != to_json(stamp)) return std::nullopt;
    const auto digest = e.value("sha256", std::string());
    if (digest.size() != 64) return std::nullopt;
    return digest;
}

void DigestCache::remember(const FileStamp& stamp, const std::string& sha256) const {
    if (folder_.empty()) return;
    store_cache_entry(file(), kFormat, stamp.path, {{"stamp", to_json(stamp)}, {"sha256", sha256}}, kMaxEntries);
}

}  // namespace stylize::detail
