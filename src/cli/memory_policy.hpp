#pragma once
// How the process gets and gives back large blocks of memory. A process-wide
// decision, so it lives with the executables, not in the library.
//
// An evaluation allocates the same large tensors (activations, gradients,
// up to ~70 MB each at 512 px) every time. glibc serves blocks above its mmap
// threshold (at most 32 MiB) with a fresh mmap and unmaps them on free, so
// every evaluation pays page faults and the kernel's zeroing for each of them
// again: measured 2.9x slower on a 2-core AMD EPYC VM, a sixth of the wall
// time in the kernel on a Xeon (docs/BENCHMARKS.md).
//
// Recycle (the default) installs a CPU allocator for LibTorch that plans the
// large blocks (1 MiB and up) of an evaluation: it records the first
// evaluation of a scale (sizes, allocation and free order), places its blocks
// in one arena (arena_plan.hpp: about the most bytes in use at once), and
// serves the next evaluations' requests from their planned places, so from
// the second evaluation on the working set is reused without touching the
// kernel, and the peak is the plan's, checkpointed or not. A request the plan
// does not know, or whose place is still taken, falls back to a cache that
// keeps freed blocks mapped and hands the smallest idle one that fits (at
// most an eighth larger); it unmaps every freed block at once in
// checkpointed runs (keep_peak_low), keeps no idle memory above the most in
// use at once while a scale's first evaluation is recorded, and otherwise at
// most an eighth above it (at most 256 MiB). Idle blocks nobody asked for during the last evaluation
// go at the next evaluation's start. New mappings are 2 MiB aligned and
// marked for transparent huge pages. System leaves glibc as it is.
#include <cstddef>
#include <memory>
#include <string>

namespace stylize::cli {

enum class MemoryPolicy { Recycle, System };

const char* to_string(MemoryPolicy);

struct MemoryStats {
    size_t mapped_bytes = 0;    ///< large blocks mapped now (in use + idle)
    size_t idle_bytes = 0;      ///< of which idle, kept for reuse
    size_t peak_mapped_bytes = 0;
    size_t peak_live_bytes = 0;  ///< most large-block bytes requested and in use at once
    size_t reuses = 0, maps = 0, unmaps = 0;  ///< fallback requests served from the cache; mappings made; unmapped
    size_t arena_bytes = 0;      ///< the current plan's arena (0: none mapped)
    size_t planned_peak_live_bytes = 0;  ///< the most bytes in use at once in the recorded evaluation
    size_t arena_hits = 0, arena_misses = 0;  ///< requests served at their planned place / that fell back unplanned
    size_t plans = 0;            ///< plans made
};

/// What the policy may hold above the engine's estimate of a plain run's
/// peak (`estimate` bytes): idle blocks and the slack of reusing a larger one.
double policy_overhead_bytes(MemoryPolicy policy, double estimate);

/// Installs `policy` for the rest of the process (the first call wins; later
/// calls with another policy are ignored and return false). An
/// AddressSanitizer build always gets System.
bool install_memory_policy(MemoryPolicy policy);

/// With Recycle: unmaps the idle blocks that nobody asked for since the
/// previous call. Call it before each evaluation (Hooks::before_evaluation);
/// does nothing under System.
void recycle_idle_memory();

/// The Hooks::before_evaluation of a run: before the first evaluation of a
/// scale every idle block goes (what the targets and the previous scale
/// left), before the others those that the last evaluation did not reuse.
void before_evaluation(int index_in_scale);

/// With Recycle: from now on unmap every freed block at once (still 2 MiB
/// aligned, with transparent huge pages), or go back to keeping them. For
/// checkpointed runs, which are checkpointed to have the lowest peak: kept
/// blocks cost 850 MB more at 2048 px (docs/BENCHMARKS.md).
void keep_peak_low(bool on);

/// With Recycle: unmaps every idle block (at the end of a job).
void release_idle_memory();

MemoryStats memory_stats();

/// Makes glibc serve allocations of 1 MiB or more by mmap, so freed memory
/// goes back to the system at once: for checkpointed runs under System,
/// where fragmentation kept peak RSS higher. Returns false where the C
/// library offers no such setting.
bool return_freed_memory_promptly();

}  // namespace stylize::cli
