#include "stylize/transform_net.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/script.h>

#include "io/atomic_write.hpp"
#include "stylize/errors.hpp"
#include "stylize/runtime_info.hpp"

namespace stylize {
namespace {

constexpr const char* kFormat = "stylize-transform-net";
constexpr int kFormatVersion = 1;
constexpr const char* kMetadataFile = "stylize.json";

// One convolution layer of the network: its name, shape, and whether
// instance normalisation follows (then it has no bias of its own).
struct ConvShape {
    std::string name;
    int64_t in, out, kernel;
    bool normalised;
};

std::vector<ConvShape> conv_shapes(const TransformNetSpec& s) {
    const int64_t w = s.width;
    std::vector<ConvShape> out{{"down1", 3, w, 9, true}, {"down2", w, 2 * w, 3, true}, {"down3", 2 * w, 4 * w, 3, true}};
    for (int b = 0; b < s.residual_blocks; ++b) {
        out.push_back({"res" + std::to_string(b + 1) + "a", 4 * w, 4 * w, 3, true});
        out.push_back({"res" + std::to_string(b + 1) + "b", 4 * w, 4 * w, 3, true});
    }
    out.push_back({"up1", 4 * w, 2 * w, 3, true});
    out.push_back({"up2", 2 * w, w, 3, true});
    out.push_back({"out", w, 3, 9, false});
    return out;
}

// The names of a layer's parameters: its weights, then the normalisation's
// scale and shift, or its own bias.
std::vector<std::string> parameter_names(const ConvShape& c) {
    if (c.normalised) return {c.name + "_w", c.name + "_g", c.name + "_b"};
    return {c.name + "_w", c.name + "_bias"};
}

// The forward pass as TorchScript. The input is padded (by reflection) to a
// multiple of 4, the network's total stride, and the output cropped back.
std::string forward_source(const TransformNetSpec& s) {
    std::string src = R"(
def pad(self, x, k: int):
    if x.element_size() == 2:
        # bfloat16 (set_precision): the same reflection, by slices; LibTorch 1.13's CPU
        # reflection_pad2d has no bfloat16 kernel.
        x = torch.cat([x[:, :, 1:k + 1].flip([2]), x, x[:, :, -k - 1:-1].flip([2])], 2)
        return torch.cat([x[:, :, :, 1:k + 1].flip([3]), x, x[:, :, :, -k - 1:-1].flip([3])], 3)
    return torch.reflection_pad2d(x, [k, k, k, k])

def layer(self, x, w, g, b, stride: int, relu: bool):
    k = w.size(2) // 2
    x = self.pad(x, k)
    x = torch.conv2d(x, w, None, [stride, stride])
    x = torch.instance_norm(x, g, b, None, None, True, 0.1, 1e-5, False)
    if relu:
        x = torch.relu(x)
    return x

def up(self, x, w, g, b):
    x = torch.upsample_nearest2d(x, [x.size(2) * 2, x.size(3) * 2])
    return self.layer(x, w, g, b, 1, True)

def forward(self, x):
    h = x.size(2)
    w = x.size(3)
    ph = (4 - h % 4) % 4
    pw = (4 - w % 4) % 4
    if ph > 0 or pw > 0:
        x = torch.reflection_pad2d(x, [0, pw, 0, ph])
    y = ((x - 0.5) * 2.0).to(self.down1_w.dtype)
    y = self.layer(y, self.down1_w, self.down1_g, self.down1_b, 1, True)
    y = self.layer(y, self.down2_w, self.down2_g, self.down2_b, 2, True)
    y = self.layer(y, self.down3_w, self.down3_g, self.down3_b, 2, True)
)";
    for (int b = 1; b <= s.residual_blocks; ++b) {
        const std::string a = "res" + std::to_string(b) + "a", c = "res" + std::to_string(b) + "b";
        src += "    r = self.layer(y, self." + a + "_w, self." + a + "_g, self." + a + "_b, 1, True)\n";
        src += "    y = y + self.layer(r, self." + c + "_w, self." + c + "_g, self." + c + "_b, 1, False)\n";
    }
    src += R"(    y = self.up(y, self.up1_w, self.up1_g, self.up1_b)
    y = self.up(y, self.up2_w, self.up2_g, self.up2_b)
    y = self.pad(y, 4)
    y = torch.sigmoid(torch.conv2d(y, self.out_w, self.out_bias).float())
    return y[:, :, :h, :w]
)";
    return src;
}

void check_spec(const TransformNetSpec& s) {
    if (s.width < 1 || s.width > 256)
        throw InvalidArgument("--width must be between 1 and 256, got " + std::to_string(s.width));
    if (s.residual_blocks < 0 || s.residual_blocks > 32)
        throw InvalidArgument("--blocks must be between 0 and 32, got " + std::to_string(s.residual_blocks));
}

}  // namespace

// A jit::Module is itself a handle to a shared object, so copies of a
// TransformNet share one network, as they did when the member was the module.
struct TransformNet::Module {
    torch::jit::Module m;
    std::map<std::string, torch::Tensor> fp32;  ///< the weights set_precision(BF16) replaced
    Precision precision = Precision::FP32;
};

namespace {

std::shared_ptr<TransformNet::Module> build(const TransformNetSpec& spec,
                                            const std::vector<std::pair<std::string, torch::Tensor>>& params) {
    auto out = std::make_shared<TransformNet::Module>(TransformNet::Module{torch::jit::Module("StylizeTransformNet"), {}, Precision::FP32});
    for (const auto& [name, t] : params) out->m.register_parameter(name, t, false);
    out->m.define(forward_source(spec));
    return out;
}

}  // namespace

TransformNet::TransformNet(std::shared_ptr<Module> module, TransformNetSpec spec, std::string info)
    : module_(std::move(module)), spec_(spec), info_(std::move(info)) {}

TransformNet TransformNet::create(const TransformNetSpec& spec, uint64_t seed) {
    check_spec(spec);
    auto gen = at::detail::createCPUGenerator(seed);
    std::vector<std::pair<std::string, torch::Tensor>> params;
    for (const auto& c : conv_shapes(spec)) {
        const double bound = 1.0 / std::sqrt(static_cast<double>(c.in * c.kernel * c.kernel));
        auto w = at::rand({c.out, c.in, c.kernel, c.kernel}, gen, torch::TensorOptions().dtype(torch::kFloat)) * (2 * bound) - bound;
        params.emplace_back(c.name + "_w", w.requires_grad_());
        if (c.normalised) {
            params.emplace_back(c.name + "_g", torch::ones({c.out}).requires_grad_());
            params.emplace_back(c.name + "_b", torch::zeros({c.out}).requires_grad_());
        } else {
            params.emplace_back(c.name + "_bias", torch::zeros({c.out}).requires_grad_());
        }
    }
    return TransformNet(build(spec, params), spec, "{}");
}

TransformNet TransformNet::load(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw ModelError(path + ": no such network file");
    torch::jit::ExtraFilesMap extra{{kMetadataFile, ""}};
    torch::jit::Module loaded;
    try {
        loaded = torch::jit::load(path, torch::kCPU, extra);
    } catch (const c10::Error&) {
        throw ModelError(path + ": not a TorchScript file, so not a network made by stylize train");
    }
    nlohmann::json meta;
    try {
        meta = nlohmann::json::parse(extra[kMetadataFile]);
    } catch (const nlohmann::json::exception&) {
        meta = nullptr;
    }
    if (!meta.is_object() || meta.value("format", "") != kFormat)
        throw ModelError(path + ": not a stylize transformation network (make one with stylize train; "
                                "a VGG feature extractor goes to --model)");
    if (meta.value("format_version", 0) != kFormatVersion)
        throw ModelError(path + ": network format version " + std::to_string(meta.value("format_version", 0)) +
                         " is not supported by this stylize (it reads version " + std::to_string(kFormatVersion) + ")");
    TransformNetSpec spec;
    try {
        spec.width = meta.at("width").get<int>();
        spec.residual_blocks = meta.at("residual_blocks").get<int>();
        check_spec(spec);
    } catch (const std::exception& e) {
        throw ModelError(path + ": bad network metadata: " + e.what());
    }
    // Parameters are taken by name and the module rebuilt from this
    // version's source: a file cannot bring code of its own.
    std::vector<std::pair<std::string, torch::Tensor>> params;
    for (const auto& c : conv_shapes(spec)) {
        for (const auto& n : parameter_names(c)) {
            if (!loaded.hasattr(n)) throw ModelError(path + ": the network has no parameter " + n);
            auto t = loaded.attr(n).toTensor().detach().to(torch::kFloat).clone();
            const std::vector<int64_t> want = n == c.name + "_w" ? std::vector<int64_t>{c.out, c.in, c.kernel, c.kernel}
                                                                  : std::vector<int64_t>{c.out};
            if (t.sizes().vec() != want) throw ModelError(path + ": parameter " + n + " has the wrong shape");
            params.emplace_back(n, t.requires_grad_());
        }
    }
    const auto info = meta.contains("training") ? meta["training"].dump() : std::string("{}");
    return TransformNet(build(spec, params), spec, info);
}

void TransformNet::save(const std::string& path, const std::string& info_json) const {
    nlohmann::json meta{{"format", kFormat}, {"format_version", kFormatVersion}, {"width", spec_.width},
                        {"residual_blocks", spec_.residual_blocks}};
    try {
        meta["training"] = nlohmann::json::parse(info_json);
    } catch (const nlohmann::json::exception& e) {
        throw InvalidArgument(std::string("network metadata is not JSON: ") + e.what());
    }
    const torch::jit::ExtraFilesMap extra{{kMetadataFile, meta.dump(2)}};
    write_atomically(path, "network", [&](const std::string& tmp) {
        // On the CPU, so that a file written after CUDA training loads anywhere.
        auto copy = module_->m.clone();
        copy.to(torch::kCPU);
        copy.save(tmp, extra);
    });
}

torch::Tensor TransformNet::forward(const torch::Tensor& images) const {
    if (!images.defined() || images.dim() != 4 || images.size(1) != 3)
        throw InvalidArgument("the transformation network takes (N,3,H,W) images");
    if (images.size(2) < kTransformNetMinSide || images.size(3) < kTransformNetMinSide)
        throw InvalidArgument("the image is " + std::to_string(images.size(3)) + "x" + std::to_string(images.size(2)) +
                              " pixels; fast mode needs at least " + std::to_string(kTransformNetMinSide) +
                              " on each side");
    return module_->m.forward({images.to(torch::kFloat)}).toTensor();
}

torch::Tensor TransformNet::stylize(const torch::Tensor& image) const {
    if (!image.defined() || image.dim() != 4 || image.size(0) != 1)
        throw InvalidArgument("stylize takes one (1,3,H,W) image");
    torch::NoGradGuard no_grad;
    return forward(image.to(device())).clamp(0, 1).to(torch::kCPU).contiguous();
}

std::vector<std::pair<std::string, torch::Tensor>> TransformNet::named_parameters() const {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& c : conv_shapes(spec_)) {
        for (const auto& n : parameter_names(c)) out.emplace_back(n, module_->m.attr(n).toTensor());
    }
    return out;
}

void TransformNet::to(torch::Device device) { module_->m.to(device); }

void TransformNet::set_precision(Precision precision) {
    if (precision == Precision::TF32) precision = Precision::FP32;  // CUDA's matmul setting, not a storage type
    if (precision == module_->precision) return;
    // The convolutions' weights and the output's bias; the instance norms'
    // scale and shift stay fp32 (ATen's bfloat16 batch norm takes them so).
    // The fp32 originals are kept, so going back to FP32 loses nothing.
    for (const auto& c : conv_shapes(spec_))
        for (const auto& n : parameter_names(c)) {
            if (n != c.name + "_w" && n != c.name + "_bias") continue;
            if (precision == Precision::BF16) {
                const auto t = module_->m.attr(n).toTensor();
                module_->fp32[n] = t;
                module_->m.setattr(n, t.detach().to(torch::kBFloat16));
            } else {
                module_->m.setattr(n, module_->fp32.at(n));
            }
        }
    if (precision == Precision::FP32) module_->fp32.clear();
    module_->precision = precision;
}

Precision TransformNet::precision() const { return module_->precision; }

Precision fast_apply_precision(torch::Device device) {
    if (!device.is_cpu()) return Precision::FP32;
    const auto features = cpu_info().features;
    return std::find(features.begin(), features.end(), "AVX512_BF16") != features.end() ? Precision::BF16
                                                                                        : Precision::FP32;
}

torch::Device TransformNet::device() const { return module_->m.attr("down1_w").toTensor().device(); }

}  // namespace stylize
