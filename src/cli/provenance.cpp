// Provenance of an output: everything needed to reproduce it, as JSON, for
// sidecar files and batch reports.
#include "provenance.hpp"

#include "reproducible_mode.hpp"

#include <ATen/Parallel.h>

#include "stylize/runtime_info.hpp"

namespace stylize::cli {
namespace {

Json layers_json(const std::vector<WeightedLayer>& layers) {
    Json out = Json::array();
    for (const auto& l : layers) out.push_back(Json{{"name", l.name}, {"weight", l.weight}});
    return out;
}

}  // namespace

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
    Json opt;
    opt["iterations"] = e.iterations;
    opt["optimizer"] = to_string(e.optimizer);
    opt["lbfgs_history"] = e.lbfgs_history;
    opt["learning_rate"] = e.learning_rate;
    opt["content_weight"] = e.content_weight;
    opt["style_weight"] = e.style_weight;
    opt["tv_weight"] = e.tv_weight;
    opt["content_layers"] = layers_json(e.content_layers);
    opt["style_layers"] = layers_json(e.style_layers);
    opt["style_blend"] = job.options.style_blend;
    opt["size"] = e.size;
    opt["style_scale"] = e.style_scale;
    opt["scales"] = e.scales;
    opt["scale_factor"] = e.scale_factor;
    opt["scale_iterations"] = e.scale_iterations;
    opt["init"] = to_string(e.init);
    opt["init_image"] = job.options.init_image;
    opt["colors"] = to_string(e.color);
    opt["pooling"] = to_string(model.config().pooling);
    opt["normalize_gradients"] = e.normalize_gradients;
    opt["style_loss"] = to_string(e.style_loss);
    if (!job.options.style_regions.empty()) opt["style_regions"] = job.options.style_regions;
    if (!job.options.content_mask.empty()) {
        opt["content_mask"] = job.options.content_mask;
        opt["style_masks"] = job.options.style_masks;
    }
    // Tiles the run used (--tile, or chosen by --tile auto; the halo -1 =
    // exact). Absent when untiled, so that untiled records (and the video
    // resume keys made from them) stay as they were.
    if (e.tile > 0) {
        opt["tile"] = e.tile;
        opt["tile_halo"] = e.tile_halo;
    }
    opt["ema_decay"] = e.ema_decay;
    opt["early_stop"] = e.early_stop_tolerance;
    opt["early_stop_window"] = e.early_stop_window;
    // What ran: the model is configured from the options by the run itself.
    opt["device"] = model.config().device.str();
    opt["precision"] = to_string(model.config().precision);
    opt["threads"] = at::get_num_threads();
    opt["conv_algorithm"] = model.winograd_layers() > 0 ? "winograd" : "direct";
    const auto caps = reproducible_caps();
    opt["reproducible"] = !caps.empty();
    if (!caps.empty()) opt["instruction_set_caps"] = caps;
    opt["bit_depth"] = job.options.bit_depth;
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
