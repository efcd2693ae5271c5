#pragma once
// Jobs files for batch runs: one job per line,
//   CONTENT STYLE [STYLE...] [-o OUT] [options...]
// with shell-like quoting ('...', "...", backslash escapes), blank lines and
// '#' comments skipped. No LibTorch dependency (fuzzed on its own).
#include <string>
#include <vector>

namespace stylize::cli {

struct JobLine {
    int line_number = 0;            ///< 1-based, for error messages
    std::vector<std::string> args;  ///< the words of the line
};

/// Splits one line into words. Throws InvalidArgument on an unterminated quote
/// or a trailing backslash.
std::vector<std::string> split_words(const std::string& line);

/// Parses a whole jobs file. Throws InvalidArgument naming the line.
std::vector<JobLine> parse_jobs_file(const std::string& text, const std::string& file_name);

}  // namespace stylize::cli
