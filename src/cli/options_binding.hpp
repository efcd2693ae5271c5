#pragma once
// Binds command-line flags to option structs. The same binding serves the
// main command and each line of a batch jobs file.
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "memory_policy.hpp"
#include "stylize/model.hpp"
#include "stylize/options.hpp"

namespace stylize::cli {

/// Options of one stylization job beyond the engine's own.
struct JobOptions {
    StylizeOptions engine;
    // The engine's defaults, as text (the flags' values are parsed into engine).
    std::string content_layers = format_layer_list(StylizeOptions{}.content_layers);
    std::string style_layers = format_layer_list(StylizeOptions{}.style_layers);
    std::string style_blend;  ///< comma-separated, one per style
    std::string init_image;
    std::vector<std::string> style_regions;  ///< --style-region, one grayscale mask over the content per style
    std::string content_mask;                ///< --content-mask, colour-coded regions of the content
    std::vector<std::string> style_masks;    ///< --style-mask, colour-coded regions of each style image
    int bit_depth = settings::bit_depth.fallback;
    int jpeg_quality = settings::jpeg_quality.fallback;
    int save_every = settings::save_every.fallback;
};

/// Settings of the process: model, device, logging.
struct RunOptions {
    std::string content;
    std::vector<std::string> styles;
    std::string output;
    std::string model;
    int threads = settings::threads.fallback;  ///< 0 = all cores
    int64_t max_pixels = 64LL * 1024 * 1024;
    bool auto_shrink = false;
    Layout layout = Layout::Auto;
    ConvAlgorithm conv_algorithm = ConvAlgorithm::Auto;
    MemoryPolicy memory_policy = MemoryPolicy::Recycle;
    bool reproducible = false;  ///< --reproducible (reproducible_mode.hpp): AVX2 kernels, direct convolutions
    std::string checkpoint = "auto";  ///< off | on | auto (on when the run would not fit otherwise)
    /// off | auto (tiles when the run would not fit otherwise) | N pixels
    /// (settings::tile; plan_request turns it into StylizeOptions::tile)
    std::string tile = "auto";
    std::string tile_halo = "exact";  ///< exact | N pixels (settings::tile_halo)
    bool sidecar = false;     ///< write <output>.json provenance next to each output
    double memory_limit = 0;  ///< bytes; 0 = the machine's available memory
    std::string progress = "auto";
    bool quiet = false;
    bool verbose = false;
    JobOptions job;
};

/// Adds an option that takes one of `choices` (any case). --help shows them
/// as `a|b|c` in the order given, with the current value as the default;
/// another value is refused with "NAME: VALUE is not one of a|b|c".
template <class T>
CLI::Option* add_choice(CLI::App& app, const std::string& name, T& value, const std::string& description,
                        const std::vector<std::pair<std::string, T>>& choices) {
    std::string names, current;
    for (const auto& choice : choices) {
        names += (names.empty() ? "" : "|") + choice.first;
        if (current.empty() && choice.second == value) current = choice.first;
    }
    // The transform hands CLI11 what it converts to T: the enum's number, or the name itself.
    auto to_input = [choices](std::string& input) {
        const auto lower = CLI::detail::to_lower(input);
        for (const auto& [choice, v] : choices)
            if (lower == choice) {
                if constexpr (std::is_enum_v<T>) input = std::to_string(static_cast<std::underlying_type_t<T>>(v));
                else input = v;
                return true;
            }
        return false;
    };
    return app.add_option(name, value, description)
        ->type_name(names)
        ->default_str(current)
        ->transform(CLI::Validator(
            [to_input, names](std::string& input) {
                return to_input(input) ? std::string() : input + " is not one of " + names;
            },
            std::string()));
}

/// Adds the numeric setting `s` (settings.hpp): its flag (after
/// `short_name`, e.g. "-n"), help text and, as the default shown, the
/// current value. Its range is checked by validate() or
/// finalize_job_options (check_setting), after parsing.
template <class T>
CLI::Option* add_setting(CLI::App& app, const Setting<T>& s, T& value, const std::string& short_name = "") {
    return app.add_option(short_name.empty() ? s.flag : short_name + "," + s.flag, value, s.help)
        ->capture_default_str();
}

/// A string option that takes `words` or a number in the setting's range:
/// --tile (auto, off, N), --tile-halo (exact, N). Refused at parsing with
/// "FLAG: VALUE is not WORDS or a number of pixels (MIN-MAX)".
CLI::Option* add_setting_or_words(CLI::App& app, const Setting<int>& s, std::string& value,
                                  const std::vector<std::string>& words);

/// add_choice for a string option whose values are the choices themselves.
CLI::Option* add_choice(CLI::App& app, const std::string& name, std::string& value, const std::string& description,
                        const std::vector<std::string>& choices);

/// The loss flags (weights, layers, --style-loss, --pooling, --style-blend,
/// --normalize-gradients): shared by jobs and `stylize train`.
void bind_loss_options(CLI::App& app, JobOptions& o);

/// Flags that can differ per job (also accepted on jobs-file lines).
void bind_job_options(CLI::App& app, JobOptions& o);

/// Flags of the whole process (model, device, threads, logging).
void bind_process_options(CLI::App& app, RunOptions& o);

/// Turns the string-valued flags into engine options and validates them all.
/// Throws InvalidArgument naming the option.
void finalize_job_options(JobOptions& o, size_t style_count);

}  // namespace stylize::cli
