// Provenance of an output: everything needed to reproduce it, as JSON, for
// sidecar files and batch reports.
#include <ATen/Parallel.h>

#include <sstream>

#include "json.hpp"
#include "run_command.hpp"
#include "stylize/runtime_info.hpp"

namespace stylize::cli {
namespace {

std::string layers_json(const std::vector<WeightedLayer>& layers) {
    std::string out = "[";
    for (size_t i = 0; i < layers.size(); ++i) {
        std::ostringstream w;
        w << layers[i].weight;
        out += (i ? "," : "") + std::string("{\"name\":") + json::quote(layers[i].name) + ",\"weight\":" + w.str() + "}";
    }
    return out + "]";
}

std::string num(double v) {
    if (!std::isfinite(v)) return "null";
    std::ostringstream o;
    o.precision(9);
    o << v;
    return o.str();
}

}  // namespace

std::string provenance_json(const JobSpec& job, const FeatureExtractor& model, const Result* result) {
    const auto& e = job.options.engine;
    std::ostringstream o;
    o << "{\"tool\":\"stylize " << STYLIZE_VERSION << "\",\"libtorch\":" << json::quote(torch_version())
      << ",\"content\":" << json::quote(job.content) << ",\"styles\":[";
    for (size_t i = 0; i < job.styles.size(); ++i) o << (i ? "," : "") << json::quote(job.styles[i]);
    o << "],\"output\":" << json::quote(job.output) << ",\"model\":{\"path\":" << json::quote(model.info().path)
      << ",\"sha256\":" << json::quote(model.info().sha256) << ",\"weights\":" << json::quote(model.info().weights)
      << "},\"seed\":" << e.seed << ",\"options\":{\"iterations\":" << e.iterations
      << ",\"optimizer\":\"" << to_string(e.optimizer) << "\",\"lbfgs_history\":" << e.lbfgs_history
      << ",\"learning_rate\":" << num(e.learning_rate) << ",\"content_weight\":" << num(e.content_weight)
      << ",\"style_weight\":" << num(e.style_weight) << ",\"tv_weight\":" << num(e.tv_weight)
      << ",\"content_layers\":" << layers_json(e.content_layers) << ",\"style_layers\":" << layers_json(e.style_layers)
      << ",\"style_blend\":" << json::quote(job.options.style_blend) << ",\"size\":" << e.size
      << ",\"style_scale\":" << num(e.style_scale) << ",\"scales\":" << e.scales
      << ",\"scale_factor\":" << num(e.scale_factor) << ",\"scale_iterations\":" << e.scale_iterations
      << ",\"init\":\"" << to_string(e.init) << "\",\"init_image\":" << json::quote(job.options.init_image)
      << ",\"colors\":\"" << to_string(e.color) << "\",\"pooling\":\"" << to_string(e.pooling)
      << "\",\"normalize_gradients\":" << (e.normalize_gradients ? "true" : "false")
      << ",\"ema_decay\":" << num(e.ema_decay) << ",\"early_stop\":" << num(e.early_stop_tolerance)
      << ",\"early_stop_window\":" << e.early_stop_window << ",\"device\":" << json::quote(e.device)
      << ",\"precision\":\"" << to_string(e.precision) << "\",\"threads\":" << at::get_num_threads()
      << ",\"conv_algorithm\":\"" << (model.winograd_layers() > 0 ? "winograd" : "direct") << "\""
      << ",\"bit_depth\":" << job.options.bit_depth << "}";
    if (result) {
        const auto& l = result->losses;
        o << ",\"evaluations\":" << result->evaluations << ",\"stop_reason\":\"" << to_string(result->stop_reason)
          << "\",\"losses\":{\"total\":" << num(l.total) << ",\"content\":" << num(l.content) << ",\"style\":"
          << num(l.style) << ",\"tv\":" << num(l.tv) << "},\"seconds\":" << num(result->seconds);
    }
    o << "}";
    return o.str();
}

void write_provenance(const JobSpec& job, const FeatureExtractor& model, const Result& result) {
    write_file_atomically(job.output + ".json", provenance_json(job, model, &result) + "\n");
}

}  // namespace stylize::cli
