#include "memory_policy.hpp"

#include <atomic>
#include <mutex>

#include "memory/recycling_allocator.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace stylize::cli {
namespace {

using detail::RecyclingAllocator;

// The process's allocator: made once, never destroyed (tensors freed during
// static destruction still return to it).
RecyclingAllocator* recycler = nullptr;
std::once_flag installed;
std::atomic<int> installed_policy{-1};

}  // namespace

const char* to_string(MemoryPolicy p) { return p == MemoryPolicy::Recycle ? "recycle" : "system"; }

bool install_memory_policy(MemoryPolicy policy) {
    bool first = false;
    std::call_once(installed, [&] {
        first = true;
        installed_policy = static_cast<int>(policy);
        if (policy == MemoryPolicy::Recycle) {
#if defined(__GLIBC__)
            // What stays with glibc (under 1 MiB) stays in its heap: without
            // its dynamic thresholds, which only large frees would raise, it
            // would map and unmap every block from 128 KiB up and trim the
            // heap top after each evaluation (sys time up to 30% at 256 px).
            mallopt(M_MMAP_THRESHOLD, static_cast<int>(RecyclingAllocator::kLargeBytes));
            mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
            recycler = new RecyclingAllocator();
            recycler->install_as_cpu_allocator();
        }
    });
    return first || installed_policy == static_cast<int>(policy);
}

void recycle_idle_memory() {
    if (recycler) recycler->next_window(false);
}

void before_evaluation(int index_in_scale) {
    if (recycler) recycler->next_window(index_in_scale == 0, index_in_scale == 0);
}

double policy_overhead_bytes(MemoryPolicy policy, double estimate) {
    return policy == MemoryPolicy::Recycle ? RecyclingAllocator::overhead_bytes(estimate) : 0.0;
}

void keep_peak_low(bool on) {
    if (recycler) recycler->set_tight(on);
}

void release_idle_memory() {
    if (recycler) recycler->next_window(true);
}

MemoryStats memory_stats() { return recycler ? recycler->stats() : MemoryStats{}; }

bool return_freed_memory_promptly() {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, 1 << 20) == 1;
#else
    return false;
#endif
}

}  // namespace stylize::cli
