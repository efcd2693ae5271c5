#include "stylize/runtime_info.hpp"

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <torch/cuda.h>
#include <torch/version.h>
#include <ATen/Version.h>

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

std::string onednn_version() {
    // show_config() has a line " - Intel(R) MKL-DNN v2.6.3 (...)" or "oneDNN v3.x".
    const std::string config = at::show_config();
    for (const char* key : {"MKL-DNN v", "oneDNN v"}) {
        const auto at = config.find(key);
        if (at == std::string::npos) continue;
        const auto start = at + std::strlen(key);
        return config.substr(start, config.find_first_of(" \n", start) - start);
    }
    return "";
}

CpuInfo cpu_info() {
    CpuInfo info;
    std::ifstream in("/proc/cpuinfo");
    std::string flags;
    for (std::string line; std::getline(in, line);) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        const auto key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
        if (key == "model name" && info.model.empty()) info.model = line.substr(line.find_first_not_of(' ', colon + 1));
        if (key == "flags" && flags.empty()) flags = " " + line.substr(colon + 1) + " ";
        if (!info.model.empty() && !flags.empty()) break;
    }
    auto has = [&](const char* f) { return flags.find(" " + std::string(f) + " ") != std::string::npos; };
    if (has("avx2")) info.features.emplace_back("AVX2");
    if (has("avx512f")) info.features.emplace_back("AVX-512");
    if (has("avx512_bf16")) info.features.emplace_back("AVX512_BF16");
    if (has("amx_bf16")) info.features.emplace_back("AMX");
    // show_config() has " - CPU capability usage: AVX2".
    const std::string config = at::show_config();
    const std::string key = "CPU capability usage: ";
    const auto at = config.find(key);
    info.aten_capability = at == std::string::npos
                                ? "unknown"
                                : config.substr(at + key.size(), config.find('\n', at) - at - key.size());
    return info;
}

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

int cpu_quota_cores(const std::string& quota, const std::string& period) {
    std::istringstream in(period.empty() ? quota : quota + " " + period);
    std::string q, p;
    if (!(in >> q >> p)) return 0;
    try {
        size_t used_q = 0, used_p = 0;
        const double qv = std::stod(q, &used_q), pv = std::stod(p, &used_p);
        if (used_q != q.size() || used_p != p.size() || qv <= 0 || pv <= 0) return 0;  // "max", -1
        return std::max(1, static_cast<int>(std::ceil(qv / pv - 1e-9)));
    } catch (const std::exception&) {
        return 0;
    }
}

namespace {

std::string first_line(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    return line;
}

// The tightest CPU quota over this process's cgroup and its ancestors
// (cgroup v2), or of the v1 cpu controller's mount; 0 if none.
int cgroup_quota_cores() {
    int tightest = 0;
    auto take = [&](int cores) {
        if (cores > 0 && (tightest == 0 || cores < tightest)) tightest = cores;
    };
    std::ifstream groups("/proc/self/cgroup");
    for (std::string line; std::getline(groups, line);) {
        if (line.rfind("0::", 0) == 0) {  // v2: walk up from this cgroup to the root
            std::filesystem::path dir = std::filesystem::path("/sys/fs/cgroup") / line.substr(4);
            for (int depth = 0; depth < 64; ++depth, dir = dir.parent_path()) {
                take(cpu_quota_cores(first_line(dir / "cpu.max")));
                if (dir == "/sys/fs/cgroup" || dir == dir.parent_path()) break;
            }
        }
    }
    for (const char* v1 : {"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"})
        take(cpu_quota_cores(first_line(std::filesystem::path(v1) / "cpu.cfs_quota_us"),
                             first_line(std::filesystem::path(v1) / "cpu.cfs_period_us")));
    return tightest;
}

}  // namespace

int usable_cores() {
    int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) cores = CPU_COUNT(&set);
    if (const int quota = cgroup_quota_cores(); quota > 0) cores = std::min(cores, quota);
    return cores;
}

double peak_rss_bytes() {
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) * 1024.0;
}

}  // namespace stylize
