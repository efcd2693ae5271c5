#include "stylize/fast_training.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>
#include <torch/optim/adam.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include "io/atomic_write.hpp"
#include "loss/loss_terms.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_ops.hpp"
#include "loss/term_factory.hpp"

namespace stylize {
namespace {

constexpr const char* kCheckpointFormat = "stylize-training-checkpoint-1";

nlohmann::json layers_json(const std::vector<WeightedLayer>& layers) {
    auto out = nlohmann::json::array();
    for (const auto& l : layers) out.push_back({l.name, l.weight});
    return out;
}

void add(LossTerms& sum, TermKind kind, double v) {
    switch (kind) {
        case TermKind::Content: sum.content += v; break;
        case TermKind::Style: sum.style += v; break;
        case TermKind::TV: sum.tv += v; break;
        case TermKind::Temporal: sum.temporal += v; break;
    }
    sum.total += v;
}

// The weighted terms of each image of `images` ((N,3,H,W), differentiable)
// against its own content maps (one (N,C,h,w) per content layer) and the
// style targets: the sum over the batch, and the terms' values (also
// summed) in `values`. A random statistic (sliced Wasserstein) draws its
// projections for image i from `draw_seed` and i: new ones every step, the
// same ones when a resumed run repeats the step.
torch::Tensor batch_loss(const FeatureExtractor& model, const StylizeOptions& opt, const StyleTargets& style,
                         const torch::Tensor& images, const std::vector<torch::Tensor>& content_maps,
                         uint64_t draw_seed, LossTerms& values) {
    // Every layer any term reads, in one pass up to the deepest.
    const auto probe = make_terms(model, opt, content_maps, style, {});
    std::set<size_t> wanted;
    for (const auto& t : probe) wanted.insert(t->layer());
    const std::vector<size_t> keep(wanted.begin(), wanted.end());
    std::vector<torch::Tensor> kept;
    const size_t depth = keep.empty() ? 0 : keep.back() + 1;
    if (depth > 0) model.run_layers(model.prepare(images), 0, depth, keep, &kept);
    auto features_at = [&](size_t layer) {
        return kept[static_cast<size_t>(std::lower_bound(keep.begin(), keep.end(), layer) - keep.begin())];
    };
    const TVLoss tv(opt.tv_weight);
    torch::Tensor total = torch::zeros({}, images.options().dtype(torch::kFloat));
    for (int64_t i = 0; i < images.size(0); ++i) {
        std::vector<torch::Tensor> targets;
        for (const auto& m : content_maps) targets.push_back(m.narrow(0, i, 1));
        StylizeOptions item = opt;
        item.seed = draw_seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(i + 1));
        for (const auto& term : make_terms(model, item, targets, style, {})) {
            auto l = (*term)(features_at(term->layer()).narrow(0, i, 1));
            add(values, term->kind(), l.item<double>());
            total = total + l;
        }
        if (opt.tv_weight > 0) {
            auto l = tv(images.narrow(0, i, 1));
            add(values, TermKind::TV, l.item<double>());
            total = total + l;
        }
    }
    return total;
}

LossTerms scaled(LossTerms t, double s) {
    t.content *= s;
    t.style *= s;
    t.tv *= s;
    t.temporal *= s;
    t.total *= s;
    return t;
}

}  // namespace

void validate(const FastTrainOptions& o) {
    validate(o.losses);
    if (o.crop < 32 || o.crop > 4096)
        throw InvalidArgument("--crop must be between 32 and 4096 pixels, got " + std::to_string(o.crop));
    if (o.batch < 1 || o.batch > 1024)
        throw InvalidArgument("--batch must be between 1 and 1024, got " + std::to_string(o.batch));
    if (!std::isfinite(o.learning_rate) || o.learning_rate <= 0)
        throw InvalidArgument("--learning-rate must be a finite number > 0");
    if (o.losses.color != ColorMode::Style)
        throw InvalidArgument("--colors: fast mode trains on the style's colours only");
    if (o.losses.normalize_gradients)
        throw InvalidArgument("--normalize-gradients: not available in fast mode (it rescales per image, not per batch)");
}

struct FastTrainer::State {
    FeatureExtractor& model;
    FastTrainOptions options;
    std::string data_key;
    StyleTargets style;
    TransformNet net;
    std::unique_ptr<torch::optim::Adam> adam;
    int64_t steps = 0;
    std::vector<LossTerms> history;

    State(FeatureExtractor& m, const FastTrainOptions& o, std::string key)
        : model(m), options(o), data_key(std::move(key)), net(TransformNet::create(o.net, o.seed)) {}

    std::vector<torch::Tensor> parameters() const {
        std::vector<torch::Tensor> out;
        for (const auto& [name, p] : net.named_parameters()) out.push_back(p);
        return out;
    }
};

FastTrainer::FastTrainer(FeatureExtractor& model, const std::vector<StyleImage>& styles,
                         const FastTrainOptions& options, std::string data_key) {
    validate(options);
    if (styles.empty()) throw InvalidArgument("fast mode needs at least one style image");
    check_layers(model, options.losses);
    configure_for(model, options.losses);
    const int64_t min_side = minimum_side(model, options.losses);
    if (options.crop < min_side)
        throw InvalidArgument("--crop " + std::to_string(options.crop) + " is smaller than the " +
                              std::to_string(min_side) + " pixels the layers need");
    s_ = std::make_unique<State>(model, options, std::move(data_key));
    s_->net.to(model.config().device);
    {
        torch::NoGradGuard no_grad;
        const auto grey = torch::full({1, 3, options.crop, options.crop}, 0.5);
        s_->style = compute_style_targets(model, styles, grey, options.crop, options.losses);
    }
    s_->adam = std::make_unique<torch::optim::Adam>(s_->parameters(),
                                                   torch::optim::AdamOptions(options.learning_rate));
}

FastTrainer::~FastTrainer() = default;

LossTerms FastTrainer::step(const torch::Tensor& batch) {
    auto& s = *s_;
    if (!batch.defined() || batch.dim() != 4 || batch.size(1) != 3)
        throw InvalidArgument("a training batch must be (N,3,H,W)");
    const auto device = s.model.config().device;
    const auto x = batch.to(device, torch::kFloat);
    std::vector<torch::Tensor> content_maps;
    {
        torch::NoGradGuard no_grad;
        if (!s.options.losses.content_layers.empty())
            content_maps = s.model.extract(x, layer_names(s.options.losses.content_layers));
    }
    s.adam->zero_grad();
    LossTerms values;
    const auto y = s.net.forward(x);
    const uint64_t draws = s.options.losses.seed + 0xD1B54A32D192ED03ULL * static_cast<uint64_t>(s.steps + 1);
    const auto total = batch_loss(s.model, s.options.losses, s.style, y, content_maps, draws, values);
    const double n = static_cast<double>(x.size(0));
    values = scaled(values, 1.0 / n);
    if (!std::isfinite(values.total))
        throw RuntimeFailure("the training loss became " + std::to_string(values.total) + " at step " +
                             std::to_string(s.steps + 1) + "; lower --learning-rate");
    (total / n).backward();
    s.adam->step();
    ++s.steps;
    s.history.push_back(values);
    return values;
}

int64_t FastTrainer::steps_done() const { return s_->steps; }
const std::vector<LossTerms>& FastTrainer::history() const { return s_->history; }
const TransformNet& FastTrainer::net() const { return s_->net; }
const FastTrainOptions& FastTrainer::options() const { return s_->options; }

std::string FastTrainer::fingerprint() const {
    const auto& o = s_->options;
    const auto& l = o.losses;
    nlohmann::json j{{"crop", o.crop},
                     {"batch", o.batch},
                     {"learning_rate", o.learning_rate},
                     {"seed", o.seed},
                     {"width", o.net.width},
                     {"residual_blocks", o.net.residual_blocks},
                     {"content_layers", layers_json(l.content_layers)},
                     {"style_layers", layers_json(l.style_layers)},
                     {"content_weight", l.content_weight},
                     {"style_weight", l.style_weight},
                     {"tv_weight", l.tv_weight},
                     {"style_loss", to_string(l.style_loss)},
                     {"pooling", to_string(l.pooling)},
                     {"precision", to_string(l.precision)},
                     {"style_scale", l.style_scale},
                     {"style_blend", l.style_blend},
                     {"model_sha256", s_->model.info().sha256},
                     {"data", s_->data_key}};
    return j.dump();
}

void FastTrainer::save_checkpoint(const std::string& path) const {
    const auto& s = *s_;
    torch::serialize::OutputArchive archive;
    archive.write("format", c10::IValue(std::string(kCheckpointFormat)));
    archive.write("fingerprint", c10::IValue(fingerprint()));
    archive.write("steps", c10::IValue(s.steps));
    for (const auto& [name, p] : s.net.named_parameters()) archive.write("net." + name, p.detach().to(torch::kCPU));
    auto history = torch::zeros({static_cast<int64_t>(s.history.size()), 5}, torch::kDouble);
    auto h = history.accessor<double, 2>();
    for (size_t i = 0; i < s.history.size(); ++i) {
        const auto& t = s.history[i];
        const double row[5] = {t.content, t.style, t.tv, t.temporal, t.total};
        for (int k = 0; k < 5; ++k) h[static_cast<int64_t>(i)][k] = row[k];
    }
    archive.write("history", history);
    torch::serialize::OutputArchive adam;
    s.adam->save(adam);
    archive.write("adam", adam);
    write_atomically(path, "checkpoint", [&](const std::string& tmp) { archive.save_to(tmp); });
}

void FastTrainer::load_checkpoint(const std::string& path) {
    auto& s = *s_;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw ModelError(path + ": no such checkpoint file");
    torch::serialize::InputArchive archive;
    c10::IValue format, fp, steps;
    try {
        archive.load_from(path, torch::kCPU);
        archive.read("format", format);
    } catch (const std::exception&) {  // c10::Error, or TorchScript's error for another kind of file
        throw ModelError(path + ": not a stylize training checkpoint");
    }
    if (!format.isString() || format.toStringRef() != kCheckpointFormat)
        throw ModelError(path + ": not a stylize training checkpoint");
    archive.read("fingerprint", fp);
    archive.read("steps", steps);
    const auto mine = nlohmann::json::parse(fingerprint());
    const auto theirs = nlohmann::json::parse(fp.toStringRef());
    std::string differ;
    for (auto it = mine.begin(); it != mine.end(); ++it) {
        const auto other = theirs.contains(it.key()) ? theirs[it.key()] : nlohmann::json();
        if (other != it.value())
            differ += (differ.empty() ? "" : ", ") + it.key() + " " + other.dump() + " (now " + it.value().dump() + ")";
    }
    if (!differ.empty())
        throw InvalidArgument("--resume " + path + ": the checkpoint was made with other settings: " + differ);
    {
        torch::NoGradGuard no_grad;
        for (auto& [name, p] : s.net.named_parameters()) {
            torch::Tensor t;
            archive.read("net." + name, t);
            p.copy_(t);
        }
    }
    torch::Tensor history;
    archive.read("history", history);
    s.history.clear();
    auto h = history.accessor<double, 2>();
    for (int64_t i = 0; i < history.size(0); ++i)
        s.history.push_back(LossTerms{h[i][0], h[i][1], h[i][2], h[i][3], h[i][4]});
    torch::serialize::InputArchive adam;
    archive.read("adam", adam);
    s.adam->load(adam);
    s.steps = steps.toInt();
}

LossTerms measure_losses(FeatureExtractor& model, const torch::Tensor& content, const std::vector<StyleImage>& styles,
                         const torch::Tensor& image, const StylizeOptions& options) {
    validate(options);
    check_layers(model, options);
    configure_for(model, options);
    if (!image.defined() || image.dim() != 4 || image.size(0) != 1 || image.size(1) != 3)
        throw InvalidArgument("the image to measure must be (1,3,H,W)");
    torch::NoGradGuard no_grad;
    const auto device = model.config().device;
    const int64_t h = image.size(2), w = image.size(3);
    const auto content_view = colour_view(resize_image(content.to(torch::kFloat), h, w), options.color).to(device);
    const auto view = colour_view(image.to(torch::kFloat), options.color).to(device);
    const auto style = compute_style_targets(model, styles, content_view, std::max(h, w), options);
    std::vector<torch::Tensor> content_maps;
    if (!options.content_layers.empty()) content_maps = model.extract(content_view, layer_names(options.content_layers));
    LossTerms values;
    batch_loss(model, options, style, view, content_maps, options.seed, values);
    return values;
}

}  // namespace stylize
