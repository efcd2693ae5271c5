#pragma once
// `stylize CONTENT STYLE... -o OUT`: one stylization job from files to a file.
#include <map>
#include <string>
#include <vector>

#include "options_binding.hpp"
#include "progress_printer.hpp"
#include "stylize/engine.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"
#include "stylize/run_plan.hpp"

namespace stylize::cli {

/// One job: inputs, output and its options.
struct JobSpec {
    std::string content;
    std::vector<std::string> styles;
    std::string output;
    JobOptions options;
    std::string progress_prefix;  ///< e.g. "[job 3/8] "
};

struct JobResult {
    std::string status = "failed";  ///< ok | failed | skipped | interrupted
    std::string error;
    std::string partial;            ///< path of a partial image, if one was written
    Result result;
};

/// Style targets shared across jobs: key (see targets_key) -> targets per size.
using TargetCache = std::map<std::string, std::vector<StyleTargets>>;
std::string targets_key(const JobSpec& job);

/// The files a job reads: content, init image ("" when none), styles, masks.
std::vector<std::string> job_inputs(const JobSpec& job);

/// check_output_path for the job's output and inputs.
void check_job_output(const JobSpec& job);

/// Runs one job with an already loaded model; the job's options are
/// finalized (finalize_job_options) and its output checked
/// (check_job_output). Returns kOk, kInterrupted or kTerminated; throws the
/// library's errors for failures.
int run_job(FeatureExtractor& model, JobSpec& job, const RunOptions& o, JobResult& out, TargetCache* cache);

/// Writes "<output>.json": parameters, seed, model hash, versions.
void write_provenance(const JobSpec& job, const FeatureExtractor& model, const Result& result);

/// Provenance of a job as one JSON object (no trailing newline).
std::string provenance_json(const JobSpec& job, const FeatureExtractor& model, const Result* result);

/// The style images of a job, loaded (blend weights 1: stylize() applies --style-blend).
std::vector<StyleImage> load_styles(const std::vector<std::string>& paths, const LoadOptions& lo);

/// LibTorch's failure `e` during stylize() as the CLI's error: out of memory
/// (with what to lower) or the first line of LibTorch's message. `where`
/// says when: "during the run", "on frame 3".
RuntimeFailure torch_failure(const c10::Error& e, const StylizeOptions& opt, const std::string& where);

/// Checks the process-wide options; throws InvalidArgument.
void check_process_options(const RunOptions& o);

/// Sets LibTorch's thread count (0 = all hardware cores), checked by check_process_options.
void apply_threads(int threads);

/// Sets up the app's flags and positionals for the run command.
void setup_run_command(CLI::App& app, RunOptions& o);

/// Runs one job; returns the exit code. Errors propagate as exceptions.
int run_command(RunOptions& o);

/// The loaded model, configured for the run's device and precision and only
/// as deep as the deepest layer of `runs`, with the warnings the user must
/// see (random weights, reference BLAS) already logged.
/// The folder for what stylize remembers between runs (model digests):
/// $STYLIZE_CACHE_DIR ("none" = nothing remembered), else
/// $XDG_CACHE_HOME/stylize, else ~/.cache/stylize.
std::string cache_folder();

FeatureExtractor load_configured_model(const RunOptions& o, const std::vector<const StylizeOptions*>& runs);

/// How progress is shown: --progress, or none with --quiet.
ProgressMode progress_mode(const RunOptions& o);

/// The memory plan's request for a run of `opt` on an image of height x
/// width: --checkpoint, --tile, --tile-halo, --auto-shrink, --memory-limit
/// (else the available memory) and the memory policy's idle blocks.
PlanRequest plan_request(int64_t height, int64_t width, const StylizeOptions& opt, const RunOptions& o);

/// Plans the run (plan_run: checkpointing, tiles, size; CPU only), logs what
/// it turned on, and sets opt to the planned options; a run that does not
/// fit throws OutOfMemory with what would fit (the largest tile or size, or
/// the smallest --memory-limit).
void fit_to_memory(const FeatureExtractor& model, int64_t height, int64_t width, StylizeOptions& opt,
                   const RunOptions& o);

/// "<dir>/<stem>.partial<ext>" for out = "<dir>/<stem><ext>".
std::string partial_path(const std::string& output);
/// "<dir>/<stem>.<evaluation, 5 digits><ext>".
std::string intermediate_path(const std::string& output, int evaluation);

/// Throws InvalidArgument if `output` has an unsupported extension or names
/// one of `inputs` (the same file, however spelled).
void check_output_path(const std::string& output, const std::vector<std::string>& inputs, int bit_depth);

}  // namespace stylize::cli
