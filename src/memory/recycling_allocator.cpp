#include "memory/recycling_allocator.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <new>
#include <shared_mutex>

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#if defined(__SANITIZE_ADDRESS__)
#define STYLIZE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STYLIZE_ASAN 1
#endif
#endif
#if defined(STYLIZE_ASAN)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace stylize::detail {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

size_t page_rounded(size_t n) {
    static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return (n + page - 1) / page * page;
}

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

// The allocators alive, for frees by address: c10 hands a deleter the data
// pointer alone (and raw_allocate requires the context to be it), so the
// block's owner is found by asking each allocator whether it handed it out.
std::shared_mutex registry_mutex;  // frees share it; allocators made or destroyed take it alone
std::vector<const RecyclingAllocator*>& registry() {
    static std::vector<const RecyclingAllocator*> allocators;
    return allocators;
}

}  // namespace

PageSource system_pages() {
    return {map_block, [](void* p, size_t n) { munmap(p, n); },
            [](void* p, size_t n) { madvise(p, n, MADV_DONTNEED); }};
}

RecyclingAllocator::RecyclingAllocator(PageSource pages) : pages_(std::move(pages)) {
    std::unique_lock<std::shared_mutex> lock(registry_mutex);
    registry().push_back(this);
}

RecyclingAllocator::~RecyclingAllocator() {
    {
        std::unique_lock<std::shared_mutex> lock(registry_mutex);
        auto& r = registry();
        r.erase(std::remove(r.begin(), r.end(), this), r.end());
    }
    std::lock_guard<std::mutex> lock(mu_);
    drop_idle();
    if (arena_ && arena_->live_blocks == 0) unmap_arena(arena_);
}

double RecyclingAllocator::overhead_bytes(double need) {
    // The idle budget; reusing blocks up to an eighth larger than asked
    // measured another ~8% in use at 512 px, within the estimate's margin.
    return std::min(need / kSlackDivisor, 2.0 * static_cast<double>(kMaxSlack));
}

c10::Allocator* RecyclingAllocator::install_as_cpu_allocator() {
    c10::Allocator* previous = c10::GetCPUAllocator();
    c10::SetCPUAllocator(this, 1);  // priority above the default's, so that LibTorch uses this one
    return previous;
}

void RecyclingAllocator::restore_cpu_allocator(c10::Allocator* previous) { c10::SetCPUAllocator(previous, 1); }

c10::DataPtr RecyclingAllocator::allocate(size_t n) const {
    const c10::Device cpu(c10::DeviceType::CPU);
    if (n < kLargeBytes) {
        void* small = c10::alloc_cpu(n);
        return {small, small, &c10::free_cpu, cpu};
    }
    const size_t want = page_rounded(n);
    void* ptr = nullptr;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (recording_.size() >= kMaxRecord) restart_record();  // no windows (no hooks): nothing to plan
        const size_t record = recording_.size();
        try {
            ptr = from_arena(want);
            if (ptr) {
                live_.emplace(ptr, Live{want, want, arena_, window_, record});
            } else {
                size_t bytes = want;
                ptr = from_fallback(bytes);
                live_.emplace(ptr, Live{want, bytes, nullptr, window_, record});
                live_bytes_ += bytes;
                peak_live_ = std::max(peak_live_, live_bytes_);
            }
        } catch (...) {  // no memory (the arena's or a block's mapping failed): as if never asked
            --seen_[want];
            throw;
        }
        recording_.push_back(BlockLife{want, clock_++});
        in_use_ += want;
        peak_in_use_ = std::max(peak_in_use_, in_use_);
    }
    return {ptr, ptr, &RecyclingAllocator::free_by_address, cpu};
}

c10::DeleterFnPtr RecyclingAllocator::raw_deleter() const { return &RecyclingAllocator::free_by_address; }

void RecyclingAllocator::free_by_address(void* ptr) {
    if (!ptr) return;
    {
        std::shared_lock<std::shared_mutex> lock(registry_mutex);
        for (const auto* a : registry())
            if (a->try_release(ptr)) return;
    }
    c10::free_cpu(ptr);  // a small block from raw_allocate
}

void RecyclingAllocator::next_window(bool fresh, bool recording_first) const {
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
            idle_bytes_ -= it->first;
            mapped_bytes_ -= it->first;
            unmap_block(it->second.ptr, it->first);
            it = idle_.erase(it);
        } else {
            ++it;
        }
    }
    ++epoch_;
}

void RecyclingAllocator::set_tight(bool tight) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        tight_ = tight;
    }
    if (tight) next_window(true);
}

MemoryStats RecyclingAllocator::stats() const {
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

// The planned block for the next request of `bytes`, or null.
void* RecyclingAllocator::from_arena(size_t bytes) const {
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
        char* base = static_cast<char*>(pages_.map(plan_.arena_bytes));  // may throw: nothing changed yet
        drop_idle();  // the arena replaces what the fallback keeps idle
        arena_ = new Arena();
        arena_->bytes = plan_.arena_bytes;
        arena_->base = base;
        arena_mapped_ += arena_->bytes;
        ++maps_;
        POISON(base, arena_->bytes);
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
    UNPOISON(arena_->base + offset, bytes);
    return arena_->base + offset;
}

void* RecyclingAllocator::from_fallback(size_t& bytes) const {
    // The smallest idle block that holds the request, unless it is more
    // than an eighth larger (the waste would count as in use).
    auto it = idle_.lower_bound(bytes);
    if (it != idle_.end() && it->first <= bytes + bytes / kFitDivisor) {
        bytes = it->first;
        void* ptr = it->second.ptr;
        idle_.erase(it);
        idle_bytes_ -= bytes;
        ++reuses_;
        UNPOISON(ptr, bytes);
        return ptr;
    }
    // A new mapping: first give back idle blocks (largest first) that would
    // take the mapped total above the most in use at once plus the slack.
    // Without this, blocks of sizes that are idle at the peak held up to
    // 500 MB more at 512 px (docs/BENCHMARKS.md). While the first evaluation
    // is recorded, no slack: it then peaks no higher than what it has in
    // use, and so no higher than the plan.
    const size_t slack = lean_ ? 0 : std::min(peak_live_ / kSlackDivisor, kMaxSlack);
    const size_t budget = std::max(peak_live_, live_bytes_ + bytes) + slack;
    while (!idle_.empty() && mapped_bytes_ + bytes > budget) {
        auto last = std::prev(idle_.end());
        idle_bytes_ -= last->first;
        mapped_bytes_ -= last->first;
        unmap_block(last->second.ptr, last->first);
        idle_.erase(last);
    }
    void* ptr = pages_.map(bytes);  // may throw
    mapped_bytes_ += bytes;
    ++maps_;
    note_mapped();
    return ptr;
}

bool RecyclingAllocator::try_release(void* ptr) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(ptr);
    if (it == live_.end()) return false;
    const Live block = it->second;
    live_.erase(it);
    in_use_ -= block.requested;
    if (block.window == window_) recording_[block.record].freed_at = clock_++;
    if (block.arena) {
        Arena* a = block.arena;
        a->in_use.erase(static_cast<size_t>(static_cast<char*>(ptr) - a->base));
        POISON(ptr, block.requested);
        if (--a->live_blocks == 0 && a->retired) unmap_arena(a);
        return true;
    }
    live_bytes_ -= block.bytes;
    if (tight_) {
        // Back to the system at once: checkpointed runs, whose point is the
        // lowest peak.
        mapped_bytes_ -= block.bytes;
        unmap_block(ptr, block.bytes);
    } else {
        idle_.emplace(block.bytes, Idle{ptr, epoch_});
        idle_bytes_ += block.bytes;
        POISON(ptr, block.bytes);
    }
    return true;
}

void RecyclingAllocator::restart_record() const {
    record_restarted_ = !recording_.empty();
    recording_.clear();
    seen_.clear();
    ++window_;
}

void RecyclingAllocator::make_plan() const {
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

void RecyclingAllocator::forget_plan() const {
    plan_ = ArenaPlan{};
    planned_by_size_.clear();
    if (arena_) retire_arena();
}

void RecyclingAllocator::retire_arena() const {
    arena_->retired = true;
    if (arena_->live_blocks == 0) {
        unmap_arena(arena_);
    } else {
        // Blocks still alive (a tensor kept past the evaluation that was
        // planned to free it, say a next scale's target) keep the mapping
        // until they go; the rest of it goes back to the system now.
        size_t from = 0;
        for (const auto& [start, end] : arena_->in_use) {
            if (start > from) pages_.discard(arena_->base + from, start - from);
            from = std::max(from, end);
        }
        if (arena_->bytes > from) pages_.discard(arena_->base + from, arena_->bytes - from);
    }
    arena_ = nullptr;
}

void RecyclingAllocator::unmap_arena(Arena* a) const {
    arena_mapped_ -= a->bytes;
    unmap_block(a->base, a->bytes);
    delete a;
}

void RecyclingAllocator::drop_idle() const {
    for (const auto& [bytes, block] : idle_) {
        mapped_bytes_ -= bytes;
        unmap_block(block.ptr, bytes);
    }
    idle_.clear();
    idle_bytes_ = 0;
}

void RecyclingAllocator::unmap_block(void* ptr, size_t bytes) const {
    UNPOISON(ptr, bytes);  // the range may be mapped again for something else
    pages_.unmap(ptr, bytes);
    ++unmaps_;
}

}  // namespace stylize::detail
