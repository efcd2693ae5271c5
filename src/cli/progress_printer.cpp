#include "progress_printer.hpp"

#include <unistd.h>

#include <cmath>

#include "json_output.hpp"

namespace stylize::cli {

std::string format_duration(double s) {
    char buf[32];
    if (!std::isfinite(s) || s < 0) return "?";
    if (s < 60) std::snprintf(buf, sizeof buf, "%.1fs", s);
    else if (s < 3600) std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
    else std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, (static_cast<int>(s) % 3600) / 60);
    return buf;
}

ProgressPrinter::ProgressPrinter(ProgressMode mode, std::FILE* err, std::FILE* out, std::string prefix)
    : mode_(mode), err_(err), out_(out), prefix_(std::move(prefix)) {
    if (mode_ == ProgressMode::Auto) mode_ = ::isatty(::fileno(err_)) ? ProgressMode::Line : ProgressMode::Log;
}

void ProgressPrinter::operator()(const Progress& p) {
    if (mode_ == ProgressMode::None) return;
    const double rate = p.elapsed_seconds > 0 ? p.evaluation / p.elapsed_seconds : 0;
    const double eta = rate > 0 ? (p.total - p.evaluation) / rate : -1;
    const auto& l = p.losses;
    if (mode_ == ProgressMode::Json) {
        // Losses that are not finite are written as null (dump_json).
        const Json line = {{"event", "progress"}, {"evaluation", p.evaluation}, {"total", p.total},
                           {"scale", p.scale},    {"scales", p.scales},         {"height", p.height},
                           {"width", p.width},    {"loss", l.total},            {"content", l.content},
                           {"style", l.style},    {"tv", l.tv},                 {"temporal", l.temporal},
                           {"evaluated", p.evaluated_loss}, {"accepted", p.accepted}, {"rejected", p.rejected},
                           {"elapsed", p.elapsed_seconds}};
        std::fprintf(out_, "%s\n", dump_json(line).c_str());
        std::fflush(out_);
        return;
    }
    char scale[48] = "";
    if (p.scales > 1) std::snprintf(scale, sizeof scale, " scale %d/%d %lldx%lld", p.scale, p.scales,
                                    static_cast<long long>(p.width), static_cast<long long>(p.height));
    char temporal[40] = "";
    if (l.temporal > 0) std::snprintf(temporal, sizeof temporal, ", temporal %.3g", l.temporal);
    char line[360];
    std::snprintf(line, sizeof line,
                  "%seval %d/%d%s  loss %.4g (content %.4g, style %.4g, tv %.3g%s)  %.2f eval/s  ETA %s",
                  prefix_.c_str(), p.evaluation, p.total, scale, l.total, l.content, l.style, l.tv, temporal, rate,
                  format_duration(eta).c_str());
    if (mode_ == ProgressMode::Line) {
        std::fprintf(err_, "\r%s\033[K", line);
        line_open_ = true;
        std::fflush(err_);
        return;
    }
    // Log mode: every 10% of the run or every 10 seconds, and the last one.
    const int every = std::max(1, p.total / 10);
    if (p.evaluation % every == 0 || p.evaluation == p.total || p.elapsed_seconds - last_log_ >= 10) {
        last_log_ = p.elapsed_seconds;
        std::fprintf(err_, "%s\n", line);
        std::fflush(err_);
    }
}

void ProgressPrinter::finish() {
    if (line_open_) {
        std::fprintf(err_, "\n");
        line_open_ = false;
    }
}

}  // namespace stylize::cli
