// JSON the CLI writes: escaping, non-finite numbers, progress lines and the
// provenance record (sidecars and batch reports), parsed back with nlohmann.
#include <catch2/catch.hpp>
#include <torch/types.h>

#include <cmath>
#include <cstdio>
#include <limits>

#include <nlohmann/json.hpp>

#include "fixtures.hpp"
#include "json_output.hpp"
#include "progress_printer.hpp"
#include "provenance.hpp"

using namespace stylize;
using namespace stylize::cli;

TEST_CASE("dump_json escapes strings, writes non-finite numbers as null and survives bad UTF-8", "[unit]") {
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    const Json j = {{"s", "a\"b\\c\n\x01/\xc3\xa9"}, {"nan", nan}, {"inf", -inf}, {"x", 0.1}, {"n", 3}};
    const auto text = dump_json(j);
    CHECK(text == "{\"s\":\"a\\\"b\\\\c\\n\\u0001/\xc3\xa9\",\"nan\":null,\"inf\":null,\"x\":0.1,\"n\":3}");
    const auto back = nlohmann::json::parse(text);
    CHECK(back["s"] == "a\"b\\c\n\x01/\xc3\xa9");
    CHECK(back["nan"].is_null());
    // A file name need not be UTF-8: it is written with U+FFFD, and the JSON stays valid.
    const auto bad = dump_json(Json{{"path", std::string("x\xff\xfey.png")}});
    CHECK(nlohmann::json::parse(bad)["path"] == "x\xef\xbf\xbd\xef\xbf\xbdy.png");
}

TEST_CASE("progress json: one object per evaluation with the documented fields; NaN losses are null", "[unit]") {
    std::FILE* out = std::tmpfile();
    REQUIRE(out);
    ProgressPrinter printer(ProgressMode::Json, stderr, out);
    Progress p;
    p.evaluation = 3;
    p.total = 10;
    p.height = 48;
    p.width = 64;
    p.losses.total = std::numeric_limits<double>::quiet_NaN();
    p.losses.style = 2.5;
    p.elapsed_seconds = 1.25;
    printer(p);
    std::rewind(out);
    char buf[512] = {};
    REQUIRE(std::fgets(buf, sizeof buf, out));
    std::fclose(out);
    const auto j = nlohmann::json::parse(buf);
    CHECK(j["event"] == "progress");
    CHECK(j["evaluation"] == 3);
    CHECK(j["total"] == 10);
    CHECK(j["scale"] == 1);
    CHECK(j["scales"] == 1);
    CHECK(j["height"] == 48);
    CHECK(j["width"] == 64);
    CHECK(j["loss"].is_null());
    CHECK(j["style"] == 2.5);
    CHECK(j["content"].is_number());
    CHECK(j["tv"].is_number());
    CHECK(j["elapsed"] == 1.25);
    CHECK(std::string(buf).rfind("{\"event\":\"progress\",\"evaluation\":3,\"total\":10,", 0) == 0);
}

TEST_CASE("the provenance record keeps its field names and value types", "[model]") {
    const auto model = FeatureExtractor::load(fixtures::model());
    JobSpec job;
    job.content = "in/a \"quoted\" \\ name.png";
    job.styles = {"s1.png", "s\\2.png"};
    job.output = "out/o.png";
    job.options.style_blend = "0.3,0.7";
    Result result;
    result.evaluations = 7;
    result.losses.total = std::numeric_limits<double>::infinity();
    result.losses.content = 0.5;
    result.seconds = 1.5;
    const auto j = nlohmann::json::parse(dump_json(provenance_record(job, model, &result)));
    CHECK_THAT(j["tool"].get<std::string>(), Catch::StartsWith("stylize "));
    CHECK(j["libtorch"].is_string());
    CHECK(j["content"] == job.content);
    CHECK(j["styles"] == nlohmann::json(job.styles));
    CHECK(j["output"] == "out/o.png");
    CHECK(j["model"]["path"] == fixtures::model());
    CHECK(j["model"]["sha256"] == model.info().sha256);
    CHECK(j["model"]["weights"] == "random");
    CHECK(j["seed"].is_number_unsigned());
    const auto& o = j["options"];
    for (const char* k : {"iterations", "lbfgs_history", "size", "scales", "scale_iterations", "early_stop_window",
                          "threads", "bit_depth"})
        CHECK(o.at(k).is_number_integer());
    for (const char* k : {"learning_rate", "content_weight", "style_weight", "tv_weight", "style_scale",
                          "scale_factor", "ema_decay", "early_stop"})
        CHECK(o.at(k).is_number());
    for (const char* k : {"optimizer", "style_blend", "init", "init_image", "colors", "pooling", "device",
                          "precision", "conv_algorithm"})
        CHECK(o.at(k).is_string());
    CHECK(o.at("normalize_gradients").is_boolean());
    CHECK(o["style_layers"].size() == 5);
    CHECK(o["style_layers"][0]["name"] == "relu1_1");
    CHECK(o["style_layers"][0]["weight"] == 1.0);
    REQUIRE(o["content_layers"].size() == 2);
    CHECK(o["content_layers"][0]["name"] == "relu2_2");
    CHECK(o["content_layers"][1]["name"] == "relu4_2");
    CHECK(o["content_layers"][1]["weight"] == 0.5);
    CHECK(j["evaluations"] == 7);
    CHECK(j["stop_reason"].is_string());
    CHECK(j["losses"]["total"].is_null());  // infinite
    CHECK(j["losses"]["content"] == 0.5);
    CHECK(j["seconds"] == 1.5);
    // Without a result: no result fields.
    const auto plain = nlohmann::json::parse(dump_json(provenance_record(job, model, nullptr)));
    CHECK(!plain.contains("evaluations"));
    CHECK(!plain.contains("losses"));
    // The old field order, so the lines read the same as before.
    const auto text = dump_json(provenance_record(job, model, nullptr));
    CHECK(text.rfind("{\"tool\":\"stylize ", 0) == 0);
    CHECK(text.find("\"content\":") < text.find("\"styles\":"));
    CHECK(text.find("\"seed\":") < text.find("\"options\":"));
}
