#pragma once
// Renders the engine's progress reports: a live line on a terminal, plain log
// lines otherwise, JSON lines on request, or nothing.
#include <chrono>
#include <cstdio>
#include <string>

#include "stylize/engine.hpp"

namespace stylize::cli {

enum class ProgressMode { Auto, Line, Log, Json, None };

class ProgressPrinter {
public:
    /// `out` is where progress goes (stderr for line/log, stdout for json).
    ProgressPrinter(ProgressMode mode, std::FILE* err, std::FILE* out, std::string prefix = {});

    void operator()(const Progress& p);
    /// Ends a live line so later output starts on a fresh line.
    void finish();

    ProgressMode mode() const { return mode_; }

private:
    ProgressMode mode_;
    std::FILE* err_;
    std::FILE* out_;
    std::string prefix_;
    bool line_open_ = false;
    double last_log_ = -1e9;
};

/// "1m05s", "12.3s".
std::string format_duration(double seconds);

/// Seconds from `start` to now on the steady clock.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace stylize::cli
