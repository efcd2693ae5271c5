#pragma once
// `stylize --completion bash`: a bash completion script made from the
// command line's own definition, so it never lags behind an option.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace stylize::cli {

/// The script: the commands after `stylize`, each command's long and short
/// options after the command (the main form's without one), the choices of
/// an option that takes one of a few words, and file names elsewhere.
std::string bash_completion(const CLI::App& main, const std::vector<const CLI::App*>& commands);

}  // namespace stylize::cli
