#pragma once
// `stylize CONTENT STYLE... -o OUT`: one stylization job from files to a file.
#include <string>
#include <vector>

#include "options_binding.hpp"
#include "stylize/engine.hpp"
#include "stylize/image_io.hpp"

namespace stylize::cli {

/// Sets up the app's flags and positionals for the run command.
void setup_run_command(CLI::App& app, RunOptions& o);

/// Runs one job; returns the exit code. Errors propagate as exceptions.
int run_command(RunOptions& o);

/// The loaded model, configured for the run's device and precision, with the
/// warnings the user must see (random weights, reference BLAS) already logged.
FeatureExtractor load_configured_model(const RunOptions& o);

/// "<dir>/<stem>.partial<ext>" for out = "<dir>/<stem><ext>".
std::string partial_path(const std::string& output);
/// "<dir>/<stem>.<evaluation, 5 digits><ext>".
std::string intermediate_path(const std::string& output, int evaluation);

/// Throws InvalidArgument if `output` has an unsupported extension or names
/// one of `inputs` (the same file, however spelled).
void check_output_path(const std::string& output, const std::vector<std::string>& inputs, int bit_depth);

/// Lowers opt.size until the memory estimate fits `available` bytes. Returns
/// the largest long side that fits, or 0 if none >= 16 does.
int largest_fitting_size(const FeatureExtractor& model, int64_t content_h, int64_t content_w,
                         const StylizeOptions& opt, double available);

}  // namespace stylize::cli
