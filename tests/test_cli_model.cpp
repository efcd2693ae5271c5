// The command line's model checks.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/image_io.hpp"

using fixtures::TempDir;
namespace fs = std::filesystem;

TEST_CASE("cli: a model whose recorded sha256 does not match exits 4", "[cli]") {
    TempDir dir;
    stylize::save_image(dir / "c.png", fixtures::content_image());
    stylize::save_image(dir / "s.png", fixtures::style_image());
    const auto r = fixtures::run_cli("'" + (dir / "c.png") + "' '" + (dir / "s.png") + "' -o '" + (dir / "o.png") +
                                         "' --model '" + fixtures::model("badhash.pt") + "' -n 2 -s 32",
                                     dir);
    CHECK(r.code == 4);
    CHECK_THAT(r.err, Catch::StartsWith("stylize: error: ") && Catch::Contains("badhash.pt") &&
                          Catch::Contains("re-export it"));
    CHECK(!fs::exists(dir / "o.png"));
}
