// consumer MODEL: loads the model, stylizes a synthetic image for a few
// evaluations through the installed library, prints the final loss.
#include <cstdio>

#include <torch/types.h>

#include "stylize/engine.hpp"
#include "stylize/model_loader.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: consumer MODEL\n");
        return 2;
    }
    try {
        stylize::ModelRequest request;
        request.path = argv[1];
        auto loaded = stylize::load_model(request);
        torch::manual_seed(0);
        const auto content = torch::rand({1, 3, 48, 64});
        const auto style = torch::rand({1, 3, 48, 64});
        stylize::StylizeOptions options;
        options.size = 64;
        options.iterations = 3;
        const auto result = stylize::stylize(loaded.model, content, {{style, 1.0}}, options);
        std::printf("consumer: %d evaluations, loss %.6g, image %lldx%lld\n", result.evaluations,
                    result.losses.total, static_cast<long long>(result.image.size(3)),
                    static_cast<long long>(result.image.size(2)));
        return result.evaluations == 3 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "consumer: %s\n", e.what());
        return 1;
    }
}
