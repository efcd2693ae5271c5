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

#include "arena_plan.hpp"

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
// Allocations recorded at most per evaluation (a caller that never marks
// evaluations, as stylize apply, restarts the record at this length).
constexpr size_t kMaxRecord = size_t{1} << 16;

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

// Large blocks (1 MiB and up) come from two places. Once an evaluation has
// been recorded, a plan (arena_plan.hpp) places each of its blocks in one
// arena, and the next evaluations take their blocks from it: the n-th
// request of a size gets the n-th planned block of that size, if no block in
// use overlaps it (a request the plan does not know, or one whose place is
// taken, falls back). The arena is the most bytes in use at once, rounded,
// and is never given back between evaluations: no faults, no zeroing, no
// idle blocks of the wrong size at the peak.
//
// The fallback keeps freed blocks mapped and hands out the smallest idle one
// that fits (at most an eighth larger than the request). While the first
// evaluation of a scale is recorded it keeps no idle blocks beyond the most
// in use at once, so that evaluation does not peak above the plan; in
// checkpointed runs it unmaps every freed block at once. Small requests go
// to c10's own aligned allocation. Some of LibTorch frees through
// raw_deleter() with the data pointer alone, so a block is found again by
// its address.
class RecyclingAllocator final : public c10::Allocator {
public:
    c10::DataPtr allocate(size_t n) const override {
        void* ptr = nullptr;
        if (n < kLargeBytes) {
            ptr = c10::alloc_cpu(n);
        } else {
            const size_t want = page_rounded(n);
            std::lock_guard<std::mutex> lock(mu_);
            if (recording_.size() >= kMaxRecord) restart_record();  // no windows (no hooks): nothing to plan
            const size_t record = recording_.size();
            recording_.push_back(BlockLife{want, clock_++});
            ptr = from_arena(want);
            if (ptr) {
                live_.emplace(ptr, Live{want, want, arena_, window_, record});
            } else {
                size_t bytes = want;
                ptr = from_fallback(bytes);  // may throw
                live_.emplace(ptr, Live{want, bytes, nullptr, window_, record});
                live_bytes_ += bytes;
                peak_live_ = std::max(peak_live_, live_bytes_);
            }
            in_use_ += want;
            peak_in_use_ = std::max(peak_in_use_, in_use_);
        }
        return {ptr, ptr, &RecyclingAllocator::free_block, c10::Device(c10::DeviceType::CPU)};
    }

    c10::DeleterFnPtr raw_deleter() const override { return &RecyclingAllocator::free_block; }

    // Between evaluations: plans from the evaluation that ended if it
    // strayed from the plan (or there was none), then unmaps the idle
    // fallback blocks not handed out since the previous call. `fresh`
    // (a new scale or job): forgets the plan and the record, and unmaps
    // every idle block and the arena.
    void next_window(bool fresh, bool recording_first = false) const {
        std::vector<std::pair<void*, size_t>> drop;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (fresh) {
                forget_plan();
                lean_ = recording_first;
            } else if (!recording_.empty() && !record_restarted_ && (plan_.offsets.empty() || window_misses_ > 0)) {
                make_plan();
            }
            restart_record();
            record_restarted_ = false;
            window_misses_ = 0;
            for (auto it = idle_.begin(); it != idle_.end();) {
                if (fresh || it->second.epoch < epoch_) {
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
        MemoryStats s;
        s.mapped_bytes = mapped_bytes_ + arena_mapped_;
        s.idle_bytes = idle_bytes_;
        s.peak_mapped_bytes = peak_mapped_;
        s.peak_live_bytes = peak_in_use_;
        s.reuses = reuses_;
        s.maps = maps_;
        s.unmaps = unmaps_;
        s.arena_bytes = arena_ ? arena_->bytes : 0;
        s.planned_peak_live_bytes = plan_.peak_live_bytes;
        s.arena_hits = arena_hits_;
        s.arena_misses = arena_misses_;
        s.plans = plans_;
        return s;
    }

    static void free_block(void* ptr);

    void set_tight(bool tight) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            tight_ = tight;
        }
        if (tight) next_window(true);
    }

private:
    struct Idle {
        void* ptr;
        uint64_t epoch;  // when it was freed
    };
    struct Arena {
        char* base = nullptr;
        size_t bytes = 0;
        size_t live_blocks = 0;
        bool retired = false;
        std::map<size_t, size_t> in_use;  // offset -> end of the blocks handed out
    };
    struct Live {
        size_t requested;  // page rounded
        size_t bytes;      // of the block (a reused fallback block may be larger)
        Arena* arena;     // null: a fallback block
        uint64_t window;  // the window it was allocated in
        size_t record;    // its index in that window's record
    };

    // The planned block for the next request of `bytes`, or null.
    void* from_arena(size_t bytes) const {
        const size_t nth = seen_[bytes]++;
        if (plan_.offsets.empty()) return nullptr;
        const auto planned = planned_by_size_.find(bytes);
        if (planned == planned_by_size_.end() || nth >= planned->second.size()) {
            ++window_misses_;
            ++arena_misses_;
            return nullptr;
        }
        const size_t offset = plan_.offsets[planned->second[nth]];
        if (offset == ArenaPlan::kUnplanned) return nullptr;  // outlived the recorded evaluation: as planned
        if (!arena_) {
            // The arena replaces what the fallback keeps idle.
            drop_idle();
            char* base = static_cast<char*>(map_block(plan_.arena_bytes));  // may throw: nothing changed yet
            arena_ = new Arena();
            arena_->bytes = plan_.arena_bytes;
            arena_->base = base;
            arena_mapped_ += arena_->bytes;
            ++maps_;
        }
        auto& in_use = arena_->in_use;
        auto next = in_use.lower_bound(offset + bytes);
        if (next != in_use.begin() && std::prev(next)->second > offset) {
            ++window_misses_;  // its place is taken (freed later than recorded)
            ++arena_misses_;
            return nullptr;
        }
        in_use.emplace(offset, offset + bytes);
        ++arena_->live_blocks;
        ++arena_hits_;
        note_mapped();
        return arena_->base + offset;
    }

    void* from_fallback(size_t& bytes) const {
        // The smallest idle block that holds the request, unless it is more
        // than an eighth larger (the waste would count as in use).
        auto it = idle_.lower_bound(bytes);
        if (it != idle_.end() && it->first <= bytes + bytes / kFitDivisor) {
            bytes = it->first;
            void* ptr = it->second.ptr;
            idle_.erase(it);
            idle_bytes_ -= bytes;
            ++reuses_;
            return ptr;
        }
        // A new mapping: first give back idle blocks (largest first) that
        // would take the mapped total above the most in use at once plus the
        // slack. Without this, blocks of sizes that are idle at the peak held
        // up to 500 MB more at 512 px (docs/BENCHMARKS.md).
        // While the first evaluation is recorded, no slack: it then peaks
        // no higher than what it has in use, and so no higher than the plan.
        const size_t slack = lean_ ? 0 : std::min(peak_live_ / kSlackDivisor, kMaxSlack);
        const size_t budget = std::max(peak_live_, live_bytes_ + bytes) + slack;
        while (!idle_.empty() && mapped_bytes_ + bytes > budget) {
            auto last = std::prev(idle_.end());
            munmap(last->second.ptr, last->first);
            idle_bytes_ -= last->first;
            mapped_bytes_ -= last->first;
            ++unmaps_;
            idle_.erase(last);
        }
        void* ptr = map_block(bytes);
        mapped_bytes_ += bytes;
        ++maps_;
        note_mapped();
        return ptr;
    }

    void release(void* ptr) const {
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto it = live_.find(ptr);
            if (it == live_.end()) {
                // Not large: c10's own.
            } else {
                const Live block = it->second;
                live_.erase(it);
                in_use_ -= recording_bytes(block);
                if (block.window == window_) recording_[block.record].freed_at = clock_++;
                if (block.arena) {
                    Arena* a = block.arena;
                    a->in_use.erase(static_cast<size_t>(static_cast<char*>(ptr) - a->base));
                    if (--a->live_blocks == 0 && a->retired) unmap_arena(a);
                    return;
                }
                live_bytes_ -= block.bytes;
                if (tight_) {
                    // Back to the system at once: checkpointed runs, whose
                    // point is the lowest peak.
                    mapped_bytes_ -= block.bytes;
                    ++unmaps_;
                    munmap(ptr, block.bytes);
                } else {
                    idle_.emplace(block.bytes, Idle{ptr, epoch_});
                    idle_bytes_ += block.bytes;
                }
                return;
            }
        }
        c10::free_cpu(ptr);
    }

    void restart_record() const {
        record_restarted_ = !recording_.empty();
        recording_.clear();
        seen_.clear();
        ++window_;
    }

    void make_plan() const {
        plan_ = plan_arena(recording_, page_rounded(1));
        lean_ = false;
        planned_by_size_.clear();
        for (size_t i = 0; i < recording_.size(); ++i) planned_by_size_[recording_[i].bytes].push_back(i);
        ++plans_;
        // Keep the arena if the new plan fits it without much to spare and
        // nothing in it is in use; otherwise a new one at the first request.
        if (arena_ && (arena_->live_blocks > 0 || arena_->bytes < plan_.arena_bytes ||
                       arena_->bytes > plan_.arena_bytes + plan_.arena_bytes / kFitDivisor))
            retire_arena();
        if (plan_.arena_bytes == 0) forget_plan();
    }

    void forget_plan() const {
        plan_ = ArenaPlan{};
        planned_by_size_.clear();
        if (arena_) retire_arena();
    }

    void retire_arena() const {
        arena_->retired = true;
        if (arena_->live_blocks == 0) {
            unmap_arena(arena_);
        } else {
            // Blocks still alive (a tensor kept past the evaluation that was
            // planned to free it, say a next scale's target) keep the mapping
            // until they go; the rest of it goes back to the system now.
            size_t from = 0;
            for (const auto& [start, end] : arena_->in_use) {
                if (start > from) madvise(arena_->base + from, start - from, MADV_DONTNEED);
                from = std::max(from, end);
            }
            if (arena_->bytes > from) madvise(arena_->base + from, arena_->bytes - from, MADV_DONTNEED);
        }
        arena_ = nullptr;
    }

    void unmap_arena(Arena* a) const {
        munmap(a->base, a->bytes);
        arena_mapped_ -= a->bytes;
        ++unmaps_;
        delete a;
    }

    void drop_idle() const {
        for (const auto& [bytes, block] : idle_) {
            munmap(block.ptr, bytes);
            mapped_bytes_ -= bytes;
            ++unmaps_;
        }
        idle_.clear();
        idle_bytes_ = 0;
    }

    void note_mapped() const { peak_mapped_ = std::max(peak_mapped_, mapped_bytes_ + arena_mapped_); }

    static size_t recording_bytes(const Live& b) { return b.requested; }

    bool tight_ = false;
    mutable bool lean_ = false, record_restarted_ = false;  // lean_: recording a scale's first evaluation
    mutable size_t in_use_ = 0, peak_in_use_ = 0;  // large bytes requested (page rounded), arena and fallback
    mutable std::mutex mu_;
    mutable std::unordered_map<void*, Live> live_;  // large blocks handed out
    mutable std::multimap<size_t, Idle> idle_;      // the fallback's idle blocks
    mutable uint64_t epoch_ = 0;
    // The plan: the current window's record, and the plan made from an earlier one.
    mutable std::vector<BlockLife> recording_;
    mutable uint64_t clock_ = 0, window_ = 0;
    mutable std::unordered_map<size_t, size_t> seen_;  // requests of each size in this window
    mutable ArenaPlan plan_;
    mutable std::unordered_map<size_t, std::vector<size_t>> planned_by_size_;  // size -> its blocks in the plan, in order
    mutable Arena* arena_ = nullptr;
    mutable size_t window_misses_ = 0, arena_hits_ = 0, arena_misses_ = 0, plans_ = 0, arena_mapped_ = 0;
    mutable size_t live_bytes_ = 0, peak_live_ = 0, mapped_bytes_ = 0, idle_bytes_ = 0, peak_mapped_ = 0, reuses_ = 0,
                   maps_ = 0, unmaps_ = 0;
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
    if (recycler) recycler->next_window(false);
}

void before_evaluation(int index_in_scale) {
    if (recycler) recycler->next_window(index_in_scale == 0, index_in_scale == 0);
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
