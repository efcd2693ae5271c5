#pragma once
// Facts about the runtime that users and benchmarks need to see.
#include <string>
#include <vector>

namespace stylize {

struct BlasInfo {
    std::string library;  ///< resolved path of the loaded libblas, or "" if none is mapped
    bool reference = false;  ///< the slow netlib reference implementation
};

/// Which BLAS the process has loaded (read from /proc/self/maps on Linux).
BlasInfo detect_blas();

/// LibTorch version string, e.g. "1.13.1".
std::string torch_version();

/// oneDNN's version as LibTorch reports it (e.g. "2.6.3"), "" if not built with it.
std::string onednn_version();

/// What the CPU offers for the convolutions: its model name and the vector
/// features that matter here, and the kernel level ATen dispatches to.
struct CpuInfo {
    std::string model;                ///< /proc/cpuinfo "model name"
    std::vector<std::string> features;  ///< of AVX2, AVX-512, AVX512_BF16, AMX (amx_bf16), in that order
    std::string aten_capability;      ///< e.g. "AVX2", "AVX512", "DEFAULT"
};
CpuInfo cpu_info();

/// The CPUs this process may use: those of its affinity mask (taskset,
/// Slurm's CPU binding, a cpuset), and no more than a container's CPU limit
/// (the cgroup's CPU quota, rounded up); at least 1. The default thread
/// count, and the count oneDNN's Winograd kernels are set up for.
int usable_cores();

/// The CPUs a cgroup CPU quota allows, rounded up: from cgroup v2's
/// cpu.max text ("max 100000", "400000 100000") or v1's quota and period
/// ("-1", "100000"); 0 when there is no limit or the text is not one.
int cpu_quota_cores(const std::string& quota, const std::string& period = "");

/// "cpu" plus "cuda:N (name)" for each visible CUDA device.
std::vector<std::string> available_devices();

/// Available system memory in bytes (MemAvailable), or 0 if unknown.
double available_memory_bytes();

/// Peak resident set size of this process so far, in bytes.
double peak_rss_bytes();

}  // namespace stylize
