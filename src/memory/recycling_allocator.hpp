#pragma once
// A CPU allocator for LibTorch that plans the large blocks of a repeating
// evaluation (docs/ARCHITECTURE.md; the CLI's memory_policy installs one
// process-wide, tests make their own).
//
// An evaluation allocates the same large tensors every time. Large blocks
// (1 MiB and up) come from two places. Once an evaluation has been recorded,
// a plan (arena_plan.hpp) places each of its blocks in one arena, and the
// next evaluations take their blocks from it: the n-th request of a size
// gets the n-th planned block of that size, if no block in use overlaps it
// (a request the plan does not know, or one whose place is taken, falls
// back). The arena is the most bytes in use at once, rounded, and is never
// given back between evaluations: no faults, no zeroing, no idle blocks of
// the wrong size at the peak.
//
// The fallback keeps freed blocks mapped and hands out the smallest idle one
// that fits (at most an eighth larger than the request). While the first
// evaluation of a scale is recorded it keeps no idle blocks beyond the most
// in use at once, so that evaluation does not peak above the plan; in tight
// mode (checkpointed runs) it unmaps every freed block at once. Small
// requests go to c10's own aligned allocation.
//
// Pages come from a PageSource (mmap by default; tests inject their own).
// Under AddressSanitizer, idle ranges (fallback blocks kept mapped, the
// arena's free parts) are poisoned, so instrumented code that touches a
// freed block is caught.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <c10/core/Allocator.h>

#include "memory/arena_plan.hpp"
#include "stylize/memory_stats.hpp"

namespace stylize::detail {

/// Where the allocator gets and returns pages. map throws std::bad_alloc
/// when it cannot; discard gives a range's pages back but keeps it mapped.
struct PageSource {
    std::function<void*(size_t bytes)> map;
    std::function<void(void* ptr, size_t bytes)> unmap;
    std::function<void(void* ptr, size_t bytes)> discard;
};

/// mmap/munmap/madvise(MADV_DONTNEED), 2 MiB aligned with transparent huge
/// pages for blocks of 2 MiB and more.
PageSource system_pages();

class RecyclingAllocator final : public c10::Allocator {
public:
    static constexpr size_t kLargeBytes = size_t{1} << 20;  ///< below this, c10's own allocation
    static constexpr size_t kSlackDivisor = 8;  ///< idle memory allowed: an eighth of the most in use...
    static constexpr size_t kMaxSlack = size_t{256} << 20;  ///< ...and at most this much
    static constexpr size_t kFitDivisor = 8;  ///< an idle block serves a request it exceeds by at most an eighth
    /// Allocations recorded at most per evaluation (a caller that never marks
    /// evaluations restarts the record at this length).
    static constexpr size_t kMaxRecord = size_t{1} << 16;

    explicit RecyclingAllocator(PageSource pages = system_pages());
    ~RecyclingAllocator() override;  ///< unmaps what is idle; blocks still in use stay mapped
    RecyclingAllocator(const RecyclingAllocator&) = delete;
    RecyclingAllocator& operator=(const RecyclingAllocator&) = delete;

    c10::DataPtr allocate(size_t n) const override;
    /// Frees by address alone (c10's deleters get the data pointer only):
    /// the allocator that handed the block out takes it back.
    c10::DeleterFnPtr raw_deleter() const override;

    /// Between evaluations: plans from the evaluation that ended if it
    /// strayed from the plan (or there was none), then unmaps the idle
    /// fallback blocks not handed out since the previous call. `fresh` (a
    /// new scale or job): forgets the plan and the record, and unmaps every
    /// idle block and the arena; `recording_first`: the next evaluation is a
    /// scale's first, recorded without slack.
    void next_window(bool fresh, bool recording_first = false) const;

    /// Tight: every freed fallback block is unmapped at once (and the idle
    /// ones now).
    void set_tight(bool tight);

    MemoryStats stats() const;

    /// The idle memory this allocator may hold above a run's estimated need.
    static double overhead_bytes(double need);

    /// Makes this allocator LibTorch's CPU allocator; returns the one it
    /// replaces. For the rest of the process (the CLI: it must then never be
    /// destroyed), or until restore_cpu_allocator (tests).
    c10::Allocator* install_as_cpu_allocator();
    /// Gives LibTorch back `previous`. Blocks this allocator handed out
    /// still come back to it when freed, so it must outlive them.
    void restore_cpu_allocator(c10::Allocator* previous);

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
        Arena* arena;      // null: a fallback block
        uint64_t window;   // the window it was allocated in
        size_t record;     // its index in that window's record
    };
    static void free_by_address(void* ptr);
    /// Takes back a block this allocator handed out; false (nothing done)
    /// for any other pointer. One lock per free.
    bool try_release(void* ptr) const;
    void* from_arena(size_t bytes) const;
    void* from_fallback(size_t& bytes) const;
    void restart_record() const;
    void make_plan() const;
    void forget_plan() const;
    void retire_arena() const;
    void unmap_arena(Arena* a) const;
    void drop_idle() const;
    void unmap_block(void* ptr, size_t bytes) const;
    void note_mapped() const { peak_mapped_ = std::max(peak_mapped_, mapped_bytes_ + arena_mapped_); }

    PageSource pages_;
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
    mutable std::unordered_map<size_t, std::vector<size_t>> planned_by_size_;  // size -> its blocks in the plan
    mutable Arena* arena_ = nullptr;
    mutable size_t window_misses_ = 0, arena_hits_ = 0, arena_misses_ = 0, plans_ = 0, arena_mapped_ = 0;
    mutable size_t live_bytes_ = 0, peak_live_ = 0, mapped_bytes_ = 0, idle_bytes_ = 0, peak_mapped_ = 0,
                   reuses_ = 0, maps_ = 0, unmaps_ = 0;
};

}  // namespace stylize::detail
