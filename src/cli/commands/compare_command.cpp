#include "commands/compare_command.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

#include <spdlog/spdlog.h>

#include "exit_codes.hpp"
#include "json_output.hpp"
#include "stylize/compare.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"

namespace fs = std::filesystem;

namespace stylize::cli {
namespace {

std::set<std::string> image_names(const std::string& dir) {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file() && is_supported_output(e.path().string()) && e.path().filename().string()[0] != '.')
            out.insert(e.path().filename().string());
    return out;
}

// A pair that could not be compared, or a file without its pair.
struct Problem {
    std::string a, b;  ///< the paths involved ("" where there is none)
    std::string what;  ///< "NAME: missing from B", ...
};

Json path_or_null(const std::string& p) { return p.empty() ? Json() : Json(p); }

}  // namespace

void setup_compare_command(CLI::App& app, CompareOptions& o) {
    app.add_option("a", o.a, "Image or folder (e.g. the reference outputs)")->required();
    app.add_option("b", o.b, "Image or folder to compare with (paired by file name)")->required();
    app.add_option("--min-psnr", o.min_psnr, "Fail if PSNR (dB) is below this (0 = no check)")->capture_default_str();
    app.add_option("--min-ssim", o.min_ssim, "Fail if SSIM is below this (0 = no check)")->capture_default_str();
    app.add_option("--max-diff", o.max_diff, "Fail if any channel differs by more than this many 8-bit levels");
    app.add_flag("--json", o.json, "One JSON object per pair on stdout");
}

int compare_command(const CompareOptions& o) {
    if (!std::isfinite(o.min_psnr) || o.min_psnr < 0) throw InvalidArgument("--min-psnr must be >= 0");
    if (!std::isfinite(o.min_ssim) || o.min_ssim < 0 || o.min_ssim > 1)
        throw InvalidArgument("--min-ssim must be in [0, 1]");
    if (!std::isfinite(o.max_diff)) throw InvalidArgument("--max-diff must be finite");
    std::vector<std::pair<std::string, std::string>> pairs;
    std::vector<Problem> problems;
    std::error_code ec;
    const bool dir_a = fs::is_directory(o.a, ec), dir_b = fs::is_directory(o.b, ec);
    if (dir_a != dir_b)
        throw InvalidArgument("compare: " + o.a + " and " + o.b + " must both be files or both be folders");
    if (dir_a) {
        const auto na = image_names(o.a), nb = image_names(o.b);
        for (const auto& n : na) {
            if (nb.count(n)) pairs.emplace_back((fs::path(o.a) / n).string(), (fs::path(o.b) / n).string());
            else problems.push_back({(fs::path(o.a) / n).string(), "", n + ": missing from " + o.b});
        }
        for (const auto& n : nb)
            if (!na.count(n)) problems.push_back({"", (fs::path(o.b) / n).string(), n + ": extra in " + o.b + " (not in " + o.a + ")"});
    } else {
        pairs.emplace_back(o.a, o.b);
    }

    int failed = 0;
    size_t passed = 0;
    for (const auto& [pa, pb] : pairs) {
        const auto ia = load_image(pa), ib = load_image(pb);
        const std::string name = dir_a ? fs::path(pa).filename().string() : pb;
        if (ia.rgb.sizes() != ib.rgb.sizes()) {
            problems.push_back({pa, pb, name + ": sizes differ (" + std::to_string(ia.rgb.size(3)) + "x" +
                                            std::to_string(ia.rgb.size(2)) + " vs " + std::to_string(ib.rgb.size(3)) +
                                            "x" + std::to_string(ib.rgb.size(2)) + ")"});
            continue;
        }
        const auto d = compare_images(ia.rgb, ib.rgb);
        const double levels = d.max_abs_diff * 255.0;
        std::string why;
        if (o.min_psnr > 0 && d.psnr < o.min_psnr) why += " psnr<" + std::to_string(o.min_psnr);
        if (o.min_ssim > 0 && d.ssim < o.min_ssim) why += " ssim<" + std::to_string(o.min_ssim);
        if (o.max_diff >= 0 && levels > o.max_diff + 1e-9) why += " diff>" + std::to_string(o.max_diff);
        failed += !why.empty();
        passed += why.empty();
        if (o.json) {
            // psnr is +inf for identical images: dump_json writes it as null.
            const Json line = {{"a", pa}, {"b", pb}, {"psnr", d.psnr}, {"ssim", d.ssim}, {"max_diff", levels},
                               {"ok", why.empty()}};
            std::printf("%s\n", dump_json(line).c_str());
        } else {
            std::printf("%s  PSNR %s dB  SSIM %.5f  max diff %.1f/255  %s\n", name.c_str(),
                        std::isinf(d.psnr) ? "inf" : std::to_string(d.psnr).substr(0, 6).c_str(), d.ssim, levels,
                        why.empty() ? "ok" : ("FAIL" + why).c_str());
        }
    }
    for (const auto& p : problems) {
        if (o.json) {
            const Json line = {{"a", path_or_null(p.a)}, {"b", path_or_null(p.b)}, {"ok", false}, {"error", p.what}};
            std::printf("%s\n", dump_json(line).c_str());
        } else {
            std::printf("%s  FAIL\n", p.what.c_str());
        }
    }
    // Every pair that was compared and passed, against everything that was
    // expected: size mismatches and missing/extra files count as failures.
    const size_t total = passed + static_cast<size_t>(failed) + problems.size();
    const size_t bad = total - passed;
    // With --json, stdout carries JSON only: the summary goes to the log (stderr).
    if (o.json) spdlog::info("compare: {} image(s), {} ok, {} failing", total, passed, bad);
    else std::printf("compare: %zu image(s), %zu ok, %zu failing\n", total, passed, bad);
    std::fflush(stdout);
    return bad ? kCompareFailed : kOk;
}

}  // namespace stylize::cli
