#pragma once
// The digest of a model file's parameters, remembered across runs: keyed by
// the file's path, device, inode, size and modification and change times,
// so an unchanged file is not hashed again and any change (a rewrite, an
// edit that restores the mtime, a copy over it) is hashed and verified anew.
// One JSON file in a cache folder, replaced whole (a concurrent writer's
// entries may be lost, never corrupted). Internal to the library.
#include <cstdint>
#include <optional>
#include <string>

namespace stylize::detail {

/// What identifies one version of a file without reading it.
struct FileStamp {
    std::string path;  ///< canonical
    uint64_t device = 0, inode = 0, size = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    bool operator==(const FileStamp& o) const {
        return path == o.path && device == o.device && inode == o.inode && size == o.size &&
               mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns;
    }
};

/// The stamp of `path` now; nullopt if it cannot be read.
std::optional<FileStamp> stamp_of(const std::string& path);

class DigestCache {
public:
    /// "" = no cache: lookup() finds nothing and remember() does nothing.
    explicit DigestCache(std::string folder);

    /// The digest remembered for exactly this version of the file.
    std::optional<std::string> lookup(const FileStamp& stamp) const;
    /// Remembers `sha256` for `stamp` (keeps the kMaxEntries files remembered last).
    /// Best effort: an unwritable folder is not an error.
    void remember(const FileStamp& stamp, const std::string& sha256) const;

    std::string file() const;
    static constexpr size_t kMaxEntries = 64;

private:
    std::string folder_;
};

}  // namespace stylize::detail
