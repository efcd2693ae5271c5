#include "mask_inputs.hpp"

#include <cstdlib>

#include <spdlog/spdlog.h>

#include "stylize/errors.hpp"

namespace stylize::cli {
namespace {

std::string size_text(const torch::Tensor& t) { return std::to_string(t.size(3)) + "x" + std::to_string(t.size(2)); }

// The mask file's image, refused (naming the option and file) when its
// aspect ratio differs from the image it is drawn over.
torch::Tensor load_mask(const std::string& option, const std::string& path, const torch::Tensor& over,
                        const std::string& over_name, const LoadOptions& lo) {
    auto m = load_image(path, lo).rgb;
    if (!same_aspect_ratio(over.size(2), over.size(3), m.size(2), m.size(3)))
        throw ImageError(option + " " + path + ": the mask is " + size_text(m) + " but " + over_name + " is " +
                         size_text(over) + ", a different aspect ratio; draw the mask over the image itself (or " +
                         "resize it to " + size_text(over) + ")");
    return m;
}

}  // namespace

bool has_masks(const JobOptions& o) { return !o.style_regions.empty() || !o.content_mask.empty(); }

void check_mask_options(const JobOptions& o, size_t style_count) {
    const auto count = [](size_t n, const char* what) { return std::to_string(n) + " " + what; };
    if (!o.style_regions.empty() && (!o.content_mask.empty() || !o.style_masks.empty()))
        throw InvalidArgument("--style-region and --content-mask/--style-mask are two ways to say the same thing; "
                              "use one");
    if (!o.style_regions.empty() && o.style_regions.size() != style_count)
        throw InvalidArgument("--style-region: " + count(o.style_regions.size(), "mask(s)") + " for " +
                              count(style_count, "style image(s)") + "; give one per style image, in the same order");
    if (o.content_mask.empty() && !o.style_masks.empty())
        throw InvalidArgument("--style-mask needs --content-mask (the colour-coded map of the content's regions)");
    if (!o.content_mask.empty() && o.style_masks.size() != style_count)
        throw InvalidArgument("--content-mask needs one --style-mask per style image: " +
                              count(o.style_masks.size(), "--style-mask") + " for " +
                              count(style_count, "style image(s)"));
}

std::vector<std::string> mask_files(const JobOptions& o) {
    std::vector<std::string> files = o.style_regions;
    if (!o.content_mask.empty()) files.push_back(o.content_mask);
    files.insert(files.end(), o.style_masks.begin(), o.style_masks.end());
    return files;
}

std::optional<SpatialControl> load_spatial_control(const JobOptions& o, const LoadedImage& content,
                                                   const std::vector<std::string>& style_paths,
                                                   const std::vector<StyleImage>& styles, const LoadOptions& lo) {
    check_mask_options(o, styles.size());
    if (!o.style_regions.empty()) {
            std::vector<torch::Tensor> masks;
        for (size_t i = 0; i < o.style_regions.size(); ++i) {
            const auto& path = o.style_regions[i];
            masks.push_back(load_mask("--style-region", path, content.rgb, "the content image", lo).mean(1, true));
            if (!(masks.back() >= 0.5).any().item<bool>())
                throw ImageError("--style-region " + path + ": the mask is empty (no pixel of 50% grey or brighter), "
                                 "so style " + std::to_string(i + 1) + " (" + style_paths[i] + ") would apply nowhere");
        }
        return regions_from_style_masks(masks);
    }
    if (o.content_mask.empty()) return std::nullopt;
    const auto map = load_mask("--content-mask", o.content_mask, content.rgb, "the content image", lo);
    std::vector<torch::Tensor> style_maps;
    for (size_t i = 0; i < o.style_masks.size(); ++i)
        style_maps.push_back(load_mask("--style-mask", o.style_masks[i], styles[i].image,
                                       "its style image (" + style_paths[i] + ")", lo));
    ColourRegions regions;
    try {
        regions = regions_from_colour_maps(map, style_maps);
    } catch (const InvalidArgument& e) {
        // "style mask N has none ..." names a style map; the rest are the content map's.
        const std::string what = e.what(), prefix = "style mask ";
        if (what.rfind(prefix, 0) == 0) {
            const auto n = static_cast<size_t>(std::atoi(what.c_str() + prefix.size()));
            if (n >= 1 && n <= o.style_masks.size())
                throw ImageError("--style-mask " + o.style_masks[n - 1] + what.substr(what.find(" has none")) +
                                 ", so its style image would contribute nothing");
        }
        throw ImageError("--content-mask " + o.content_mask + ": " + what);
    }
    for (size_t r = 0; r < regions.colours.size(); ++r) {
        if (regions.styled[r]) continue;
        const double share = regions.control.content.narrow(0, static_cast<int64_t>(r), 1).mean().item<double>();
        char colour[8];
        std::snprintf(colour, sizeof colour, "#%02x%02x%02x", regions.colours[r][0], regions.colours[r][1],
                      regions.colours[r][2]);
        spdlog::warn("--content-mask {}: colour {} ({:.0f}% of the image) is in no --style-mask; that region keeps "
                     "the content (no style loss there)",
                     o.content_mask, colour, share * 100);
    }
    spdlog::debug("spatial control: {} region(s) from {}", regions.colours.size(), o.content_mask);
    return regions.control;
}

}  // namespace stylize::cli
