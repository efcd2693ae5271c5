#include "stylize/model.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>

#include <ATen/ATen.h>
#include <torch/script.h>

#include "model/blocked_layout.hpp"
#include "model/model_metadata.hpp"
#include "model/sha256.hpp"
#include "stylize/errors.hpp"
#include "model/onednn_conv.hpp"
#include "stylize/runtime_info.hpp"

namespace stylize {
namespace {

std::string first_line(const std::string& s) {
    const auto nl = s.find('\n');
    return nl == std::string::npos ? s : s.substr(0, nl);
}

LayerKind kind_of(const std::string& type_name, const std::string& path, size_t index) {
    // Qualified names look like __torch__.torch.nn.modules.conv.Conv2d (with
    // a ___torch_mangle_N suffix in some exports): match on the last part.
    auto last = type_name.substr(type_name.rfind('.') + 1);
    if (last.find("Conv2d") == 0) return LayerKind::Conv;
    if (last.find("ReLU") == 0) return LayerKind::Relu;
    if (last.find("MaxPool2d") == 0 || last.find("AvgPool2d") == 0) return LayerKind::Pool;
    throw ModelError(path + ": layer " + std::to_string(index) + " is a " + last +
                     "; stylize needs a stack of Conv2d/ReLU/MaxPool2d layers (a VGG 'features' "
                     "module, as scripts/export_vgg19.py writes)");
}

// The digest scripts/export_vgg19.py records (parameter_sha256): for each
// parameter in state_dict order, its name ("0.weight", "0.bias", "2.weight",
// ...) then its fp32 values, contiguous, as little-endian bytes (numpy's
// tobytes() on the machines models are exported on).
std::string parameter_sha256(const std::vector<std::pair<std::string, torch::Tensor>>& parameters) {
    detail::Sha256 hash;
    for (const auto& [name, tensor] : parameters) {
        hash.update(name);
        const auto t = tensor.to(torch::kCPU, torch::kFloat).contiguous();
        const auto bytes = static_cast<size_t>(t.numel()) * sizeof(float);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        std::vector<uint8_t> le(bytes);
        const auto* src = static_cast<const uint8_t*>(t.data_ptr());
        for (size_t i = 0; i < bytes; i += 4)
            for (size_t k = 0; k < 4; ++k) le[i + k] = src[i + 3 - k];
        hash.update(le.data(), bytes);
#else
        hash.update(t.data_ptr(), bytes);
#endif
    }
    return hash.hex_digest();
}

}  // namespace

std::vector<std::string> name_vgg_layers(const std::vector<LayerKind>& kinds, const std::string& path) {
    std::vector<std::string> names;
    int block = 1, conv = 0;
    bool any_conv = false;
    LayerKind prev = LayerKind::Pool;
    for (size_t i = 0; i < kinds.size(); ++i) {
        switch (kinds[i]) {
            case LayerKind::Conv:
                ++conv;
                any_conv = true;
                names.push_back("conv" + std::to_string(block) + "_" + std::to_string(conv));
                break;
            case LayerKind::Relu:
                if (i == 0 || prev != LayerKind::Conv)
                    throw ModelError(path + ": layer " + std::to_string(i) +
                                     " is a ReLU that does not follow a convolution; cannot name "
                                     "the layers VGG-style");
                names.push_back("relu" + std::to_string(block) + "_" + std::to_string(conv));
                break;
            case LayerKind::Pool:
                names.push_back("pool" + std::to_string(block));
                ++block;
                conv = 0;
                break;
        }
        prev = kinds[i];
    }
    if (!any_conv)
        throw ModelError(path + ": no conv/relu sequence found; stylize needs a VGG-style feature stack");
    return names;
}

FeatureExtractor FeatureExtractor::load(const std::string& path, const std::string& known_sha256) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw ModelError(path + ": model file not found; export one with "
                         "scripts/export_vgg19.py (see models/README.md)");
    if (!S_ISREG(st.st_mode)) throw ModelError(path + ": is not a regular file (a directory?)");

    ModelInfo info;
    info.path = path;
    torch::jit::ExtraFilesMap extra{{"stylize.json", ""}};
    torch::jit::Module module;
    try {
        module = torch::jit::load(path, torch::Device(torch::kCPU), extra);
    } catch (const std::exception& e) {
        throw ModelError(path + ": not a readable TorchScript model (" + first_line(e.what()) +
                         "); re-export it with scripts/export_vgg19.py");
    }
    detail::read_model_metadata(extra["stylize.json"], info);

    // A whole VGG (features + classifier) is accepted: use its `features`.
    for (const auto& child : module.named_children())
        if (child.name == "features") module = child.value;

    std::vector<Layer> layers;
    std::vector<LayerKind> kinds;
    std::vector<std::pair<std::string, torch::Tensor>> parameters;  // as the module names them, for the digest
    size_t index = 0;
    try {
        for (const auto& child : module.named_children()) {
            const auto type = child.value.type()->name();
            const std::string type_name = type ? type->qualifiedName() : "unknown";
            Layer layer;
            layer.kind = kind_of(type_name, path, index);
            if (layer.kind == LayerKind::Conv) {
                layer.weight = child.value.attr("weight").toTensor().detach().to(torch::kFloat);
                const auto b = child.value.attr("bias");
                layer.bias = b.isTensor() ? b.toTensor().detach().to(torch::kFloat)
                                          : torch::zeros({layer.weight.size(0)});
                parameters.emplace_back(child.name + ".weight", layer.weight);
                if (b.isTensor()) parameters.emplace_back(child.name + ".bias", layer.bias);
                if (layer.weight.dim() != 4 || layer.weight.size(2) != layer.weight.size(3) ||
                    layer.weight.size(2) % 2 == 0)
                    throw ModelError(path + ": layer " + std::to_string(index) +
                                     " is a convolution without an odd square kernel");
                layer.padding = static_cast<int>(layer.weight.size(2) / 2);
            }
            layers.push_back(std::move(layer));
            kinds.push_back(layers.back().kind);
            ++index;
        }
    } catch (const c10::Error& e) {
        throw ModelError(path + ": cannot read layer " + std::to_string(index) + " (" +
                         first_line(e.what()) + ")");
    }
    if (layers.empty())
        throw ModelError(path + ": the module has no layers; stylize needs a VGG-style feature stack");
    const auto names = name_vgg_layers(kinds, path);
    for (size_t i = 0; i < layers.size(); ++i) layers[i].name = names[i];
    // Channel counts must chain.
    int64_t channels = 3;
    for (const auto& l : layers) {
        if (l.kind != LayerKind::Conv) continue;
        if (l.weight.size(1) != channels)
            throw ModelError(path + ": " + l.name + " expects " + std::to_string(l.weight.size(1)) +
                             " input channels but receives " + std::to_string(channels));
        if (!torch::isfinite(l.weight).all().item<bool>() || !torch::isfinite(l.bias).all().item<bool>())
            throw ModelError(path + ": " + l.name + " has NaN or infinite weights; the file is corrupt");
        channels = l.weight.size(0);
    }
    info.sha256 = known_sha256.empty() ? parameter_sha256(parameters) : known_sha256;
    return FeatureExtractor(std::move(layers), std::move(info));
}

FeatureExtractor::FeatureExtractor(std::vector<Layer> layers, ModelInfo info)
    : layers_(std::move(layers)), info_(std::move(info)) {
    // The weights as loaded (fp32, CPU): every configuration is made from
    // these, so moving to bf16 and back loses nothing. Where a configuration
    // changes nothing they share storage with the layers' tensors.
    for (const auto& l : layers_) {
        master_weights_.push_back(l.kind == LayerKind::Conv ? l.weight.to(torch::kCPU, torch::kFloat) : torch::Tensor());
        master_biases_.push_back(l.kind == LayerKind::Conv ? l.bias.to(torch::kCPU, torch::kFloat) : torch::Tensor());
    }
    configure(config_);
}

std::vector<std::string> FeatureExtractor::layer_names() const {
    std::vector<std::string> out;
    for (const auto& l : layers_) out.push_back(l.name);
    return out;
}

bool FeatureExtractor::has_layer(const std::string& name) const {
    return std::any_of(layers_.begin(), layers_.end(), [&](const Layer& l) { return l.name == name; });
}

size_t FeatureExtractor::layer_index(const std::string& name) const {
    for (size_t i = 0; i < layers_.size(); ++i)
        if (layers_[i].name == name) return i;
    std::string valid;
    for (const auto& l : layers_)
        if (l.kind != LayerKind::Conv) valid += (valid.empty() ? "" : " ") + l.name;
    throw InvalidArgument("layer '" + name + "' is not in the model " + info_.path +
                          " (its layers: " + valid + ", and the conv layers)");
}

int64_t FeatureExtractor::channels_at(const std::string& name) const {
    const size_t idx = layer_index(name);
    for (size_t i = idx + 1; i-- > 0;)
        if (layers_[i].kind == LayerKind::Conv) return layers_[i].weight.size(0);
    return 3;
}

size_t FeatureExtractor::depth_for(const std::vector<std::string>& names) const {
    size_t depth = 0;
    for (const auto& n : names) depth = std::max(depth, layer_index(n) + 1);
    return depth;
}

const char* to_string(ConvAlgorithm a) {
    switch (a) {
        case ConvAlgorithm::Auto: return "auto";
        case ConvAlgorithm::Direct: return "direct";
        case ConvAlgorithm::Winograd: return "winograd";
    }
    return "?";
}

bool winograd_supported() { return detail::winograd_available(); }

void FeatureExtractor::keep_layers(size_t depth) {
    if (depth == 0 || depth >= layers_.size()) return;
    layers_.resize(depth);
    master_weights_.resize(depth);
    master_biases_.resize(depth);
}

int FeatureExtractor::winograd_layers() const {
    return static_cast<int>(std::count_if(layers_.begin(), layers_.end(), [](const Layer& l) { return l.winograd != nullptr; }));
}

std::string FeatureExtractor::conv_plan() const {
    std::string plan;
    for (const auto& l : layers_)
        if (l.kind == LayerKind::Conv) plan += l.winograd ? 'w' : 'd';
    return plan;
}

void FeatureExtractor::apply_conv_plan(const std::string& plan) {
    const auto current = conv_plan();
    if (plan.size() != current.size())
        throw InvalidArgument("convolution plan '" + plan + "' has " + std::to_string(plan.size()) +
                              " letters; the model runs " + std::to_string(current.size()) + " conv layers");
    for (size_t i = 0; i < plan.size(); ++i)
        if ((plan[i] != 'w' && plan[i] != 'd') || (plan[i] == 'w' && current[i] != 'w'))
            throw InvalidArgument("convolution plan '" + plan + "': conv layer " + std::to_string(i + 1) +
                                  " cannot run as '" + std::string(1, plan[i]) + "' here (configured: " + current +
                                  ")");
    size_t k = 0;
    for (auto& l : layers_)
        if (l.kind == LayerKind::Conv && plan[k++] == 'd') l.winograd.reset();
}

void FeatureExtractor::release_scratch() const {
    if (scratch_) detail::release_scratch(*scratch_);
}

void FeatureExtractor::configure(const ExtractorConfig& config) {
    const bool fp32_cpu = config.device.is_cpu() && config.precision == Precision::FP32;
    bool winograd = false;
    if (config.conv_algorithm != ConvAlgorithm::Direct && fp32_cpu) winograd = detail::winograd_available();
    if (config.conv_algorithm == ConvAlgorithm::Winograd && !winograd)
        throw InvalidArgument(!fp32_cpu ? "Winograd convolutions run on the CPU in fp32 only"
                                        : "Winograd convolutions need a build with oneDNN and an AVX-512 CPU; "
                                          "use the direct algorithm");
    // bf16 on the CPU: oneDNN's bf16 kernels through stylize's own
    // primitives where this CPU has them (weights converted once, no
    // reorders); ATen's bf16 convolutions otherwise.
    const bool bf16_cpu = config.device.is_cpu() && config.precision == Precision::BF16;
    const bool bf16_kernels = bf16_cpu && detail::bf16_conv_available();
    // An AVX-512 CPU whose oneDNN is capped below it (ONEDNN_MAX_CPU_ISA,
    // --reproducible): ATen would hand bf16 to oneDNN and fail inside it.
    // (Without AVX-512, ATen runs bf16 with its own slower kernels.)
    if (bf16_cpu && !bf16_kernels && detail::onednn_linked()) {
        const auto f = cpu_info().features;
        if (std::find(f.begin(), f.end(), "AVX-512") != f.end())
            throw InvalidArgument("bf16 convolutions need oneDNN's AVX-512 kernels, and oneDNN is capped below "
                                  "AVX-512 here (ONEDNN_MAX_CPU_ISA or --reproducible); use fp32");
    }
    config_ = config;  // nothing above changed the extractor: a refused configuration leaves it as it was
    const auto dtype = config.precision == Precision::BF16 ? torch::kBFloat16 : torch::kFloat;
    scratch_ = detail::make_scratch_arena();
    for (size_t i = 0; i < layers_.size(); ++i) {
        auto& l = layers_[i];
        if (l.kind != LayerKind::Conv) continue;
        const auto& weight = master_weights_[i];
        l.winograd.reset();
        l.bf16.reset();
        if (winograd && detail::onednn_eligible(weight, l.padding))
            l.winograd = std::make_shared<const detail::OneDnnConv>(weight, master_biases_[i],
                                                                     detail::OneDnnKernel::WinogradF32, scratch_);
        if (bf16_kernels && detail::onednn_eligible(weight, l.padding))
            l.bf16 = std::make_shared<const detail::OneDnnConv>(weight, master_biases_[i],
                                                                 detail::OneDnnKernel::DirectBf16, scratch_);
        l.channels_last = l.bf16 || config.layout == Layout::ChannelsLast ||
                          (config.layout == Layout::Auto && weight.size(0) <= 128);
        if (l.bf16) {  // its kernels hold their own bf16 copies: the layer keeps the fp32 master, no copy
            l.weight = weight;
            l.bias = master_biases_[i];
            continue;
        }
        const auto format = l.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
        l.weight = weight.to(config.device, dtype).contiguous(format);
        l.bias = master_biases_[i].to(config.device, dtype);
    }
    std::vector<double> mean = info_.mean, inv_std;
    for (double s : info_.std) inv_std.push_back(1.0 / s);
    const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(config.device);
    mean_ = torch::tensor(mean, opts.dtype(torch::kDouble)).to(opts).view({1, 3, 1, 1});
    inv_std_ = torch::tensor(inv_std, opts.dtype(torch::kDouble)).to(opts).view({1, 3, 1, 1});
}

torch::Tensor FeatureExtractor::prepare(const torch::Tensor& image) const {
    // Map the [0,1] RGB image into the model's input space.
    auto x = image;
    if (info_.channel_order == "BGR") x = x.flip(1);
    const double range = info_.value_max - info_.value_min;
    if (range != 1.0 || info_.value_min != 0.0) x = x * range + info_.value_min;
    x = (x - mean_) * inv_std_;
    if (config_.precision == Precision::BF16) x = x.to(torch::kBFloat16);
    return x;
}

torch::Tensor FeatureExtractor::run_layers(torch::Tensor x, size_t begin, size_t end, const std::vector<size_t>& keep,
                                           std::vector<torch::Tensor>* kept, bool winograd) const {
    auto wanted = [&](size_t i) { return std::find(keep.begin(), keep.end(), i) != keep.end(); };
    // Runs of Winograd convolutions keep their activations channel-blocked
    // (blocked_layout.hpp), converted back where a feature is kept, a direct
    // convolution follows, or the range ends.
    bool blocked = false;
    const auto unblocked = at::MemoryFormat::ChannelsLast;
    for (size_t i = begin; i < end && i < layers_.size(); ++i) {
        const auto& l = layers_[i];
        switch (l.kind) {
            case LayerKind::Conv: {
                // oneDNN convolutions fuse the following ReLU unless this
                // conv's output is a kept feature.
                const bool fuse = i + 1 < end && i + 1 < layers_.size() &&
                                  layers_[i + 1].kind == LayerKind::Relu && !wanted(i);
                if (l.winograd && winograd) {
                    if (!blocked) x = detail::to_blocked(x);
                    blocked = true;
                    x = (*l.winograd)(x, fuse);
                    if (fuse) ++i;  // now at the ReLU, whose output x is
                    break;
                }
                if (blocked) x = detail::from_blocked(x, unblocked);
                blocked = false;
                if (l.bf16) {  // channels-last in and out, whatever the layout setting
                    x = (*l.bf16)(x, fuse);
                    if (fuse) ++i;
                    break;
                }
                // Switch layout where this layer prefers another (once, at the
                // boundary between the channels-last and the NCHW layers).
                if (const auto fmt = l.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
                    !x.is_contiguous(fmt))
                    x = x.contiguous(fmt);
                x = at::conv2d(x, l.weight, l.bias, {1, 1}, {l.padding, l.padding});
                break;
            }
            case LayerKind::Relu:
                // In place on a conv output nobody else holds: saves one
                // activation per layer. Not on this range's input (it may be
                // a caller's leaf) nor on a requested feature.
                x = (i == begin || wanted(i - 1)) ? at::relu(x) : at::relu_(x);
                break;
            case LayerKind::Pool:
                if (blocked) {
                    x = detail::pool_blocked(x, config_.pooling == Pooling::Max, l.pool_kernel, l.pool_stride);
                    break;
                }
                x = config_.pooling == Pooling::Max
                        ? at::max_pool2d(x, {l.pool_kernel, l.pool_kernel}, {l.pool_stride, l.pool_stride})
                        : at::avg_pool2d(x, {l.pool_kernel, l.pool_kernel}, {l.pool_stride, l.pool_stride});
                break;
        }
        if (kept && wanted(i))
            kept->push_back(blocked ? detail::from_blocked(x, unblocked)
                                    : x.scalar_type() == torch::kFloat ? x : x.to(torch::kFloat));
    }
    return blocked ? detail::from_blocked(x, unblocked) : x;
}

std::vector<size_t> FeatureExtractor::block_starts(size_t depth) const {
    std::vector<size_t> starts{0};
    for (size_t i = 0; i + 1 < depth && i < layers_.size(); ++i)
        if (layers_[i].kind == LayerKind::Pool) starts.push_back(i + 1);
    return starts;
}

std::vector<torch::Tensor> FeatureExtractor::extract(const torch::Tensor& image,
                                                     const std::vector<std::string>& names) const {
    std::vector<size_t> wanted;
    for (const auto& n : names) wanted.push_back(layer_index(n));
    std::vector<size_t> keep = wanted;
    std::sort(keep.begin(), keep.end());
    keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
    const size_t depth = keep.empty() ? 0 : keep.back() + 1;
    std::vector<torch::Tensor> kept;
    run_layers(prepare(image), 0, depth, keep, &kept);
    std::vector<torch::Tensor> out;
    for (size_t w : wanted)
        out.push_back(kept[static_cast<size_t>(std::lower_bound(keep.begin(), keep.end(), w) - keep.begin())]);
    return out;
}

}  // namespace stylize
