#include "thread_pools.hpp"

#include <dlfcn.h>

#include <ATen/Parallel.h>

#include "stylize/runtime_info.hpp"

namespace stylize::cli {
namespace {

using SetThreads = void (*)(int);
using GetThreads = int (*)();

}  // namespace

int set_thread_pools(int threads) {
    // OpenMP's own default can be 1 (it follows OMP_NUM_THREADS or the cgroup
    // quota), so "all usable cores" is set explicitly: those of the affinity
    // mask (a Slurm task's or a container's cpuset), not the whole machine's.
    at::set_num_threads(threads > 0 ? threads : usable_cores());
    if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
    return at::get_num_threads();
}

bool openblas_single_threaded() {
    auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    return get && get() == 1;
}

}  // namespace stylize::cli
