#pragma once
// Provenance of a job's output as a JSON object: the sidecar file, and the
// fields of a batch report line.
#include "json_output.hpp"
#include "commands/run_command.hpp"

namespace stylize::cli {

/// Every field of `options` (for_each_option), enums by name, layers as
/// {name, weight} objects.
Json options_json(const StylizeOptions& options);

/// Tool and LibTorch versions, inputs, output, model (path, computed sha256,
/// weights), seed, every option; with a result also evaluations, stop
/// reason, losses and seconds.
Json provenance_record(const JobSpec& job, const FeatureExtractor& model, const Result* result);

}  // namespace stylize::cli
