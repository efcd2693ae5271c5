#include "signals.hpp"

#include <atomic>
#include <csignal>

namespace stylize::cli {
namespace {
// A signal handler can only talk through a lock-free atomic: the one piece of
// process-wide state the CLI keeps.
std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) {
    if (g_signal.load() != 0 && sig == SIGINT) {
        std::signal(SIGINT, SIG_DFL);
        std::raise(SIGINT);
        return;
    }
    g_signal.store(sig);
}
}  // namespace

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    // Past a file-size limit, write() should fail with EFBIG (and the write be
    // rolled back) instead of the process being killed.
    std::signal(SIGXFSZ, SIG_IGN);
}

int pending_signal() { return g_signal.load(); }

}  // namespace stylize::cli
