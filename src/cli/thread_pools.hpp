#pragma once
// The process's thread pools. A process-wide decision, so it lives with the
// executables, not in the library.
//
// Debian's LibTorch runs its convolutions on OpenMP threads and its matrix
// products (the Gram matrices) in OpenBLAS, whose pthreads pool starts as
// many threads as there are cores and lets them spin after each product.
// On a 2-core machine those spinning threads took the cores from the OpenMP
// threads: 30% of the wall time in the kernel (sched_yield) at 256 px, and
// 70 MB of OpenBLAS's per-thread buffers. With OpenBLAS on one thread the
// system time fell to a tenth and the evaluation was as fast or faster
// (docs/BENCHMARKS.md). It also keeps BLAS results independent of the core
// count of the machine.

namespace stylize::cli {

/// ATen/OpenMP threads = `threads` (0 = all cores); OpenBLAS = 1 where it is
/// the BLAS in use (looked up at run time; nothing happens for another BLAS).
/// Returns the OpenMP thread count.
int set_thread_pools(int threads);

/// Whether the BLAS in use is OpenBLAS and was set to one thread.
bool openblas_single_threaded();

}  // namespace stylize::cli
