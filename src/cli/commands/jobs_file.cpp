#include "commands/jobs_file.hpp"

#include <sstream>

#include "stylize/errors.hpp"

namespace stylize::cli {

std::vector<std::string> split_words(const std::string& line) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quote) {
            if (c == quote) {
                quote = 0;
            } else if (c == '\\' && quote == '"' && i + 1 < line.size() &&
                       (line[i + 1] == '"' || line[i + 1] == '\\')) {
                word += line[++i];
            } else {
                word += c;
            }
            continue;
        }
        if (c == '#' && !in_word) break;  // comment to end of line
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (in_word) words.push_back(word);
            word.clear();
            in_word = false;
        } else if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == '\\') {
            if (i + 1 >= line.size()) throw InvalidArgument("trailing backslash");
            word += line[++i];
            in_word = true;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (quote) throw InvalidArgument(std::string("unterminated ") + quote + " quote");
    if (in_word) words.push_back(word);
    return words;
}

std::vector<JobLine> parse_jobs_file(const std::string& text, const std::string& file_name) {
    std::vector<JobLine> jobs;
    std::istringstream in(text);
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        std::vector<std::string> words;
        try {
            words = split_words(line);
        } catch (const InvalidArgument& e) {
            throw InvalidArgument(file_name + ":" + std::to_string(number) + ": " + e.what());
        }
        if (words.empty()) continue;
        if (words.size() < 2)
            throw InvalidArgument(file_name + ":" + std::to_string(number) +
                                  ": a job needs a content and at least one style image");
        jobs.push_back({number, std::move(words)});
    }
    return jobs;
}

}  // namespace stylize::cli
