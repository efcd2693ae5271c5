#pragma once
// Binds command-line flags to option structs. The same binding serves the
// main command and each line of a batch jobs file.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "memory_policy.hpp"
#include "stylize/model.hpp"
#include "stylize/options.hpp"

namespace stylize::cli {

/// Options of one stylization job beyond the engine's own.
struct JobOptions {
    StylizeOptions engine;
    std::string content_layers = "relu4_2";
    std::string style_layers = "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1";
    std::string style_blend;  ///< comma-separated, one per style
    std::string init_image;
    int bit_depth = 8;
    int jpeg_quality = 95;
    int save_every = 0;
};

/// Settings of the process: model, device, logging.
struct RunOptions {
    std::string content;
    std::vector<std::string> styles;
    std::string output;
    std::string model;
    int threads = 0;  ///< 0 = all cores
    int64_t max_pixels = 64LL * 1024 * 1024;
    bool auto_shrink = false;
    Layout layout = Layout::Auto;
    ConvAlgorithm conv_algorithm = ConvAlgorithm::Auto;
    MemoryPolicy memory_policy = MemoryPolicy::Recycle;
    std::string checkpoint = "auto";  ///< off | on | auto (on when the run would not fit otherwise)
    bool sidecar = false;     ///< write <output>.json provenance next to each output
    double memory_limit = 0;  ///< bytes; 0 = the machine's available memory
    std::string progress = "auto";
    bool quiet = false;
    bool verbose = false;
    JobOptions job;
};

/// Flags that can differ per job (also accepted on jobs-file lines).
void bind_job_options(CLI::App& app, JobOptions& o);

/// Flags of the whole process (model, device, threads, logging).
void bind_process_options(CLI::App& app, RunOptions& o);

/// Turns the string-valued flags into engine options and validates them all.
/// Throws InvalidArgument naming the option.
void finalize_job_options(JobOptions& o, size_t style_count);

}  // namespace stylize::cli
