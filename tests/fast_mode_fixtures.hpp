#pragma once
// Helpers shared by the fast-mode tests (library and command line).
#include <filesystem>

#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/image_io.hpp"
#include "stylize/transform_net.hpp"

namespace fixtures {

inline bool same_parameters(const stylize::TransformNet& a, const stylize::TransformNet& b) {
    const auto pa = a.named_parameters(), pb = b.named_parameters();
    if (pa.size() != pb.size()) return false;
    for (size_t i = 0; i < pa.size(); ++i)
        if (pa[i].first != pb[i].first || !torch::equal(pa[i].second, pb[i].second)) return false;
    return true;
}

// Four content images of different sizes and one style image in `dir`.
inline void write_training_set(const TempDir& dir) {
    std::filesystem::create_directories(dir / "contents");
    stylize::save_image(dir / "contents/a.png", content_image(48, 64));
    stylize::save_image(dir / "contents/b.png", content_image(64, 40));
    stylize::save_image(dir / "contents/c.jpg", content_image(40, 40).flip({3}));
    stylize::save_image(dir / "contents/d.png", style_image(50, 50, 11));
    stylize::save_image(dir / "style.png", style_image(48, 48, 6));
}

}  // namespace fixtures
