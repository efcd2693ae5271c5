#include "stylize/image_io.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <ATen/ATen.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "stylize/errors.hpp"

namespace fs = std::filesystem;

namespace stylize {
namespace {

std::string lower_extension(const std::string& path) {
    auto ext = fs::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ImageError(path + ": cannot open for reading (" + std::strerror(errno) + ")");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw ImageError(path + ": read error");
    return bytes;
}

// (H,W,C) cv::Mat of 8 or 16 bits -> (1,C,H,W) float in [0,1].
at::Tensor mat_to_tensor(const cv::Mat& m) {
    cv::Mat f;
    const double scale = m.depth() == CV_16U ? 1.0 / 65535.0 : (m.depth() == CV_8U ? 1.0 / 255.0 : 1.0);
    m.convertTo(f, CV_32F, scale);
    if (!f.isContinuous()) f = f.clone();
    const int c = f.channels();
    return at::from_blob(f.data, {f.rows, f.cols, c}, at::kFloat).permute({2, 0, 1}).unsqueeze(0).clone();
}

}  // namespace

void check_image_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw ImageError(path + ": no such file");
    if (S_ISDIR(st.st_mode)) throw ImageError(path + ": is a directory, not an image file");
    if (!S_ISREG(st.st_mode)) throw ImageError(path + ": is not a regular file");
    if (st.st_size == 0) throw ImageError(path + ": is empty (0 bytes)");
    if (::access(path.c_str(), R_OK) != 0) throw ImageError(path + ": cannot be read (" + std::strerror(errno) + ")");
}

LoadedImage load_image(const std::string& path, const LoadOptions& options) {
    check_image_file(path);

    const std::string bytes = read_all(path);
    const auto [hh, ww] = read_image_dimensions(bytes.substr(0, std::min<size_t>(bytes.size(), 1 << 16)));
    if (hh * ww > options.max_pixels)
        throw ImageError(path + ": " + std::to_string(ww) + "x" + std::to_string(hh) +
                         " pixels is more than --max-pixels " + std::to_string(options.max_pixels) +
                         "; shrink it first or raise --max-pixels");

    if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0xFF &&
        static_cast<unsigned char>(bytes[1]) == 0xD8) {
        // A JPEG ends with the EOI marker (possibly followed by padding). Without
        // it, libjpeg decodes what is there and fills the rest with grey.
        const auto eoi = bytes.rfind("\xFF\xD9");
        if (eoi == std::string::npos || bytes.size() - eoi > 4096)
            throw ImageError(path + ": truncated JPEG (no end-of-image marker); the file is incomplete");
    }
    const cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    cv::Mat raw, colour;
    try {
        // IMREAD_UNCHANGED keeps alpha and 16 bits but ignores EXIF orientation;
        // the second decode applies the orientation and gives 3 channels.
        raw = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
        if (!raw.empty()) colour = cv::imdecode(buf, cv::IMREAD_COLOR | cv::IMREAD_ANYDEPTH);
    } catch (const cv::Exception& e) {
        throw ImageError(path + ": cannot decode (" + e.err + ")");
    }
    if (raw.empty() || colour.empty())
        throw ImageError(path + ": not a readable image (corrupt, truncated, or an unsupported format)");
    if (static_cast<int64_t>(colour.rows) * colour.cols > options.max_pixels)
        throw ImageError(path + ": " + std::to_string(colour.cols) + "x" + std::to_string(colour.rows) +
                         " pixels is more than --max-pixels " + std::to_string(options.max_pixels));

    LoadedImage img;
    img.channels = raw.channels();
    img.bit_depth = raw.depth() == CV_16U ? 16 : 8;
    if (colour.depth() != CV_8U && colour.depth() != CV_16U) colour.convertTo(colour, CV_8U);
    cv::cvtColor(colour, colour, cv::COLOR_BGR2RGB);
    img.rgb = mat_to_tensor(colour);
    if (raw.channels() == 4 && raw.rows == colour.rows && raw.cols == colour.cols) {
        cv::Mat alpha;
        cv::extractChannel(raw, alpha, 3);
        img.alpha = mat_to_tensor(alpha);
        // Transparent pixels' colour is arbitrary: composite over white.
        img.rgb = img.rgb * img.alpha + (1 - img.alpha);
    }
    return img;
}

OutputFormat output_format(const std::string& path) {
    struct Row {
        const char* extension;
        OutputFormat format;
    };
    static const Row rows[] = {
        {".png", {true, true, true}},    {".jpg", {true, false, false}}, {".jpeg", {true, false, false}},
        {".webp", {true, false, true}},  {".tif", {true, true, true}},   {".tiff", {true, true, true}},
        {".bmp", {true, false, false}},
    };
    const auto ext = lower_extension(path);
    for (const auto& row : rows)
        if (ext == row.extension) return row.format;
    return {};
}

bool is_supported_output(const std::string& path) { return output_format(path).writable; }

std::string opencv_version() { return CV_VERSION; }

namespace {
std::string host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || !name[0]) return "host";
    std::string out(name);
    std::replace(out.begin(), out.end(), '/', '_');
    return out;
}
}  // namespace

int remove_stale_temporaries(const std::string& folder) {
    const std::string host = host_name();
    int removed = 0;
    std::error_code ec;
    for (fs::directory_iterator it(folder.empty() ? "." : folder, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        // .NAME.tmp.HOST.PID.RANDOM
        if (name.size() < 2 || name[0] != '.') continue;
        const auto random_dot = name.rfind('.');
        if (random_dot == std::string::npos || random_dot == 0) continue;
        const auto pid_dot = name.rfind('.', random_dot - 1);
        if (pid_dot == std::string::npos || pid_dot == 0) continue;
        const std::string suffix = ".tmp." + host;
        if (pid_dot < suffix.size() || name.compare(pid_dot - suffix.size(), suffix.size(), suffix) != 0) continue;
        const std::string pid_text = name.substr(pid_dot + 1, random_dot - pid_dot - 1);
        if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
        const long pid = std::stol(pid_text);
        if (pid <= 0 || pid == static_cast<long>(::getpid())) continue;
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // its writer still runs
        std::error_code rm;
        if (fs::remove(it->path(), rm)) ++removed;
    }
    return removed;
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
    const fs::path target(path);
    fs::path dir = target.parent_path();
    if (dir.empty()) dir = ".";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw ImageError(path + ": cannot create folder " + dir.string() + " (" + ec.message() + ")");
    std::random_device rd;
    // ".NAME.tmp.HOST.PID.RANDOM": unique per writer, so two processes
    // writing one file never share a temporary; the host and process say
    // whose it is (remove_stale_temporaries).
    const fs::path tmp = dir / ("." + target.filename().string() + ".tmp." + host_name() + "." +
                                std::to_string(::getpid()) + "." + std::to_string(rd()));
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) throw ImageError(path + ": cannot write in " + dir.string() + " (" + std::strerror(errno) + ")");
    size_t done = 0;
    int err = 0;
    while (done < bytes.size()) {
        const ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            err = errno;
            break;
        }
        done += static_cast<size_t>(w);
    }
    if (!err && ::fsync(fd) != 0) err = errno;
    if (::close(fd) != 0 && !err) err = errno;
    if (!err && ::rename(tmp.c_str(), target.c_str()) != 0) err = errno;
    if (err) {
        ::unlink(tmp.c_str());
        throw ImageError(path + ": write failed (" + std::strerror(err) + "); nothing was written");
    }
}

void save_image(const std::string& path, const torch::Tensor& rgb, const SaveOptions& options,
                const torch::Tensor& alpha) {
    const auto format = output_format(path);
    if (!format.writable)
        throw ImageError(path + ": unsupported output format '" + lower_extension(path) +
                         "' (use .png, .jpg, .webp, .tif or .bmp)");
    if (options.bit_depth != 8 && options.bit_depth != 16)
        throw InvalidArgument("--bit-depth must be 8 or 16, got " + std::to_string(options.bit_depth));
    const auto ext = lower_extension(path);
    const bool sixteen = options.bit_depth == 16;
    if (sixteen && !format.sixteen_bit)
        throw InvalidArgument("--bit-depth 16 needs a .png or .tif output, not " + ext);
    if (!rgb.defined() || rgb.dim() != 4 || rgb.size(1) != 3)
        throw InvalidArgument("save_image: expected a (1,3,H,W) tensor");
    if (!at::isfinite(rgb).all().item<bool>())
        throw RuntimeFailure(path + ": refusing to write an image with NaN or infinite pixels");

    const double maxv = sixteen ? 65535.0 : 255.0;
    auto t = rgb.detach().to(at::kFloat).cpu().clamp(0, 1);
    const bool with_alpha = alpha.defined() && format.alpha;
    if (with_alpha) {
        auto a = alpha.detach().to(at::kFloat).cpu();
        if (a.size(2) != t.size(2) || a.size(3) != t.size(3))
            a = at::adaptive_avg_pool2d(a, {t.size(2), t.size(3)});  // only shrinks in practice
        t = at::cat({t, a.clamp(0, 1)}, 1);
    }
    // RGB(A) -> BGR(A), HWC, rounded to the output depth.
    auto order = with_alpha ? std::vector<int64_t>{2, 1, 0, 3} : std::vector<int64_t>{2, 1, 0};
    t = t.index_select(1, at::tensor(order, at::kLong)).squeeze(0).permute({1, 2, 0}).mul(maxv).round();
    t = (sixteen ? t.to(at::kInt) : t.to(at::kByte)).contiguous();
    const int channels = static_cast<int>(t.size(2));
    cv::Mat mat;
    if (sixteen) {
        cv::Mat m32(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_32SC(channels), t.data_ptr());
        m32.convertTo(mat, CV_16UC(channels));
    } else {
        mat = cv::Mat(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC(channels), t.data_ptr()).clone();
    }
    std::vector<int> params;
    if (ext == ".jpg" || ext == ".jpeg") params = {cv::IMWRITE_JPEG_QUALITY, options.jpeg_quality};
    if (ext == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, 101};  // >100 = lossless
    std::vector<uchar> encoded;
    try {
        if (!cv::imencode(ext, mat, encoded, params))
            throw ImageError(path + ": OpenCV could not encode " + ext);
    } catch (const cv::Exception& e) {
        throw ImageError(path + ": cannot encode (" + e.err + ")");
    }
    write_file_atomically(path, std::string(encoded.begin(), encoded.end()));
}

}  // namespace stylize
