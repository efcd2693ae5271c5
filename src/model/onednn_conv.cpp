#include "model/onednn_conv.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include "model/blocked_layout.hpp"
#include "stylize/runtime_info.hpp"

#ifdef STYLIZE_HAVE_ONEDNN
#include <dlfcn.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#endif

namespace stylize::detail {

bool onednn_eligible(const torch::Tensor& weight, int padding) {
    return weight.dim() == 4 && weight.size(2) == 3 && weight.size(3) == 3 && padding == 1 &&
           weight.size(0) % kChannelBlock == 0 && weight.size(1) % kChannelBlock == 0;
}

#ifdef STYLIZE_HAVE_ONEDNN
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// oneDNN (OpenMP runtime) chooses a kernel's work schedule and blocking
// from the number of threads when a primitive is created, and runs it on
// that many. The Winograd kernels' schedules round differently (at some
// shapes one thread gets one schedule and two threads another, seen in the
// scratchpad sizes they ask for), so Winograd primitives are always created
// as if for every usable core, whatever the run's thread count: the same
// bytes for any thread count, at no cost at the default of one thread per
// core, but they run on all those cores even at -j 1. The direct bf16
// kernels split only outputs across threads (the sums run whole in one
// thread), so they are created for the run's thread count (at most the
// usable cores) and honour it, with the same bytes (tested). The thread
// count is OpenMP's per-thread setting, changed for the calling thread only
// and restored; found at run time in the OpenMP library oneDNN already
// loaded.
int schedule_threads() {
    static const int cores = usable_cores();
    return cores;
}

int setup_threads(OneDnnKernel k) {
    return k == OneDnnKernel::WinogradF32 ? schedule_threads() : std::min(at::get_num_threads(), schedule_threads());
}

class OpenMpThreads {
public:
    explicit OpenMpThreads(int want) {
        static const auto get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
        static const auto set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
        if (!get || !set) return;
        saved_ = get();
        if (want <= 0) want = std::min(saved_, schedule_threads());  // run: at most the schedule's
        if (want != saved_) {
            set_ = set;
            set_(want);
        }
    }
    ~OpenMpThreads() {
        if (set_) set_(saved_);
    }
    OpenMpThreads(const OpenMpThreads&) = delete;
    OpenMpThreads& operator=(const OpenMpThreads&) = delete;

private:
    int saved_ = 0;
    void (*set_)(int) = nullptr;
};

bool is_winograd(OneDnnKernel k) { return k == OneDnnKernel::WinogradF32; }

dnnl::algorithm algorithm_of(OneDnnKernel k) {
    return is_winograd(k) ? dnnl::algorithm::convolution_winograd : dnnl::algorithm::convolution_direct;
}

dt data_type(OneDnnKernel k) { return is_winograd(k) ? dt::f32 : dt::bf16; }

// The activations' layout: channel-blocked fp32 for Winograd, channels-last
// bf16 for the bf16 kernels (the layout ATen's channels-last tensors have).
memory::desc activation_desc(OneDnnKernel k, int64_t n, int64_t c, int64_t h, int64_t w) {
    return memory::desc({n, c, h, w}, data_type(k), is_winograd(k) ? tag::nChw16c : tag::nhwc);
}

memory::desc any_weights_desc(OneDnnKernel k, int64_t out_c, int64_t in_c) {
    return memory::desc({out_c, in_c, 3, 3}, data_type(k), tag::any);
}

memory::desc bias_desc(int64_t out_c) { return memory::desc({out_c}, dt::f32, tag::x); }

dnnl::convolution_forward::desc forward_desc(OneDnnKernel k, const memory::desc& src, const memory::desc& weights,
                                             const memory::desc& bias, const memory::desc& dst) {
    return dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algorithm_of(k), src, weights, bias,
                                           dst, {1, 1}, {1, 1}, {1, 1});
}

dnnl::convolution_backward_data::desc backward_desc(OneDnnKernel k, const memory::desc& src,
                                                    const memory::desc& weights, const memory::desc& dst) {
    return dnnl::convolution_backward_data::desc(algorithm_of(k), src, weights, dst, {1, 1}, {1, 1}, {1, 1});
}

// Scratchpads are passed per call (user mode) from LibTorch's allocator, so
// they live only while a convolution runs instead of staying with each
// primitive.
dnnl::primitive_attr attributes(bool relu) {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    if (relu) {
        dnnl::post_ops ops;
        ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
        attr.set_post_ops(ops);
    }
    return attr;
}

// Everything one input shape needs: primitives and weights in their formats.
struct Primitives {
    dnnl::engine engine;
    memory::desc src, dst;
    dnnl::convolution_forward forward, forward_relu;
    dnnl::convolution_backward_data backward;
    memory forward_weights, forward_relu_weights, backward_weights, bias;
    memory::desc forward_scratch, forward_relu_scratch, backward_scratch;
    torch::Tensor bias_storage;  // what `bias` points into
};

memory weights_in(const memory::desc& want, const torch::Tensor& weight, const dnnl::engine& engine) {
    memory plain(memory::desc({weight.size(0), weight.size(1), 3, 3}, dt::f32, tag::oihw), engine, weight.data_ptr());
    memory out(want, engine);
    dnnl::stream stream(engine);
    dnnl::reorder(plain, out).execute(stream, plain, out);  // converts fp32 to bf16 where wanted
    stream.wait();
    return out;
}

// The weights in the kernels' formats, kept across input shapes: oneDNN 2.6
// picks OIhw16i16o for every Winograd shape, forward and backward, so one
// copy serves all; the bf16 kernels want one format forward and another
// backward. Converted from the fp32 weights once per format.
struct WeightCopies {
    std::vector<memory> copies;
    memory get(const memory::desc& want, const torch::Tensor& weight, const dnnl::engine& engine) {
        for (const auto& m : copies)
            if (m.get_desc() == want) return m;
        copies.push_back(weights_in(want, weight, engine));
        return copies.back();
    }
};

std::shared_ptr<const Primitives> make_primitives(OneDnnKernel k, const dnnl::engine& engine,
                                                  const torch::Tensor& weight, const torch::Tensor& bias,
                                                  WeightCopies& weights, int64_t n, int64_t h, int64_t w) {
    std::optional<OpenMpThreads> schedule(std::in_place, setup_threads(k));
    const int64_t out_c = weight.size(0), in_c = weight.size(1);
    auto p = std::make_shared<Primitives>();
    p->engine = engine;
    p->src = activation_desc(k, n, in_c, h, w);
    p->dst = activation_desc(k, n, out_c, h, w);
    const auto any_weights = any_weights_desc(k, out_c, in_c);
    const auto fdesc = forward_desc(k, p->src, any_weights, bias_desc(out_c), p->dst);
    const dnnl::convolution_forward::primitive_desc fpd(fdesc, attributes(false), engine);
    const dnnl::convolution_forward::primitive_desc fpd_relu(fdesc, attributes(true), engine);
    const dnnl::convolution_backward_data::primitive_desc bpd(backward_desc(k, p->src, any_weights, p->dst),
                                                              attributes(false), engine, fpd);
    p->forward_scratch = fpd.scratchpad_desc();
    p->forward_relu_scratch = fpd_relu.scratchpad_desc();
    p->backward_scratch = bpd.scratchpad_desc();
    p->forward = dnnl::convolution_forward(fpd);
    p->forward_relu = dnnl::convolution_forward(fpd_relu);
    p->backward = dnnl::convolution_backward_data(bpd);
    schedule.reset();  // the weight copies below run on the caller's threads
    p->forward_weights = weights.get(fpd.weights_desc(), weight, engine);
    p->forward_relu_weights = weights.get(fpd_relu.weights_desc(), weight, engine);  // the same so far
    p->backward_weights = weights.get(bpd.weights_desc(), weight, engine);
    p->bias_storage = bias;
    p->bias = memory(bias_desc(out_c), engine, bias.data_ptr());
    return p;
}

}  // namespace

struct ScratchArena {
    std::mutex mutex;  // held for a whole convolution call
    torch::Tensor buffer;

    // A scratchpad for `desc`; the caller holds `mutex`.
    memory get(const memory::desc& desc, const dnnl::engine& engine) {
        const auto bytes = static_cast<int64_t>(std::max<size_t>(desc.get_size(), 1));
        // Grow when too small; shrink when far too big, so the large
        // scratchpad of the deep layers is not held while the shallow, large
        // activations are (the memory peak). Two reallocations per evaluation.
        const bool shrink = buffer.defined() && buffer.numel() > 4 * bytes && buffer.numel() - bytes > (16 << 20);
        if (!buffer.defined() || buffer.numel() < bytes || shrink) {
            buffer = torch::Tensor();  // free the old one first
            buffer = at::empty({bytes}, at::kByte);
        }
        return memory(desc, engine, buffer.data_ptr());
    }
};

std::shared_ptr<ScratchArena> make_scratch_arena() { return std::make_shared<ScratchArena>(); }

void release_scratch(ScratchArena& arena) {
    std::lock_guard<std::mutex> lock(arena.mutex);
    arena.buffer = torch::Tensor();
}

namespace {

// A tensor in the layout the kernel's activations use.
torch::Tensor in_layout(OneDnnKernel k, const torch::Tensor& t) {
    return is_winograd(k) ? t.contiguous() : t.contiguous(at::MemoryFormat::ChannelsLast);
}

// The input-gradient of conv (+ ReLU): dX = conv_backward_data(dY * [Y > 0]).
struct OneDnnConvBackward : public torch::autograd::Node {
    OneDnnKernel kernel = OneDnnKernel::WinogradF32;
    std::shared_ptr<const Primitives> prims;
    std::shared_ptr<ScratchArena> arena;
    torch::Tensor output;  // the ReLU output, detached; shares its version counter
    uint32_t output_version = 0;
    std::vector<int64_t> input_sizes;
    torch::TensorOptions input_options;  // type and memory format of the input

    torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
        if (!grads[0].defined()) return {torch::Tensor()};
        TORCH_CHECK(prims, "a oneDNN convolution's backward ran twice; its saved state was released");
        auto g = in_layout(kernel, grads[0].to(is_winograd(kernel) ? torch::kFloat : torch::kBFloat16));
        if (output.defined()) {
            TORCH_CHECK(output._version() == output_version,
                        "a oneDNN convolution's output was modified in place before its backward pass");
            g = in_layout(kernel, at::threshold_backward(g, output, 0));
        }
        grads.clear();  // the incoming gradient can go before dX is allocated
        auto dx = at::empty(input_sizes, input_options);
        dnnl::stream stream(prims->engine);
        memory diff_dst(prims->dst, prims->engine, g.data_ptr()), diff_src(prims->src, prims->engine, dx.data_ptr());
        std::lock_guard<std::mutex> lock(arena->mutex);
        const OpenMpThreads at_most(0);
        prims->backward.execute(stream, {{DNNL_ARG_DIFF_DST, diff_dst},
                                         {DNNL_ARG_WEIGHTS, prims->backward_weights},
                                         {DNNL_ARG_DIFF_SRC, diff_src},
                                         {DNNL_ARG_SCRATCHPAD, arena->get(prims->backward_scratch, prims->engine)}});
        stream.wait();
        return {dx};
    }
    std::string name() const override {
        return is_winograd(kernel) ? "WinogradConvBackward" : "OneDnnBf16ConvBackward";
    }
    void release_variables() override {
        output.reset();
        prims.reset();
        arena.reset();
    }
};

// Whether oneDNN has a kernel of this CPU for `k` (not its reference code,
// which is many times slower than ATen's path).
bool kernel_available(OneDnnKernel k) {
    try {
        const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
        const auto src = activation_desc(k, 1, 16, 8, 8);
        const dnnl::convolution_forward::primitive_desc pd(
            forward_desc(k, src, any_weights_desc(k, 16, 16), bias_desc(16), src), engine);
        return std::string(pd.impl_info_str()).rfind("ref", 0) != 0;
    } catch (const dnnl::error&) {
        return false;  // no such kernel for this CPU
    }
}

}  // namespace

struct OneDnnConv::State {
    OneDnnKernel kernel = OneDnnKernel::WinogradF32;
    dnnl::engine engine{dnnl::engine::kind::cpu, 0};
    torch::Tensor weight, bias;  // fp32
    std::shared_ptr<ScratchArena> arena;
    // The primitives of the latest input shape only: a run evaluates one
    // shape many times.
    std::mutex mutex;
    std::array<int64_t, 4> shape{};  // n, h, w and the threads it was set up for
    std::shared_ptr<const Primitives> cached;
    WeightCopies weights;

    std::shared_ptr<const Primitives> primitives(int64_t n, int64_t h, int64_t w) {
        std::lock_guard<std::mutex> lock(mutex);
        const std::array<int64_t, 4> want{n, h, w, setup_threads(kernel)};
        if (!cached || shape != want) {
            cached.reset();
            cached = make_primitives(kernel, engine, weight, bias, weights, n, h, w);
            shape = want;
        }
        return cached;
    }
};

bool onednn_linked() { return true; }

bool winograd_available() {
    static const bool available = kernel_available(OneDnnKernel::WinogradF32);
    return available;
}

bool bf16_conv_available() {
    static const bool available = kernel_available(OneDnnKernel::DirectBf16);
    return available;
}

OneDnnConv::OneDnnConv(const torch::Tensor& weight, const torch::Tensor& bias, OneDnnKernel kernel,
                       std::shared_ptr<ScratchArena> arena)
    : state_(std::make_unique<State>()) {
    if (!onednn_eligible(weight, 1)) throw std::runtime_error("OneDnnConv: not a 3x3 conv on 16-channel blocks");
    if (!arena) throw std::runtime_error("OneDnnConv: no scratch arena");
    if (!(is_winograd(kernel) ? winograd_available() : bf16_conv_available()))
        throw std::runtime_error(is_winograd(kernel) ? "oneDNN has no Winograd kernels for this CPU"
                                                     : "oneDNN has no bf16 convolution kernels for this CPU");
    state_->kernel = kernel;
    state_->weight = weight.detach().to(torch::kCPU, torch::kFloat).contiguous();
    state_->bias = bias.detach().to(torch::kCPU, torch::kFloat).contiguous();
    state_->arena = std::move(arena);
}

OneDnnKernel OneDnnConv::kernel() const { return state_->kernel; }

size_t OneDnnConv::scratchpad_bytes(int64_t h, int64_t w) const {
    const auto k = state_->kernel;
    const OpenMpThreads schedule(setup_threads(k));
    const int64_t out_c = state_->weight.size(0), in_c = state_->weight.size(1);
    const auto src = activation_desc(k, 1, in_c, h, w), dst = activation_desc(k, 1, out_c, h, w);
    const auto weights = any_weights_desc(k, out_c, in_c);
    const auto fdesc = forward_desc(k, src, weights, bias_desc(out_c), dst);
    const dnnl::convolution_forward::primitive_desc fpd(fdesc, attributes(false), state_->engine);
    const dnnl::convolution_forward::primitive_desc fpd_relu(fdesc, attributes(true), state_->engine);
    const dnnl::convolution_backward_data::primitive_desc bpd(backward_desc(k, src, weights, dst), attributes(false),
                                                              state_->engine, fpd);
    return std::max({fpd.scratchpad_desc().get_size(), fpd_relu.scratchpad_desc().get_size(),
                     bpd.scratchpad_desc().get_size()});
}

OneDnnConv::~OneDnnConv() = default;

torch::Tensor OneDnnConv::operator()(const torch::Tensor& x_in, bool relu) const {
    const auto k = state_->kernel;
    const int64_t in_c = state_->weight.size(1), out_c = state_->weight.size(0);
    if (is_winograd(k)) {
        TORCH_CHECK(x_in.dim() == 5 && x_in.size(4) == kChannelBlock && x_in.size(1) * kChannelBlock == in_c &&
                        x_in.scalar_type() == torch::kFloat && x_in.device().is_cpu(),
                    "OneDnnConv: Winograd input must be a blocked fp32 CPU map with ", in_c, " channels");
    } else {
        TORCH_CHECK(x_in.dim() == 4 && x_in.size(1) == in_c && x_in.scalar_type() == torch::kBFloat16 &&
                        x_in.device().is_cpu(),
                    "OneDnnConv: bf16 input must be a (N,", in_c, ",H,W) bf16 CPU map");
    }
    RECORD_FUNCTION(is_winograd(k) ? (relu ? "onednn_conv_relu_forward" : "onednn_conv_forward")
                                   : (relu ? "onednn_bf16_conv_relu_forward" : "onednn_bf16_conv_forward"),
                    std::vector<c10::IValue>());
    const auto x = in_layout(k, x_in);
    const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
    const auto prims = state_->primitives(n, h, w);
    auto y = is_winograd(k) ? at::empty({n, out_c / kChannelBlock, h, w, kChannelBlock}, x.options())
                            : at::empty({n, out_c, h, w}, x.options().memory_format(at::MemoryFormat::ChannelsLast));
    {
        dnnl::stream stream(prims->engine);
        memory src(prims->src, prims->engine, x.data_ptr()), dst(prims->dst, prims->engine, y.data_ptr());
        auto& arena = *state_->arena;
        std::lock_guard<std::mutex> lock(arena.mutex);
        const auto scratch = arena.get(relu ? prims->forward_relu_scratch : prims->forward_scratch, prims->engine);
        const OpenMpThreads at_most(0);
        (relu ? prims->forward_relu : prims->forward)
            .execute(stream, {{DNNL_ARG_SRC, src},
                              {DNNL_ARG_WEIGHTS, relu ? prims->forward_relu_weights : prims->forward_weights},
                              {DNNL_ARG_BIAS, prims->bias},
                              {DNNL_ARG_DST, dst},
                              {DNNL_ARG_SCRATCHPAD, scratch}});
        stream.wait();
    }
    if (torch::autograd::compute_requires_grad(x)) {
        auto node = std::shared_ptr<OneDnnConvBackward>(new OneDnnConvBackward(), torch::autograd::deleteNode);
        node->set_next_edges(torch::autograd::collect_next_edges(x));
        node->kernel = k;
        node->prims = prims;
        node->arena = state_->arena;
        node->input_sizes = x.sizes().vec();
        node->input_options = is_winograd(k) ? x.options() : x.options().memory_format(at::MemoryFormat::ChannelsLast);
        torch::autograd::set_history(y, node);
        if (relu) {
            node->output = y.detach();
            node->output_version = y._version();
        }
    }
    return y;
}

#else  // built without oneDNN

struct OneDnnConv::State {};
struct ScratchArena {};

std::shared_ptr<ScratchArena> make_scratch_arena() { return std::make_shared<ScratchArena>(); }
void release_scratch(ScratchArena&) {}

bool onednn_linked() { return false; }
bool winograd_available() { return false; }
bool bf16_conv_available() { return false; }

OneDnnConv::OneDnnConv(const torch::Tensor&, const torch::Tensor&, OneDnnKernel, std::shared_ptr<ScratchArena>) {
    throw std::runtime_error("this build of stylize has no oneDNN; its own oneDNN convolutions are unavailable");
}

OneDnnKernel OneDnnConv::kernel() const { return OneDnnKernel::WinogradF32; }

size_t OneDnnConv::scratchpad_bytes(int64_t, int64_t) const { return 0; }

OneDnnConv::~OneDnnConv() = default;

torch::Tensor OneDnnConv::operator()(const torch::Tensor&, bool) const {
    throw std::runtime_error("this build of stylize has no oneDNN");
}

#endif

}  // namespace stylize::detail
