#include "stylize/loss_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"

namespace stylize {
namespace {

std::vector<double> moving_average(const std::vector<double>& v, int window) {
    std::vector<double> out(v.size());
    double sum = 0;
    int count = 0;
    for (size_t i = 0; i < v.size(); ++i) {
        sum += v[i];
        ++count;
        if (count > window) {
            sum -= v[i - static_cast<size_t>(window)];
            --count;
        }
        out[i] = sum / count;
    }
    return out;
}

}  // namespace

void save_loss_plot(const std::string& path, const std::vector<PlotSeries>& series, int smooth, int width,
                    int height) {
    const cv::Scalar colours[] = {{0, 0, 0}, {200, 80, 0}, {0, 120, 220}, {40, 160, 40}, {160, 0, 160}};
    cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
    const int left = 70, right = 150, top = 20, bottom = 40;
    const int pw = width - left - right, ph = height - top - bottom;
    size_t steps = 1;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& s : series) {
        steps = std::max(steps, s.values.size());
        for (double v : s.values)
            if (v > 0 && std::isfinite(v)) lo = std::min(lo, std::log10(v)), hi = std::max(hi, std::log10(v));
    }
    if (!(lo <= hi)) lo = -1, hi = 1;
    lo = std::floor(lo), hi = std::ceil(hi);
    if (hi <= lo) hi = lo + 1;
    auto px = [&](size_t i) { return left + static_cast<int>(std::lround(pw * (steps > 1 ? double(i) / double(steps - 1) : 0.0))); };
    auto py = [&](double v) { return top + static_cast<int>(std::lround(ph * (hi - std::log10(v)) / (hi - lo))); };
    cv::rectangle(img, {left, top}, {left + pw, top + ph}, {0, 0, 0});
    for (double d = lo; d <= hi; d += 1) {
        const int y = py(std::pow(10.0, d));
        cv::line(img, {left, y}, {left + pw, y}, {225, 225, 225});
        char label[32];
        std::snprintf(label, sizeof label, "1e%+d", static_cast<int>(d));
        cv::putText(img, label, {6, y + 5}, cv::FONT_HERSHEY_SIMPLEX, 0.45, {0, 0, 0}, 1, cv::LINE_AA);
    }
    char steps_label[48];
    std::snprintf(steps_label, sizeof steps_label, "step %zu", steps);
    cv::putText(img, "step 1", {left, height - 12}, cv::FONT_HERSHEY_SIMPLEX, 0.45, {0, 0, 0}, 1, cv::LINE_AA);
    cv::putText(img, steps_label, {left + pw - 70, height - 12}, cv::FONT_HERSHEY_SIMPLEX, 0.45, {0, 0, 0}, 1,
                cv::LINE_AA);
    for (size_t k = 0; k < series.size(); ++k) {
        const auto& colour = colours[k % 5];
        const auto avg = moving_average(series[k].values, std::max(1, smooth));
        std::vector<cv::Point> line;
        for (size_t i = 0; i < avg.size(); ++i)
            if (avg[i] > 0 && std::isfinite(avg[i])) line.emplace_back(px(i), py(avg[i]));
        if (line.size() > 1) cv::polylines(img, line, false, colour, 2, cv::LINE_AA);
        const int y = top + 20 + 22 * static_cast<int>(k);
        cv::line(img, {left + pw + 12, y - 5}, {left + pw + 36, y - 5}, colour, 2);
        cv::putText(img, series[k].name, {left + pw + 42, y}, cv::FONT_HERSHEY_SIMPLEX, 0.5, {0, 0, 0}, 1, cv::LINE_AA);
    }
    std::vector<uchar> bytes;
    if (!cv::imencode(".png", img, bytes)) throw ImageError(path + ": cannot encode the loss plot");
    write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
}

void save_picture_row(const std::string& path, const std::vector<LabelledImage>& pictures, int height) {
    const int label_h = 22, gap = 6;
    std::vector<cv::Mat> tiles;
    int width = gap;
    for (const auto& p : pictures) {
        const auto t = p.image.squeeze(0).permute({1, 2, 0}).clamp(0, 1).mul(255).round().to(torch::kU8).contiguous();
        cv::Mat rgb(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC3, t.data_ptr()), bgr, scaled;
        cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
        const int w = std::max(1, static_cast<int>(std::lround(double(bgr.cols) * height / bgr.rows)));
        cv::resize(bgr, scaled, {w, height}, 0, 0, cv::INTER_AREA);
        tiles.push_back(scaled);
        width += w + gap;
    }
    cv::Mat sheet(height + label_h + gap, width, CV_8UC3, cv::Scalar(255, 255, 255));
    int x = gap;
    for (size_t i = 0; i < tiles.size(); ++i) {
        tiles[i].copyTo(sheet(cv::Rect(x, label_h, tiles[i].cols, tiles[i].rows)));
        cv::putText(sheet, pictures[i].label, {x, label_h - 7}, cv::FONT_HERSHEY_SIMPLEX, 0.45, {0, 0, 0}, 1,
                    cv::LINE_AA);
        x += tiles[i].cols + gap;
    }
    std::vector<uchar> bytes;
    if (!cv::imencode(".png", sheet, bytes)) throw ImageError(path + ": cannot encode the picture sheet");
    write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace stylize
