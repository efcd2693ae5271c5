#include "reproducible_mode.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace stylize::cli {
namespace {

// The environment each library reads its instruction-set cap from.
struct Cap {
    const char* variable;
    const char* value;
};
constexpr Cap kCaps[] = {
    {"ATEN_CPU_CAPABILITY", "avx2"},   // ATen's kernel dispatch
    {"ONEDNN_MAX_CPU_ISA", "AVX2"},    // oneDNN 2.x
    {"DNNL_MAX_CPU_ISA", "AVX2"},      // its older name
    {"OPENBLAS_CORETYPE", "Haswell"},  // OpenBLAS (DYNAMIC_ARCH builds), read when it is loaded
};
constexpr const char* kMarker = "STYLIZE_REPRODUCIBLE";

}  // namespace

bool wants_reproducible(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--reproducible") == 0) return true;
    return false;
}

bool reproducible_caps_in_place() {
    const char* m = std::getenv(kMarker);
    if (!m || std::strcmp(m, "1") != 0) return false;
    for (const auto& c : kCaps) {
        const char* v = std::getenv(c.variable);
        if (!v || std::strcmp(v, c.value) != 0) return false;
    }
    return true;
}

std::string enter_reproducible_mode(char** argv) {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return "--reproducible needs a CPU with AVX2 and FMA; this one has not";
    for (const auto& c : kCaps) setenv(c.variable, c.value, 1);
    setenv(kMarker, "1", 1);
    execv("/proc/self/exe", argv);
    return std::string("--reproducible: cannot restart the program (") + std::strerror(errno) + ")";
}

std::string reproducible_caps() {
    if (!reproducible_caps_in_place()) return "";
    return "ATen avx2, oneDNN AVX2, OpenBLAS Haswell, direct convolutions";
}

}  // namespace stylize::cli
