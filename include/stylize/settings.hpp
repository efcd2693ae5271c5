#pragma once
// The numeric settings, each declared once: its flag, default, accepted
// range and help text. The defaults of the option structs (options.hpp),
// validate(), the command line's flags and --help, and the provenance
// record's field names all read them from here, so they cannot disagree.
//
//   check_setting(settings::iterations, 0);
//   // throws InvalidArgument("--iterations must be between 1 and 1000000, got 0")
#include <limits>
#include <string>

namespace stylize {

/// One numeric setting. Accepted: the range [min, max] (ends left out where
/// open), or only min and max themselves (ends_only), plus one value outside
/// it that means something (`special`, e.g. size 0 = keep the content's size).
template <class T>
struct Setting {
    const char* flag;   ///< "--iterations": the flag, and the name in error messages
    const char* key;    ///< "iterations": the field of the provenance record
    T fallback;         ///< the default
    T min, max;         ///< max = numeric_limits<T>::max(): no upper bound
    const char* help;   ///< --help text
    bool min_open = false, max_open = false;
    bool ends_only = false;
    T special{};
    const char* special_means = nullptr;  ///< what `special` means; nullptr = no special value

    constexpr bool in_range(T v) const {
        if (ends_only) return v == min || v == max;
        return (min_open ? v > min : v >= min) && (max_open ? v < max : v <= max);
    }
    /// NaN and infinities are refused (they fall outside every range).
    constexpr bool accepts(T v) const { return (special_means && v == special) || in_range(v); }

    constexpr Setting open_below() const { auto s = *this; s.min_open = true; return s; }
    constexpr Setting open_above() const { auto s = *this; s.max_open = true; return s; }
    constexpr Setting only_ends() const { auto s = *this; s.ends_only = true; return s; }
    constexpr Setting or_special(T value, const char* means) const {
        auto s = *this;
        s.special = value;
        s.special_means = means;
        return s;
    }
};

/// "between 1 and 1000000", "in (0, 10]", "a finite number >= 0",
/// "0 (keep) or between 16 and 16384", "8 or 16".
template <class T>
std::string range_text(const Setting<T>& setting);

/// Throws InvalidArgument("FLAG must be RANGE, got VALUE") unless `value` is accepted.
template <class T>
void check_setting(const Setting<T>& setting, T value);

extern template std::string range_text(const Setting<int>&);
extern template std::string range_text(const Setting<double>&);
extern template void check_setting(const Setting<int>&, int);
extern template void check_setting(const Setting<double>&, double);

namespace settings {

inline constexpr double kUnbounded = std::numeric_limits<double>::max();

// Loss weights.
inline constexpr Setting<double> content_weight{"--content-weight", "content_weight", 1.0, 0, kUnbounded,
                                         "Weight of the content loss"};
/// Chosen with the mean-cov loss, judged by another network: every pair of
/// the study set stylized and recognisable (1000, the Gatys value, turned
/// dark styles' photos black).
inline constexpr Setting<double> style_weight{"--style-weight", "style_weight", 3.0, 0, kUnbounded, "Weight of the style loss"};
inline constexpr Setting<double> tv_weight{"--tv-weight", "tv_weight", 1.0, 0, kUnbounded,
                                    "Weight of the total-variation (smoothness) loss"};

// Optimisation.
inline constexpr Setting<int> iterations{"--iterations", "iterations", 300, 1, 1000000,
                                  "Loss evaluations (at the final scale)"};
/// Measured: docs/BENCHMARKS.md.
inline constexpr Setting<int> lbfgs_history{"--lbfgs-history", "lbfgs_history", 10, 1, 1000, "L-BFGS correction pairs kept"};
inline constexpr auto learning_rate =
    Setting<double>{"--learning-rate", "learning_rate", 0.02, 0, 10, "Adam step size (image in [0,1])"}.open_below();
inline constexpr auto ema_decay = Setting<double>{"--ema-decay", "ema_decay", 0.0, 0, 1,
                                           "Adam iterate averaging decay, e.g. 0.99 (0 = off)"}
                               .open_above();
inline constexpr auto early_stop =
    Setting<double>{"--early-stop", "early_stop", 0.0, 0, 1,
                    "Stop when the loss improves by less than this fraction over the window (0 = off)"}
        .open_above();
inline constexpr Setting<int> early_stop_window{"--early-stop-window", "early_stop_window", 50, 1, 1000000,
                                         "Evaluations the early-stop test looks back"};

// Geometry.
inline constexpr auto size = Setting<int>{"--size", "size", 512, 16, 16384,
                                   "Long side of the output in pixels (0 = content's size)"}
                          .or_special(0, "keep");
inline constexpr Setting<double> style_scale{"--style-scale", "style_scale", 1.0, 0.05, 8,
                                      "Style image size relative to the output"};
inline constexpr Setting<int> scales{"--scales", "scales", 1, 1, 12, "Coarse-to-fine scales (1 = single scale)"};
inline constexpr auto scale_factor =
    Setting<double>{"--scale-factor", "scale_factor", 1.41421356237, 1, 4, "Size ratio between scales"}.open_below();
inline constexpr Setting<int> scale_iterations{"--scale-iterations", "scale_iterations", 100, 1, 1000000,
                                        "Evaluations at each scale before the last"};

// Output.
/// Bits per channel of the written file. The engine also takes 0 (not
/// quantised; StylizeOptions::output_bit_depth), the command line does not.
inline constexpr auto bit_depth = Setting<int>{"--bit-depth", "bit_depth", 8, 8, 16, "8, or 16 for .png/.tif"}.only_ends();
inline constexpr auto output_bit_depth = bit_depth.or_special(0, "not quantised");
inline constexpr Setting<int> jpeg_quality{"--jpeg-quality", "jpeg_quality", 95, 1, 100, "JPEG quality 1-100"};
inline constexpr Setting<int> save_every{"--save-every", "save_every", 0, 0, std::numeric_limits<int>::max(),
                                  "Also write the image every N evaluations (0 = never)"};

// Compute.
/// Tiles of N pixels; 0 = untiled. The command line also takes auto and off.
inline constexpr auto tile = Setting<int>{"--tile", "tile", 0, 1, 16384,
                                   "Exact tiled evaluation for images larger than memory allows: N = tiles of N "
                                   "pixels (rounded down to a multiple of 16), auto = the largest tile that fits, "
                                   "only when the run would not fit otherwise (after --checkpoint auto), off = "
                                   "never. Same result as untiled up to rounding. Default: auto"}
                          .or_special(0, "off");
/// -1 = the exact halo. The command line takes it as `exact`.
inline constexpr auto tile_halo = Setting<int>{"--tile-halo", "tile_halo", -1, 0, 16384,
                                        "Pixels of context around each tile. exact = the receptive field of the "
                                        "deepest layer used (96 for VGG19 up to relu5_1); smaller is faster but no "
                                        "longer exact (docs/guides/tiles-and-memory.md). Default: exact"}
                               .or_special(-1, "exact");
/// A process setting (the command line's), declared here with the others.
inline constexpr Setting<int> threads{"--threads", "threads", 0, 0, 1024, "CPU threads (0 = all cores)"};

}  // namespace settings
}  // namespace stylize
