#include "commands/batch_report.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "io/atomic_write.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"
#include "stylize/image_ops.hpp"

namespace fs = std::filesystem;

namespace stylize::cli {

std::map<int, std::string> carried_report_lines(const std::string& path, const std::vector<JobSpec>& jobs,
                                                const std::vector<size_t>& mine) {
    std::map<int, std::string> carried;
    std::ifstream in(path);
    if (!in) return carried;
    std::set<size_t> ours(mine.begin(), mine.end());
    for (std::string text; std::getline(in, text);) {
        Json line;
        try {
            line = Json::parse(text);
        } catch (const Json::exception&) {
            continue;  // e.g. a line cut short by a crash
        }
        if (!line.is_object() || !line.contains("job") || !line["job"].is_number_integer() ||
            line.value("status", "") != "ok")
            continue;
        const long job = line["job"].get<long>();
        if (job < 1 || static_cast<size_t>(job) > jobs.size() || !ours.count(static_cast<size_t>(job - 1))) continue;
        const auto& output = jobs[static_cast<size_t>(job - 1)].output;
        std::error_code ec;
        if (line.value("output", "") != output || !fs::exists(output, ec)) continue;
        carried[static_cast<int>(job)] = text;
    }
    return carried;
}

void write_sheet(const std::string& path, const std::vector<JobSpec>& jobs, const std::vector<size_t>& mine) {
    std::vector<std::string> contents, styles;
    std::map<std::string, size_t> row_of, column_of;
    auto key_of = [](const JobSpec& j) {
        std::string k;
        for (const auto& s : j.styles) k += s + "\n";
        return k;
    };
    for (auto i : mine) {
        if (!row_of.count(jobs[i].content)) row_of[jobs[i].content] = contents.size(), contents.push_back(jobs[i].content);
        const auto k = key_of(jobs[i]);
        if (!column_of.count(k)) column_of[k] = styles.size(), styles.push_back(jobs[i].styles.front());
    }
    // At most about 16 million pixels, whatever the number of jobs.
    const double squares = static_cast<double>((contents.size() + 1) * (styles.size() + 1));
    const int64_t cell = std::clamp<int64_t>(static_cast<int64_t>(std::sqrt(16e6 / squares) * 15 / 16), 32, 192);
    auto thumbnail = [&](const std::string& file) -> torch::Tensor {
        try {
            return resize_long_side(load_image(file).rgb, cell);
        } catch (const std::exception&) {
            return {};  // a missing or unreadable image leaves its square empty
        }
    };
    std::vector<torch::Tensor> row_heads, column_heads;
    for (const auto& c : contents) row_heads.push_back(thumbnail(c));
    for (const auto& s : styles) column_heads.push_back(thumbnail(s));
    std::vector<std::vector<torch::Tensor>> cells(contents.size(), std::vector<torch::Tensor>(styles.size()));
    for (auto i : mine) {
        std::error_code ec;
        if (fs::exists(jobs[i].output, ec)) cells[row_of[jobs[i].content]][column_of[key_of(jobs[i])]] = thumbnail(jobs[i].output);
    }
    try {
        save_image(path, contact_sheet(row_heads, column_heads, cells, cell));
        spdlog::info("batch: wrote the contact sheet {} ({} x {} images)", path, contents.size(), styles.size());
    } catch (const Error& e) {
        spdlog::error("--sheet: {}", e.what());
    }
}

Json sidecar_record(const std::string& output) {
    std::ifstream in(output + ".json");
    if (!in) return Json();
    try {
        Json record = Json::parse(in);
        if (record.is_object() && record.value("output", "") == output && record.contains("losses")) return record;
    } catch (const Json::exception&) {
    }
    return Json();
}

std::ofstream open_report(const std::string& path, const std::map<int, std::string>& carried) {
    std::ofstream report;
    if (path.empty()) return report;
    const auto dir = fs::path(path).parent_path();
    if (!dir.empty()) fs::create_directories(dir);
    // The carried lines replace the file whole (a crash leaves the old
    // report or the new one), then each job appends its line.
    write_atomically(path, "report", [&](const std::string& temporary) {
        std::ofstream out(temporary, std::ios::trunc);
        for (const auto& [job, text] : carried) out << text << "\n";
        out.flush();
        if (!out) throw std::runtime_error(std::strerror(errno));
    });
    report.open(path, std::ios::app);
    if (!report) throw ImageError("--report " + path + ": cannot write");
    return report;
}

}  // namespace stylize::cli
