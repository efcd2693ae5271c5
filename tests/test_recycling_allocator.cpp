// The recycling allocator on its own, with pages from a test source that
// counts every mapping and can refuse: record, plan, the arena's reuse,
// retiring an arena with live blocks, a failed mapping, the fallback cache
// and tight mode. (The allocator under a real run: test_memory_policy.cpp.)
#include <cstdlib>
#include <map>
#include <new>

#include <catch2/catch.hpp>

#include "fixtures.hpp"
#include "memory/recycling_allocator.hpp"
#include "stylize/engine.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

using stylize::detail::PageSource;
using stylize::detail::RecyclingAllocator;

namespace {

constexpr size_t MiB = size_t{1} << 20;

// Pages from the heap, with a ledger of what is mapped and what was
// discarded; `fail_after` maps succeed, then every map throws.
struct TestPages {
    std::map<void*, size_t> mapped;
    size_t maps = 0, unmaps = 0, discarded = 0, fail_after = static_cast<size_t>(-1);
    PageSource source() {
        return {[this](size_t n) -> void* {
                    if (maps >= fail_after) throw std::bad_alloc();
                    void* p = std::aligned_alloc(4096, (n + 4095) / 4096 * 4096);
                    if (!p) throw std::bad_alloc();
                    mapped[p] = n;
                    ++maps;
                    return p;
                },
                [this](void* p, size_t n) {
                    REQUIRE(mapped.count(p));
                    CHECK(mapped[p] == n);
                    mapped.erase(p);
                    ++unmaps;
                    std::free(p);
                },
                [this](void*, size_t n) { discarded += n; }};
    }
    size_t mapped_bytes() const {
        size_t total = 0;
        for (const auto& [p, n] : mapped) total += n;
        return total;
    }
};

// One "evaluation": blocks of these sizes (MiB), allocated in order, each
// freed after the next one is allocated (a chain, as activations are).
void evaluation(RecyclingAllocator& a, const std::vector<size_t>& sizes, std::vector<void*>* seen = nullptr) {
    c10::DataPtr previous;
    for (size_t s : sizes) {
        auto p = a.allocate(s * MiB);
        if (seen) seen->push_back(p.get());
        static_cast<char*>(p.get())[0] = 1;  // it is memory
        static_cast<char*>(p.get())[s * MiB - 1] = 1;
        previous = std::move(p);
    }
}

}  // namespace

TEST_CASE("recycling allocator: the second evaluation is planned into one arena and maps nothing", "[unit]") {
    TestPages pages;
    {
        RecyclingAllocator a(pages.source());
        const std::vector<size_t> sizes{4, 8, 2, 8, 4, 16, 3};
        a.next_window(true, true);  // a scale's first evaluation: recorded
        evaluation(a, sizes);
        a.next_window(false);  // planned from the record
        auto s = a.stats();
        CHECK(s.plans == 1);
        CHECK(s.planned_peak_live_bytes == 20 * MiB);  // the most in use at once: 4 + 16
        const size_t maps_before = pages.maps;
        for (int e = 0; e < 3; ++e) {
            std::vector<void*> got;
            evaluation(a, sizes, &got);
            a.next_window(false);
        }
        s = a.stats();
        CHECK(pages.maps == maps_before + 1);  // the arena, once
        CHECK(s.arena_hits == 3 * sizes.size());
        CHECK(s.arena_misses == 0);
        CHECK(s.plans == 1);
        CHECK(s.arena_bytes >= s.planned_peak_live_bytes);
        CHECK(s.arena_bytes <= s.planned_peak_live_bytes + s.planned_peak_live_bytes / 8);
        CHECK(s.idle_bytes == 0);  // the fallback's idle blocks went when the arena came
    }
    CHECK(pages.mapped.empty());  // everything unmapped when the allocator goes
}

TEST_CASE("recycling allocator: a block alive past a new scale keeps its arena until it is freed", "[unit]") {
    TestPages pages;
    RecyclingAllocator a(pages.source());
    a.next_window(true, true);
    evaluation(a, {4, 8, 4});
    a.next_window(false);
    auto kept = a.allocate(4 * MiB);  // from the arena
    REQUIRE(a.stats().arena_hits == 1);
    const size_t arena = a.stats().arena_bytes;
    REQUIRE(arena > 0);
    a.next_window(true);  // a new scale: the plan and the arena are retired...
    CHECK(a.stats().arena_bytes == 0);
    CHECK(pages.discarded == arena - 4 * MiB);  // ...the rest of it given back...
    CHECK(a.stats().mapped_bytes == arena);     // ...but the mapping stays for the live block
    static_cast<char*>(kept.get())[0] = 2;
    const size_t unmaps = pages.unmaps;
    kept.clear();  // the last block: now the arena goes
    CHECK(pages.unmaps == unmaps + 1);
    CHECK(a.stats().mapped_bytes == 0);
}

TEST_CASE("recycling allocator: a failed mapping throws bad_alloc and changes nothing", "[unit]") {
    TestPages pages;
    RecyclingAllocator a(pages.source());
    auto first = a.allocate(2 * MiB);
    pages.fail_after = pages.maps;  // no more memory
    CHECK_THROWS_AS(a.allocate(4 * MiB), std::bad_alloc);
    auto s = a.stats();
    CHECK(s.mapped_bytes == 2 * MiB);
    CHECK(s.peak_live_bytes == 2 * MiB);
    pages.fail_after = static_cast<size_t>(-1);  // memory again
    auto second = a.allocate(4 * MiB);
    CHECK(a.stats().mapped_bytes == 6 * MiB);
    // The failed request is not in the record: the plan holds the two real blocks.
    first.clear();
    second.clear();
    a.next_window(false);
    CHECK(a.stats().plans == 1);
    CHECK(a.stats().planned_peak_live_bytes == 6 * MiB);
    // And the arena's own mapping failing falls back to nothing: bad_alloc.
    pages.fail_after = pages.maps;
    CHECK_THROWS_AS(a.allocate(2 * MiB), std::bad_alloc);
    pages.fail_after = static_cast<size_t>(-1);
    auto again = a.allocate(2 * MiB);  // the same request, now served from the arena
    CHECK(a.stats().arena_hits == 1);
}

TEST_CASE("recycling allocator: the fallback reuses idle blocks; tight mode unmaps at once", "[unit]") {
    TestPages pages;
    RecyclingAllocator a(pages.source());
    void* where = nullptr;
    {
        auto p = a.allocate(8 * MiB);
        where = p.get();
    }
    CHECK(a.stats().idle_bytes == 8 * MiB);
#if defined(__SANITIZE_ADDRESS__)
    CHECK(__asan_address_is_poisoned(where));  // idle: any touch is caught
#endif
    {
        auto p = a.allocate(8 * MiB - 4096);  // within an eighth: the idle block
        CHECK(p.get() == where);
        CHECK(a.stats().reuses == 1);
#if defined(__SANITIZE_ADDRESS__)
        CHECK_FALSE(__asan_address_is_poisoned(where));
#endif
    }
    {
        auto p = a.allocate(2 * MiB);  // far smaller: not the 8 MiB block
        CHECK(a.stats().reuses == 1);
    }
    a.set_tight(true);  // the idle blocks go now, and every freed one at once
    CHECK(a.stats().idle_bytes == 0);
    CHECK(pages.mapped.empty());
    {
        auto p = a.allocate(4 * MiB);
        CHECK(pages.mapped_bytes() == 4 * MiB);
    }
    CHECK(pages.mapped.empty());
    // Raw allocations (c10 frees them by address alone), large and small.
    a.set_tight(false);
    void* raw = a.raw_allocate(3 * MiB);
    CHECK(pages.mapped_bytes() == 3 * MiB);
    a.raw_deallocate(raw);
    CHECK(a.stats().idle_bytes == 3 * MiB);
    a.raw_deallocate(a.raw_allocate(100));
    // Small requests are not its business: c10's own allocation.
    const size_t maps = pages.maps;
    auto small = a.allocate(1000);
    CHECK(small.get() != nullptr);
    CHECK(pages.maps == maps);
}

TEST_CASE("recycling allocator: a whole run under it gives the system allocator's bytes", "[engine]") {
    // Installed for one run only (restored after it); under AddressSanitizer
    // its idle ranges are poisoned, so instrumented code that touched a
    // freed block would stop the test. It outlives everything that may hold
    // one of its blocks (the model's caches too), so it is made first.
    RecyclingAllocator a;
    auto model = stylize::FeatureExtractor::load(fixtures::model());
    stylize::StylizeOptions o;
    o.size = 384;  // large blocks (1 MiB and up): the first layers, the optimiser state
    o.iterations = 6;
    const auto content = fixtures::content_image(288, 384);
    const std::vector<stylize::StyleImage> styles{{fixtures::style_image(288, 384), 1.0}};
    const auto plain = stylize::stylize(model, content, styles, o).image;
    c10::Allocator* previous = a.install_as_cpu_allocator();
    struct Restore {
        RecyclingAllocator& a;
        c10::Allocator* previous;
        ~Restore() { a.restore_cpu_allocator(previous); }
    } restore{a, previous};
    stylize::Hooks hooks;
    hooks.before_evaluation = [&](int index_in_scale) { a.next_window(index_in_scale == 0, index_in_scale == 0); };
    const auto recycled = stylize::stylize(model, content, styles, o, hooks).image;
    const auto stats = a.stats();
    CHECK(stats.plans >= 1);
    CHECK(stats.arena_hits > 0);
    CHECK(torch::equal(recycled, plain));
}
