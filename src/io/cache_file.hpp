#pragma once
// One JSON file of entries keyed by a string, in the user's cache folder
// (model digests, measured convolution choices). Read whole, replaced whole
// through a process-unique temporary: a concurrent writer's entry may be
// lost, never corrupted. Internal to the library.
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace stylize::detail {

/// The entries of `file` (a JSON object), or an empty object when the file
/// is missing, unreadable or of another format than `format`.
nlohmann::json read_cache_entries(const std::string& file, const std::string& format);

/// Sets entry `key` of `file` to `value` (an object; its "used" field is set
/// to now), keeps the `max_entries` entries used last and replaces the file.
/// Creates the folder. Best effort: an unwritable folder is not an error.
void store_cache_entry(const std::string& file, const std::string& format, const std::string& key,
                       nlohmann::json value, size_t max_entries);

/// An exclusive advisory lock (flock) on `path`, created if missing, held
/// until destruction; waits for another holder. Best effort: when the file
/// cannot be opened, nothing is locked.
class FileLock {
public:
    explicit FileLock(const std::string& path);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace stylize::detail
