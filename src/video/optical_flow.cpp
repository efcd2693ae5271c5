#include "stylize/optical_flow.hpp"

#include <opencv2/core.hpp>
#include <opencv2/video/tracking.hpp>

#include "stylize/errors.hpp"

namespace stylize {
namespace {

// (1,3,H,W) RGB in [0,1] -> 8-bit luminance (BT.601), as the algorithms want.
cv::Mat to_gray8(const torch::Tensor& rgb) {
    if (!rgb.defined() || rgb.dim() != 4 || rgb.size(0) != 1 || rgb.size(1) != 3)
        throw InvalidArgument("optical flow: frames must be (1,3,H,W) RGB tensors");
    auto y = (rgb[0][0] * 0.299 + rgb[0][1] * 0.587 + rgb[0][2] * 0.114)
                 .mul(255.0)
                 .round()
                 .clamp(0, 255)
                 .to(torch::kCPU)
                 .to(torch::kUInt8)
                 .contiguous();
    cv::Mat m(static_cast<int>(y.size(0)), static_cast<int>(y.size(1)), CV_8UC1, y.data_ptr<uint8_t>());
    return m.clone();
}

class OpenCvFlow final : public OpticalFlow {
public:
    explicit OpenCvFlow(cv::Ptr<cv::DenseOpticalFlow> algorithm) : algorithm_(std::move(algorithm)) {}

    torch::Tensor compute(const torch::Tensor& from, const torch::Tensor& to) override {
        if (from.sizes() != to.sizes()) throw InvalidArgument("optical flow: the two frames differ in size");
        const cv::Mat a = to_gray8(from), b = to_gray8(to);
        cv::Mat flow;  // CV_32FC2, (dx, dy) per pixel
        try {
            algorithm_->calc(a, b, flow);
        } catch (const cv::Exception& e) {
            throw RuntimeFailure("optical flow failed: " + e.err);
        }
        auto t = torch::from_blob(flow.data, {flow.rows, flow.cols, 2}, torch::kFloat).clone();
        return t.permute({2, 0, 1}).unsqueeze(0).contiguous().to(from.device());
    }

private:
    cv::Ptr<cv::DenseOpticalFlow> algorithm_;
};

}  // namespace

const char* to_string(FlowMethod m) { return m == FlowMethod::DIS ? "dis" : "farneback"; }

std::unique_ptr<OpticalFlow> make_optical_flow(FlowMethod method) {
    if (method == FlowMethod::DIS) {
        return std::make_unique<OpenCvFlow>(cv::DISOpticalFlow::create(cv::DISOpticalFlow::PRESET_MEDIUM));
    }
    return std::make_unique<OpenCvFlow>(cv::FarnebackOpticalFlow::create(5, 0.5, false, 15, 3, 5, 1.2, 0));
}

}  // namespace stylize
