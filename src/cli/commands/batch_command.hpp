#pragma once
// `stylize batch`: every content x style pair (or the jobs of a jobs file),
// one model load, style targets reused across contents, a JSON-lines report.
#include <cstdlib>
#include <exception>
#include <functional>
#include <map>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "commands/batch_report.hpp"
#include "json_output.hpp"
#include "commands/run_command.hpp"

namespace stylize::cli {

struct BatchOptions {
    std::vector<std::string> contents;  ///< files, folders or globs
    std::vector<std::string> styles;    ///< files, folders or globs
    std::string jobs_file;
    std::string output_dir;
    std::string name_pattern = "{content}__{style}.png";
    std::string report;
    std::string shard;                  ///< "K/N"
    bool skip_existing = false;
    bool list_jobs = false;             ///< print this shard's jobs as JSON lines and stop
    std::string sheet;                  ///< contact sheet: contents x styles with the outputs
    RunOptions run;                     ///< process options and job defaults
};

void setup_batch_command(CLI::App& app, BatchOptions& o);

/// Runs the batch; returns kOk, kPartial (some jobs failed), kInterrupted or kTerminated.
int batch_command(BatchOptions& o);

/// Files named by `specs`: a file as is, a folder's images (sorted), a glob's
/// matches (sorted). Throws InvalidArgument for a folder without images or a
/// glob without matches.
std::vector<std::string> expand_inputs(const std::vector<std::string>& specs, const std::string& what);

/// Reads an environment variable (nullptr when unset); std::getenv by default.
using EnvLookup = std::function<const char*(const char*)>;

/// "K/N" -> (K, N) with 1 <= K <= N. "auto" takes K and N from a Slurm job
/// array (SLURM_ARRAY_TASK_ID with _MIN/_MAX[/_STEP] or _COUNT) or a
/// Kubernetes Indexed Job (JOB_COMPLETION_INDEX, 0-based, with the count from
/// "auto/N" or STYLIZE_SHARD_COUNT); "auto/N" fixes the count. Throws
/// InvalidArgument, naming the variable at fault.
std::pair<int, int> parse_shard(const std::string& text, const EnvLookup& env = [](const char* n) { return std::getenv(n); });

/// Output file name for a job from a pattern with {content}, {style}, {index}.
std::string format_output_name(const std::string& pattern, const std::string& content,
                               const std::vector<std::string>& styles, int index);

/// All jobs, in a fixed order, before sharding. Throws InvalidArgument.
std::vector<JobSpec> build_jobs(const BatchOptions& o);

/// What a job that threw becomes in the batch's log and report.
struct JobFailure {
    std::string status = "failed";
    std::string message;  ///< the error's message; LibTorch's first line; advice for out of memory
};

/// Maps any exception a job throws (the library's errors, c10::Error,
/// std::bad_alloc, std::runtime_error...) to its failure, so that the batch
/// goes on with the next job.
JobFailure job_failure(const std::exception& e);

}  // namespace stylize::cli
