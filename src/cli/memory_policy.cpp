#include "memory_policy.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>
#include <new>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

namespace stylize::cli {
namespace {

constexpr size_t kLargeBytes = size_t{1} << 20;  // below this, the default allocator

size_t page_rounded(size_t n) {
    static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return (n + page - 1) / page * page;
}

constexpr size_t kHugePage = size_t{2} << 20;
// Idle memory allowed above the largest in-use total, as a fraction of it.
constexpr size_t kSlackDivisor = 8;
constexpr size_t kMaxSlack = size_t{256} << 20;  // and at most this much
// An idle block serves a request it exceeds by at most this fraction.
constexpr size_t kFitDivisor = 8;

// A fresh mapping of `bytes`, 2 MiB aligned and marked for transparent huge
// pages where the kernel offers them (madvise mode): one fault and one
// zeroing per 2 MiB instead of per 4 KiB.
void* map_block(size_t bytes) {
    const bool huge = bytes >= kHugePage;
    const size_t span = huge ? bytes + kHugePage : bytes;
    void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    if (!huge) return raw;
    const auto base = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (base + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1);
    if (aligned > base) munmap(raw, aligned - base);
    const uintptr_t end = base + span, want = aligned + bytes;
    if (end > want) munmap(reinterpret_cast<void*>(want), end - want);
    madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
    return reinterpret_cast<void*>(aligned);
}

// Keeps freed large blocks mapped and hands out the smallest idle one that
// fits (at most an eighth larger than the request). Small
// requests go to c10's own aligned allocation. Some of LibTorch frees
// through raw_deleter() with the data pointer alone, so a block is found
// again by its address.
class RecyclingAllocator final : public c10::Allocator {
public:
    c10::DataPtr allocate(size_t n) const override {
        void* ptr = nullptr;
        if (n < kLargeBytes) {
            ptr = c10::alloc_cpu(n);
        } else {
            size_t bytes = page_rounded(n);
            std::lock_guard<std::mutex> lock(mu_);
            // The smallest idle block that holds the request, unless it is
            // more than an eighth larger (the waste would count as in use).
            auto it = idle_.lower_bound(bytes);
            if (it != idle_.end() && it->first <= bytes + bytes / kFitDivisor) {
                bytes = it->first;
                ptr = it->second.ptr;
                idle_.erase(it);
                idle_bytes_ -= bytes;
                ++reuses_;
            } else {
                // A new mapping: first give back idle blocks (largest first)
                // that would take the mapped total above the most this
                // process has had in use at once plus the slack. Without
                // this, blocks of sizes that are idle at the peak (other
                // layers' sizes, checkpointing's recomputed blocks) held up
                // to 500 MB more at 512 px (docs/BENCHMARKS.md).
                const size_t budget =
                    std::max(peak_live_, live_bytes_ + bytes) + std::min(peak_live_ / kSlackDivisor, kMaxSlack);
                while (!idle_.empty() && mapped_bytes_ + bytes > budget) {
                    auto last = std::prev(idle_.end());
                    munmap(last->second.ptr, last->first);
                    idle_bytes_ -= last->first;
                    mapped_bytes_ -= last->first;
                    ++unmaps_;
                    idle_.erase(last);
                }
                ptr = map_block(bytes);
                mapped_bytes_ += bytes;
                peak_mapped_ = std::max(peak_mapped_, mapped_bytes_);
                ++maps_;
            }
            live_.emplace(ptr, bytes);
            live_bytes_ += bytes;
            peak_live_ = std::max(peak_live_, live_bytes_);
        }
        return {ptr, ptr, &RecyclingAllocator::free_block, c10::Device(c10::DeviceType::CPU)};
    }

    c10::DeleterFnPtr raw_deleter() const override { return &RecyclingAllocator::free_block; }

    // Unmaps idle blocks not handed out since the previous call (all, if `all`).
    void recycle(bool all) const {
        std::vector<std::pair<void*, size_t>> drop;
        {
            std::lock_guard<std::mutex> lock(mu_);
            for (auto it = idle_.begin(); it != idle_.end();) {
                if (all || it->second.epoch < epoch_) {
                    drop.emplace_back(it->second.ptr, it->first);
                    idle_bytes_ -= it->first;
                    mapped_bytes_ -= it->first;
                    ++unmaps_;
                    it = idle_.erase(it);
                } else {
                    ++it;
                }
            }
            ++epoch_;
        }
        for (const auto& [p, b] : drop) munmap(p, b);
    }

    MemoryStats stats() const {
        std::lock_guard<std::mutex> lock(mu_);
        return {mapped_bytes_, idle_bytes_, peak_mapped_, peak_live_, reuses_, maps_, unmaps_};
    }

    static void free_block(void* ptr);

    void set_tight(bool tight) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            tight_ = tight;
        }
        if (tight) recycle(true);
    }

private:
    struct Idle {
        void* ptr;
        uint64_t epoch;  // when it was freed
    };

    void release(void* ptr) const {
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto it = live_.find(ptr);
            if (it != live_.end() && tight_) {
                // Tight: back to the system at once (checkpointed runs,
                // whose point is the lowest peak).
                const size_t bytes = it->second;
                live_bytes_ -= bytes;
                mapped_bytes_ -= bytes;
                ++unmaps_;
                live_.erase(it);
                munmap(ptr, bytes);
                return;
            }
            if (it != live_.end()) {
                idle_.emplace(it->second, Idle{ptr, epoch_});
                idle_bytes_ += it->second;
                live_bytes_ -= it->second;
                live_.erase(it);
                return;
            }
        }
        c10::free_cpu(ptr);
    }

    bool tight_ = false;
    mutable std::mutex mu_;
    mutable std::unordered_map<void*, size_t> live_;  // large blocks handed out
    mutable std::multimap<size_t, Idle> idle_;
    mutable uint64_t epoch_ = 0;
    mutable size_t live_bytes_ = 0, peak_live_ = 0, mapped_bytes_ = 0, idle_bytes_ = 0, peak_mapped_ = 0, reuses_ = 0, maps_ = 0, unmaps_ = 0;
};

// The process's allocator: made once, never destroyed (tensors freed during
// static destruction still return to it).
RecyclingAllocator* recycler = nullptr;
std::once_flag installed;
std::atomic<int> installed_policy{-1};

void RecyclingAllocator::free_block(void* ptr) {
    if (ptr) recycler->release(ptr);
}

}  // namespace

const char* to_string(MemoryPolicy p) { return p == MemoryPolicy::Recycle ? "recycle" : "system"; }

bool install_memory_policy(MemoryPolicy policy) {
#if defined(__SANITIZE_ADDRESS__)
    // Under AddressSanitizer every tensor stays with the sanitizer's own
    // allocator, so that it can check them.
    policy = MemoryPolicy::System;
#endif
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
            mallopt(M_MMAP_THRESHOLD, static_cast<int>(kLargeBytes));
            mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
            recycler = new RecyclingAllocator();
            // Priority above the default's, so that LibTorch uses this one.
            c10::SetCPUAllocator(recycler, 1);
        }
    });
    return first || installed_policy == static_cast<int>(policy);
}

void recycle_idle_memory() {
    if (recycler) recycler->recycle(false);
}

void before_evaluation(int index_in_scale) {
    if (recycler) recycler->recycle(index_in_scale == 0);
}

double policy_overhead_bytes(MemoryPolicy policy, double estimate) {
    if (policy != MemoryPolicy::Recycle) return 0;
    // The idle budget; reusing blocks up to an eighth larger than asked
    // measured another ~8% in use at 512 px, within the estimate's margin.
    return std::min(estimate / kSlackDivisor, 2.0 * static_cast<double>(kMaxSlack));
}

void keep_peak_low(bool on) {
    if (recycler) recycler->set_tight(on);
}

void release_idle_memory() {
    if (recycler) recycler->recycle(true);
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
