// Provenance of an output: everything needed to reproduce it, as JSON, for
// sidecar files and batch reports.
#include "provenance.hpp"

#include "reproducible_mode.hpp"

#include <type_traits>

#include <ATen/Parallel.h>

#include "stylize/runtime_info.hpp"

namespace stylize::cli {

Json options_json(const StylizeOptions& options) {
    Json out = Json::object();
    for_each_option(options, [&out](const char* key, const auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_enum_v<T>) {
            out[key] = to_string(value);
        } else if constexpr (std::is_same_v<T, std::vector<WeightedLayer>>) {
            Json layers = Json::array();
            for (const auto& l : value) layers.push_back(Json{{"name", l.name}, {"weight", l.weight}});
            out[key] = std::move(layers);
        } else {
            out[key] = value;
        }
    });
    return out;
}

Json provenance_record(const JobSpec& job, const FeatureExtractor& model, const Result* result) {
    const auto& e = job.options.engine;
    Json o;
    o["tool"] = std::string("stylize ") + STYLIZE_VERSION;
    o["libtorch"] = torch_version();
    o["content"] = job.content;
    o["styles"] = job.styles;
    o["output"] = job.output;
    o["model"] = {{"path", model.info().path}, {"sha256", model.info().sha256}, {"weights", model.info().weights}};
    o["seed"] = e.seed;
    Json opt = options_json(e);
    // The blend as the user wrote it.
    opt["style_blend"] = job.options.style_blend;
    // What ran: the model is configured from the options by the run itself.
    opt["device"] = model.config().device.str();
    opt["precision"] = to_string(model.config().precision);
    opt["pooling"] = to_string(model.config().pooling);
    // The command line's own options.
    opt["init_image"] = job.options.init_image;
    if (!job.options.style_regions.empty()) opt["style_regions"] = job.options.style_regions;
    if (!job.options.content_mask.empty()) {
        opt["content_mask"] = job.options.content_mask;
        opt["style_masks"] = job.options.style_masks;
    }
    opt[settings::jpeg_quality.key] = job.options.jpeg_quality;
    opt[settings::save_every.key] = job.options.save_every;
    opt[settings::threads.key] = at::get_num_threads();
    // "winograd" when any layer runs so; conv_plan says which: one letter
    // per conv layer, 'w' Winograd, 'd' direct (conv_calibration.hpp).
    opt["conv_algorithm"] = model.winograd_layers() > 0 ? "winograd" : "direct";
    opt["conv_plan"] = model.conv_plan();
    const auto caps = reproducible_caps();
    opt["reproducible"] = !caps.empty();
    if (!caps.empty()) opt["instruction_set_caps"] = caps;
    o["options"] = std::move(opt);
    if (result) {
        const auto& l = result->losses;
        o["evaluations"] = result->evaluations;
        o["stop_reason"] = to_string(result->stop_reason);
        // The written image's losses; the optimiser's own value (before
        // rounding to the bit depth) beside them, under a name that says so.
        o["losses"] = {{"total", l.total}, {"content", l.content}, {"style", l.style}, {"tv", l.tv}};
        o["optimizer_loss"] = result->optimizer_losses.total;
        o["rejected_evaluations"] = result->rejected;
        o["seconds"] = result->seconds;
    }
    return o;
}

std::string provenance_json(const JobSpec& job, const FeatureExtractor& model, const Result* result) {
    return dump_json(provenance_record(job, model, result));
}

void write_provenance(const JobSpec& job, const FeatureExtractor& model, const Result& result) {
    write_file_atomically(job.output + ".json", provenance_json(job, model, &result) + "\n");
}

}  // namespace stylize::cli
