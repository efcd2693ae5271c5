#include "stylize/runtime_info.hpp"

#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <torch/cuda.h>
#include <torch/version.h>

namespace stylize {

BlasInfo detect_blas() {
    BlasInfo info;
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        const auto slash = line.find('/');
        if (slash == std::string::npos) continue;
        const std::string path = line.substr(slash);
        const auto name = std::filesystem::path(path).filename().string();
        if (name.rfind("libblas.so", 0) != 0 && name.rfind("libopenblas", 0) != 0) continue;
        std::error_code ec;
        const auto real = std::filesystem::canonical(path, ec);
        info.library = ec ? path : real.string();
        break;
    }
    // Debian's reference BLAS lives in .../blas/libblas.so.3; OpenBLAS, BLIS and
    // MKL live in folders or files named after themselves.
    const auto& l = info.library;
    info.reference = !l.empty() && l.find("openblas") == std::string::npos && l.find("blis") == std::string::npos &&
                     l.find("mkl") == std::string::npos && l.find("atlas") == std::string::npos;
    return info;
}

std::string torch_version() { return TORCH_VERSION; }

std::vector<std::string> available_devices() {
    std::vector<std::string> out{"cpu"};
    if (torch::cuda::is_available())
        for (size_t i = 0; i < torch::cuda::device_count(); ++i) out.push_back("cuda:" + std::to_string(i));
    return out;
}

double available_memory_bytes() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    double kb = 0;
    std::string unit;
    while (in >> key >> kb >> unit)
        if (key == "MemAvailable:") return kb * 1024.0;
    return 0;
}

double peak_rss_bytes() {
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) * 1024.0;
}

}  // namespace stylize
