// libFuzzer target for src/cli/commands/jobs_file.cpp: split_words and parse_jobs_file.
//
// Tokenizer rules (from jobs_file.cpp): outside quotes, blanks (space, tab,
// CR, LF) separate words, '#' at the start of a word begins a comment, and a
// backslash takes the next character literally. Inside '...' every character
// is literal up to the next single quote. Inside "..." a backslash escapes
// only '"' and '\'; any other backslash is kept.
//
// Properties checked on every input:
//  1. parse_jobs_file / split_words return or throw stylize::InvalidArgument.
//  2. Jobs have increasing 1-based line numbers and at least two words.
//  3. Quoting any list of words and splitting the line gives the same words,
//     for three quoting styles:
//       single:    'it'\''s'   (close the quote, escaped quote, reopen)
//       double:    "say \"hi\" \\ bye"
//       minimal:   "C:\dir\\"   (backslash escaped only before '"', '\' or the end)
//       backslash: \i\t\'\s    (every character escaped; '' for an empty word)
//     The word lists come from the raw input split on '\n' (arbitrary bytes)
//     and from whatever the tokenizer itself produced. A quoted line placed in
//     a jobs file after a comment and a blank line must parse to one job.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/commands/jobs_file.hpp"
#include "stylize/errors.hpp"

using stylize::InvalidArgument;
using Words = std::vector<std::string>;

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz_jobs_file: property violated: %s [%s]\n", what, detail.c_str());
    std::abort();
}

std::string single_quoted(const std::string& w) {
    std::string out = "'";
    for (char c : w) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

std::string double_quoted(const std::string& w) {
    std::string out = "\"";
    for (char c : w) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// Escapes only where the tokenizer needs it: a backslash stays literal inside
// "..." unless a '"' or '\' follows it (or the closing quote would).
std::string double_quoted_minimal(const std::string& w) {
    std::string out = "\"";
    for (size_t i = 0; i < w.size(); ++i) {
        const char c = w[i];
        const bool last = i + 1 == w.size();
        if (c == '"' || (c == '\\' && (last || w[i + 1] == '"' || w[i + 1] == '\\'))) out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string backslashed(const std::string& w) {
    if (w.empty()) return "''";
    std::string out;
    for (char c : w) {
        out += '\\';
        out += c;
    }
    return out;
}

std::string join(const Words& words, std::string (*quote)(const std::string&), const char* sep) {
    std::string line;
    for (size_t i = 0; i < words.size(); ++i) {
        if (i) line += sep;
        line += quote(words[i]);
    }
    return line;
}

void check_split(const std::string& line, const Words& words) {
    Words back;
    try {
        back = stylize::cli::split_words(line);
    } catch (const InvalidArgument& e) {
        fail("quoted line does not split:", line + " -> " + e.what());
    }
    if (back != words) fail("quoted line splits into different words:", line);
}

void check_roundtrip(const Words& words) {
    const std::string lines[] = {join(words, single_quoted, " "), join(words, double_quoted, "\t"),
                                 join(words, double_quoted_minimal, " "), join(words, backslashed, " \r ")};
    for (const auto& line : lines) check_split(line, words);

    // Through parse_jobs_file, when the words fit on one line and make a job.
    if (words.size() < 2) return;
    for (const auto& w : words)
        if (w.find('\n') != std::string::npos) return;
    const std::string file = "# a comment\n\n" + lines[0] + "\n";
    std::vector<stylize::cli::JobLine> jobs;
    try {
        jobs = stylize::cli::parse_jobs_file(file, "fuzz.jobs");
    } catch (const InvalidArgument& e) {
        fail("quoted jobs file does not parse:", file + " -> " + e.what());
    }
    if (jobs.size() != 1 || jobs[0].line_number != 3 || jobs[0].args != words)
        fail("quoted jobs file parses differently:", file);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);

    // The input as a jobs file.
    try {
        const auto jobs = stylize::cli::parse_jobs_file(text, "fuzz.jobs");
        int prev = 0;
        for (const auto& job : jobs) {
            if (job.line_number <= prev) fail("line numbers not increasing");
            if (job.args.size() < 2) fail("job with fewer than two words");
            prev = job.line_number;
            check_roundtrip(job.args);
        }
    } catch (const InvalidArgument&) {
    }

    // The input as one line.
    try {
        check_roundtrip(stylize::cli::split_words(text));
    } catch (const InvalidArgument&) {
    }

    // The input as a list of arbitrary words, one per '\n'-separated piece.
    Words words;
    size_t start = 0;
    while (true) {
        const size_t nl = text.find('\n', start);
        words.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
        if (nl == std::string::npos) break;
        start = nl + 1;
    }
    if (size == 0) words.clear();
    check_roundtrip(words);
    return 0;
}
