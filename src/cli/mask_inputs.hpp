#pragma once
// Spatial control from the command line (docs/guides/styles-and-masks.md):
// --style-region (one grayscale mask over the content per style image) or
// --content-mask with one --style-mask per style image (colour-coded maps).
#include <optional>
#include <string>
#include <vector>

#include "options_binding.hpp"
#include "stylize/image_io.hpp"
#include "stylize/spatial.hpp"

namespace stylize::cli {

/// Checks the mask options' counts against the style images; throws
/// InvalidArgument naming the option. Reads no file.
void check_mask_options(const JobOptions& o, size_t style_count);

/// Whether the job uses spatial control.
bool has_masks(const JobOptions& o);

/// Loads the job's masks and checks them against the loaded images (aspect
/// ratio, emptiness, colours), logging a warning for each region of the
/// content that no style mask has. Throws ImageError naming the file for a
/// mask that cannot be read or cannot be used. nullopt without masks.
std::optional<SpatialControl> load_spatial_control(const JobOptions& o, const LoadedImage& content,
                                                   const std::vector<std::string>& style_paths,
                                                   const std::vector<StyleImage>& styles, const LoadOptions& lo);

/// The mask files of the job, for the style-target cache key and provenance.
std::vector<std::string> mask_files(const JobOptions& o);

}  // namespace stylize::cli
