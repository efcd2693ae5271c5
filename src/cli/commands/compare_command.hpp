#pragma once
// `stylize compare A B`: PSNR, SSIM and max difference between two images, or
// between same-named images of two folders; fails below given thresholds.
#include <string>

#include <CLI/CLI.hpp>

namespace stylize::cli {

struct CompareOptions {
    std::string a, b;
    double min_psnr = 0;  ///< dB; 0 = no check
    double min_ssim = 0;  ///< 0 = no check
    double max_diff = -1; ///< in 8-bit levels (0-255); < 0 = no check
    bool json = false;
};

void setup_compare_command(CLI::App& app, CompareOptions& o);

/// Prints one line per pair and a summary; returns 0, or kCompareFailed.
/// With `json`, stdout carries one JSON object per line only: per pair
/// {"a","b","psnr" (null when identical),"ssim","max_diff","ok"}, per missing,
/// extra or mismatched file {"a","b" (null where absent),"ok":false,"error"};
/// the summary goes to the log on stderr.
int compare_command(const CompareOptions& o);

}  // namespace stylize::cli
