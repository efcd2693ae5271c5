#pragma once
// Files written whole or not at all: the writer fills a temporary file
// beside the target (".NAME.tmp"), which is then renamed over it. Internal
// to the library.
#include <functional>
#include <string>

namespace stylize {

/// Calls `write(temporary_path)`, then renames the temporary file to
/// `path`. If either fails, the temporary file is removed and ImageError
/// says "PATH: cannot write the WHAT: why". Never leaves a partial `path`.
void write_atomically(const std::string& path, const std::string& what,
                      const std::function<void(const std::string& temporary_path)>& write);

}  // namespace stylize
