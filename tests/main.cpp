#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <torch/cuda.h>

#include <cstring>

int main(int argc, char** argv) {
    // The [cuda] group reports "skipped" (exit 4, ctest SKIP_RETURN_CODE) on machines without CUDA.
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "[cuda]") == 0 && !torch::cuda::is_available()) {
            std::printf("no CUDA device: skipping [cuda] tests\n");
            return 4;
        }
    return Catch::Session().run(argc, argv);
}
