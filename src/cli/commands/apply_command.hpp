#pragma once
// `stylize apply NET.pt CONTENT... -O OUTDIR`: fast mode's stylization, one
// forward pass of a network made by `stylize train` per image, with the
// batch conveniences of `stylize batch` (naming, --skip-existing, --report,
// --shard).
#include <string>
#include <vector>

#include "stylize/settings.hpp"

#include "options_binding.hpp"

namespace stylize::cli {

struct ApplyOptions {
    std::string network;
    std::vector<std::string> contents;  ///< files, folders or globs
    std::string output_dir;
    std::string name_pattern = "{content}__{style}.png";  ///< {style} = the network file's name
    std::string report;
    std::string shard;
    bool skip_existing = false;
    int size = settings::size.fallback;  ///< long side; 0 = the content's size
    int bit_depth = settings::bit_depth.fallback;
    int jpeg_quality = settings::jpeg_quality.fallback;
    int64_t max_pixels = 64LL * 1024 * 1024;
    std::string precision = "auto";  ///< auto|fp32|bf16 (auto: fast_apply_precision)
    RunOptions run;  ///< --device (in run.job.engine), --threads, -q, -v
};

void setup_apply_command(CLI::App& app, ApplyOptions& o);

/// kOk, kPartial when some images failed, kInterrupted/kTerminated.
int apply_command(ApplyOptions& o);

}  // namespace stylize::cli
