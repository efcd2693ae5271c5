// The model-loading unit (stylize/model_loader.hpp): where the model is
// found, the computed parameter digest, and what the user is warned about.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include "fixtures.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"
#include "stylize/model_loader.hpp"
#include "model/digest_cache.hpp"

using namespace stylize;
using fixtures::TempDir;
namespace fs = std::filesystem;

namespace {
void touch(const std::string& path) {
    fs::create_directories(fs::path(path).parent_path());
    fixtures::write_file(path, "x");
}
}  // namespace

TEST_CASE("the model locator searches explicit > env > install dir > next to the executable", "[model]") {
    TempDir dir;
    const std::string install = dir / "share/stylize/models";
    const std::string exe = dir / "project/build/stylize";  // models/ of the project is project/models
    touch(install + "/vgg19-random.pt");
    touch(dir / "project/models/vgg19.pt");

    // An explicit path and $STYLIZE_MODEL are used as given, even if missing.
    auto loc = locate_model(dir / "mine.pt", dir / "env.pt", install, exe);
    CHECK(loc.path == dir / "mine.pt");
    CHECK(loc.tried == std::vector<std::string>{dir / "mine.pt" + " (--model)"});
    loc = locate_model("", dir / "env.pt", install, exe);
    CHECK(loc.path == dir / "env.pt");
    CHECK_THAT(loc.tried.at(0), Catch::Contains("$STYLIZE_MODEL"));
    // The install folder before the project's; vgg19.pt is tried before vgg19-random.pt.
    loc = locate_model("", "", install, exe);
    CHECK(loc.path == install + "/vgg19-random.pt");
    CHECK(loc.tried == std::vector<std::string>{install + "/vgg19.pt", install + "/vgg19-random.pt"});
    touch(install + "/vgg19.pt");
    CHECK(locate_model("", "", install, exe).path == install + "/vgg19.pt");
    // Without the install folder: models/ of the project next to the build folder.
    loc = locate_model("", "", "", exe);
    CHECK(loc.path == dir / "project/models/vgg19.pt");
    // build/tests/x finds the project's models/ too, and the ImageNet model wins there.
    touch(dir / "project/models/vgg19-random.pt");
    CHECK(locate_model("", "", dir / "nowhere", dir / "project/build/tests/stylize_tests").path ==
          dir / "project/models/vgg19.pt");
}

TEST_CASE("the model locator's error lists every place it tried", "[model]") {
    TempDir dir;
    try {
        locate_model("", "", dir / "share", dir / "a/b/bin/stylize");
        FAIL("no model should have been found");
    } catch (const ModelError& e) {
        const std::string what = e.what();
        CHECK_THAT(what, Catch::Contains("no model found"));
        for (const std::string& p : {dir / "share/vgg19.pt", dir / "share/vgg19-random.pt", dir / "a/b/models/vgg19.pt",
                                     dir / "a/models/vgg19.pt", dir / "a/b/bin/models/vgg19-random.pt"})
            CHECK_THAT(what, Catch::Contains(p));
        CHECK_THAT(what, Catch::Contains("--model") && Catch::Contains("STYLIZE_MODEL"));
    }
}

TEST_CASE("the parameter SHA-256 is computed and equals the exporter's", "[model]") {
    const auto tiny = FeatureExtractor::load(fixtures::model());
    // sha256_recorded is what scripts/export_vgg19.py's parameter_sha256 wrote.
    REQUIRE(tiny.info().sha256_recorded.size() == 64);
    CHECK(tiny.info().sha256 == tiny.info().sha256_recorded);
    // The same parameters without metadata: computed all the same.
    const auto nometa = FeatureExtractor::load(fixtures::model("nometa.pt"));
    CHECK(nometa.info().sha256_recorded.empty());
    CHECK(nometa.info().sha256 == tiny.info().sha256_recorded);
    // Metadata altered, or a weight edited under intact metadata: the digests differ.
    const auto badhash = FeatureExtractor::load(fixtures::model("badhash.pt"));
    CHECK(badhash.info().sha256 == tiny.info().sha256);
    CHECK(badhash.info().sha256_recorded != tiny.info().sha256);
    const auto edited = FeatureExtractor::load(fixtures::model("edited.pt"));
    CHECK(edited.info().sha256 != tiny.info().sha256);
    CHECK(edited.info().sha256_recorded == tiny.info().sha256);
}

TEST_CASE("load_model refuses a model whose parameters do not match the recorded sha256", "[model]") {
    for (const char* name : {"badhash.pt", "edited.pt"}) {
        ModelRequest req;
        req.path = fixtures::model(name);
        CHECK_THROWS_AS(load_model(req), ModelError);
        CHECK_THROWS_WITH(load_model(req), Catch::Contains(name) &&
                                               Catch::Contains("parameters do not match the recorded sha256"));
    }
    ModelRequest good;
    good.path = fixtures::model();
    CHECK_NOTHROW(verify_model(load_model(good).model.info()));
}

TEST_CASE("load_model returns the warnings the user must see", "[model]") {
    ModelRequest req;
    req.path = fixtures::model("nometa.pt");
    const auto nometa = load_model(req);
    REQUIRE(nometa.warnings.size() == 1);
    CHECK(nometa.warnings[0] == fixtures::model("nometa.pt") +
                                    " has no stylize metadata; assuming ImageNet normalisation (RGB, [0,1], mean/std "
                                    "of torchvision)");
    CHECK(nometa.location.path == fixtures::model("nometa.pt"));
    req.path = fixtures::model();
    const auto tiny = load_model(req);
    REQUIRE(tiny.warnings.size() == 1);
    CHECK_THAT(tiny.warnings[0], Catch::StartsWith(fixtures::model() + " has RANDOM weights") &&
                                     Catch::Contains("scripts/get_model.sh --imagenet"));
    CHECK(tiny.model.layer_names().size() == 37);
    req.path = fixtures::model("absent.pt");
    CHECK_THROWS_AS(load_model(req), ModelError);
}

TEST_CASE("load_model remembers a verified digest and hashes a changed file again", "[model]") {
    TempDir dir;
    const auto model = (fs::path(dir.path) / "model.pt").string();
    const auto cache = (fs::path(dir.path) / "cache").string();
    fs::copy_file(fixtures::model(), model);
    ModelRequest req;
    req.path = model;
    req.cache_dir = cache;
    const auto first = load_model(req);
    CHECK_FALSE(first.digest_from_cache);
    CHECK(fs::exists(fs::path(cache) / "model-digests.json"));
    const auto second = load_model(req);
    CHECK(second.digest_from_cache);
    CHECK(second.model.info().sha256 == first.model.info().sha256);
    CHECK(second.model.info().sha256 == second.model.info().sha256_recorded);

    SECTION("no cache folder: hashed every time") {
        req.cache_dir = "";
        CHECK_FALSE(load_model(req).digest_from_cache);
        CHECK_FALSE(load_model(req).digest_from_cache);
    }
    SECTION("an edit in place, modification time restored, is still hashed and refused") {
        const auto before = stylize::detail::stamp_of(model);
        REQUIRE(before);
        const auto mtime = fs::last_write_time(model);
        const auto edited = fixtures::read_file(fixtures::model("edited.pt"));
        // Rewrite until the change time moves on (timestamps are tick-granular).
        for (int i = 0; i < 1000 && stylize::detail::stamp_of(model)->ctime_ns == before->ctime_ns; ++i) {
            fixtures::write_file(model, edited);
            fs::last_write_time(model, mtime);
        }
        REQUIRE(stylize::detail::stamp_of(model)->mtime_ns == before->mtime_ns);
        REQUIRE(stylize::detail::stamp_of(model)->inode == before->inode);
        CHECK_THROWS_WITH(load_model(req), Catch::Contains("parameters do not match the recorded sha256"));
        // And the refused digest was not remembered.
        CHECK_THROWS_WITH(load_model(req), Catch::Contains("parameters do not match the recorded sha256"));
    }
    SECTION("a replaced file (another inode) is hashed again, then remembered") {
        fs::remove(model);
        fs::copy_file(fixtures::model("nometa.pt"), model);
        const auto third = load_model(req);
        CHECK_FALSE(third.digest_from_cache);
        CHECK(third.model.info().sha256 == first.model.info().sha256);
        CHECK(load_model(req).digest_from_cache);
    }
    SECTION("an unreadable cache file is started afresh") {
        fixtures::write_file((fs::path(cache) / "model-digests.json").string(), "{not json");
        CHECK_FALSE(load_model(req).digest_from_cache);
        CHECK(load_model(req).digest_from_cache);
    }
    SECTION("a digest the cache holds for another version of the file is not used") {
        auto text = fixtures::read_file((fs::path(cache) / "model-digests.json").string());
        const auto at = text.find("\"size\"");
        REQUIRE(at != std::string::npos);
        text.insert(text.find(':', at) + 1, "1");  // another size
        fixtures::write_file((fs::path(cache) / "model-digests.json").string(), text);
        CHECK_FALSE(load_model(req).digest_from_cache);
    }
}

TEST_CASE("the digest cache keeps the files remembered last", "[model]") {
    TempDir dir;
    const stylize::detail::DigestCache cache((fs::path(dir.path) / "c").string());
    std::vector<stylize::detail::FileStamp> stamps;
    for (size_t i = 0; i < stylize::detail::DigestCache::kMaxEntries + 3; ++i) {
        stylize::detail::FileStamp s;
        s.path = "/models/m" + std::to_string(i) + ".pt";
        s.size = 100 + i;
        stamps.push_back(s);
        cache.remember(s, std::string(64, static_cast<char>('a' + i % 6)));
    }
    size_t kept = 0;
    for (const auto& s : stamps) kept += cache.lookup(s).has_value();
    CHECK(kept == stylize::detail::DigestCache::kMaxEntries);
    CHECK(cache.lookup(stamps.back()) == std::string(64, static_cast<char>('a' + (stamps.size() - 1) % 6)));
    CHECK_FALSE(stylize::detail::DigestCache("").lookup(stamps.back()));
}
