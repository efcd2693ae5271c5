#include "commands/batch_command.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <new>
#include <set>

#include <spdlog/spdlog.h>

#include "exit_codes.hpp"
#include "io/atomic_write.hpp"
#include "memory_policy.hpp"
#include "commands/jobs_file.hpp"
#include "progress_printer.hpp"
#include "provenance.hpp"
#include "signals.hpp"
#include "stylize/errors.hpp"
#include "stylize/image_io.hpp"
#include "stylize/image_ops.hpp"
#include "stylize/video_io.hpp"

namespace fs = std::filesystem;

namespace stylize::cli {
namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InvalidArgument("--jobs " + path + ": cannot read the jobs file");
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string stem(const std::string& path) { return fs::path(path).stem().string(); }

}  // namespace

std::vector<std::string> expand_inputs(const std::vector<std::string>& specs, const std::string& what) {
    std::vector<std::string> out;
    for (const auto& spec : specs) {
        std::error_code ec;
        if (fs::is_directory(spec, ec) || is_glob(spec)) {
            const auto found = list_images(spec);
            if (found.empty())
                throw InvalidArgument(is_glob(spec) ? what + " '" + spec + "' matches no file"
                                                    : what + " " + spec + ": the folder has no images");
            out.insert(out.end(), found.begin(), found.end());
        } else {
            out.push_back(spec);  // a missing file fails its own jobs, not the batch
        }
    }
    return out;
}

std::pair<int, int> parse_shard(const std::string& text, const EnvLookup& env) {
    const std::string usage = "expected K/N with 1 <= K <= N (e.g. 2/8), auto or auto/N";
    auto number = [&](const std::string& s, const std::string& what) {
        size_t used = 0;
        long v = 0;
        try {
            v = std::stol(s, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != s.size() || v < 0 || v > (1L << 30))
            throw InvalidArgument("--shard " + text + ": " + what + " is '" + s + "', not a whole number");
        return static_cast<int>(v);
    };
    auto checked = [&](int k, int n, const std::string& from) {
        if (n < 1 || k < 1 || k > n)
            throw InvalidArgument("--shard " + text + ": " + from + " gives shard " + std::to_string(k) + " of " +
                                  std::to_string(n) + "; " + usage);
        return std::make_pair(k, n);
    };
    if (text == "auto" || text.rfind("auto/", 0) == 0) {
        const int given = text == "auto" ? 0 : number(text.substr(5), "the count");
        auto get = [&](const char* name) -> std::string {
            const char* v = env ? env(name) : nullptr;
            return v ? std::string(v) : std::string();
        };
        if (!get("SLURM_ARRAY_TASK_ID").empty()) {
            // Slurm job array: --array=MIN-MAX[:STEP]; the task ids need not start at 1.
            const int id = number(get("SLURM_ARRAY_TASK_ID"), "SLURM_ARRAY_TASK_ID");
            const auto min_s = get("SLURM_ARRAY_TASK_MIN"), max_s = get("SLURM_ARRAY_TASK_MAX");
            const auto step_s = get("SLURM_ARRAY_TASK_STEP"), count_s = get("SLURM_ARRAY_TASK_COUNT");
            const int min = min_s.empty() ? 1 : number(min_s, "SLURM_ARRAY_TASK_MIN");
            const int step = step_s.empty() ? 1 : std::max(1, number(step_s, "SLURM_ARRAY_TASK_STEP"));
            int n = given;
            if (n == 0 && !max_s.empty()) n = (number(max_s, "SLURM_ARRAY_TASK_MAX") - min) / step + 1;
            if (n == 0 && !count_s.empty()) n = number(count_s, "SLURM_ARRAY_TASK_COUNT");
            if (n == 0) throw InvalidArgument("--shard " + text + ": Slurm gives no SLURM_ARRAY_TASK_MAX or COUNT; use auto/N");
            if ((id - min) % step != 0)
                throw InvalidArgument("--shard " + text + ": SLURM_ARRAY_TASK_ID " + std::to_string(id) +
                                      " is not on the array's step " + std::to_string(step));
            return checked((id - min) / step + 1, n, "Slurm (SLURM_ARRAY_TASK_ID " + std::to_string(id) + ")");
        }
        if (!get("JOB_COMPLETION_INDEX").empty()) {
            // Kubernetes Indexed Job: a 0-based index; the count is the Job's
            // completions, which the pod does not see: give it once.
            const int index = number(get("JOB_COMPLETION_INDEX"), "JOB_COMPLETION_INDEX");
            int n = given;
            if (n == 0 && !get("STYLIZE_SHARD_COUNT").empty()) n = number(get("STYLIZE_SHARD_COUNT"), "STYLIZE_SHARD_COUNT");
            if (n == 0)
                throw InvalidArgument("--shard " + text + ": a Kubernetes Indexed Job needs the count: --shard auto/N "
                                      "or STYLIZE_SHARD_COUNT=N (the Job's completions)");
            return checked(index + 1, n, "Kubernetes (JOB_COMPLETION_INDEX " + std::to_string(index) + ")");
        }
        throw InvalidArgument("--shard " + text + ": no job array found (neither SLURM_ARRAY_TASK_ID nor "
                              "JOB_COMPLETION_INDEX is set); give K/N");
    }
    const auto slash = text.find('/');
    if (slash == std::string::npos) throw InvalidArgument("--shard '" + text + "': " + usage);
    int k = 0, n = 0;
    try {
        k = number(text.substr(0, slash), "K");
        n = number(text.substr(slash + 1), "N");
    } catch (const InvalidArgument&) {
        throw InvalidArgument("--shard '" + text + "': " + usage);
    }
    if (n < 1 || k < 1 || k > n) throw InvalidArgument("--shard '" + text + "': " + usage);
    return {k, n};
}

std::string format_output_name(const std::string& pattern, const std::string& content,
                               const std::vector<std::string>& styles, int index) {
    std::string style;
    for (const auto& s : styles) style += (style.empty() ? "" : "+") + stem(s);
    char idx[16];
    std::snprintf(idx, sizeof idx, "%04d", index);
    std::string out;
    for (size_t i = 0; i < pattern.size(); ++i) {
        auto take = [&](const char* key, const std::string& value) {
            const std::string k = key;
            if (pattern.compare(i, k.size(), k) != 0) return false;
            out += value;
            i += k.size() - 1;
            return true;
        };
        if (pattern[i] == '{' &&
            (take("{content}", stem(content)) || take("{style}", style) || take("{index}", idx)))
            continue;
        out += pattern[i];
    }
    if (fs::path(out).extension().empty()) out += ".png";
    return out;
}

std::vector<JobSpec> build_jobs(const BatchOptions& o) {
    std::vector<JobSpec> jobs;
    if (!o.jobs_file.empty()) {
        if (!o.contents.empty() || !o.styles.empty())
            throw InvalidArgument("--jobs cannot be combined with --content/--style");
        const auto base = fs::path(o.jobs_file).parent_path();
        auto resolve = [&](const std::string& p) { return p.empty() || fs::path(p).is_absolute() ? p : (base / p).string(); };
        for (const auto& line : parse_jobs_file(read_text(o.jobs_file), o.jobs_file)) {
            JobSpec job;
            job.options = o.run.job;  // batch-wide values; the line overrides
            CLI::App app;
            app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
            std::vector<std::string> images;
            app.add_option("images", images)->required()->expected(2, 1 << 20);
            app.add_option("-o,--output", job.output);
            bind_job_options(app, job.options);
            std::vector<std::string> args(line.args.rbegin(), line.args.rend());
            try {
                app.parse(args);
            } catch (const CLI::Error& e) {
                throw InvalidArgument(o.jobs_file + ":" + std::to_string(line.line_number) + ": " + e.what());
            }
            job.content = resolve(images[0]);
            for (size_t i = 1; i < images.size(); ++i) job.styles.push_back(resolve(images[i]));
            job.options.init_image = resolve(job.options.init_image);
            // Mask paths the line gives are relative to the jobs file; those
            // from the command line stay as given.
            const auto& batch_wide = o.run.job;
            if (job.options.style_regions != batch_wide.style_regions)
                for (auto& m : job.options.style_regions) m = resolve(m);
            if (job.options.content_mask != batch_wide.content_mask)
                job.options.content_mask = resolve(job.options.content_mask);
            if (job.options.style_masks != batch_wide.style_masks)
                for (auto& m : job.options.style_masks) m = resolve(m);
            const int index = static_cast<int>(jobs.size()) + 1;
            if (job.output.empty()) {
                if (o.output_dir.empty())
                    throw InvalidArgument(o.jobs_file + ":" + std::to_string(line.line_number) +
                                          ": no -o on the line and no --output-dir");
                job.output = (fs::path(o.output_dir) / format_output_name(o.name_pattern, job.content, job.styles, index)).string();
            } else if (!fs::path(job.output).is_absolute()) {
                job.output = (o.output_dir.empty() ? resolve(job.output) : (fs::path(o.output_dir) / job.output).string());
            }
            jobs.push_back(std::move(job));
        }
    } else {
        if (o.contents.empty() || o.styles.empty())
            throw InvalidArgument("batch needs --content and --style (files, folders or globs), or --jobs FILE");
        if (o.output_dir.empty()) throw InvalidArgument("batch needs --output-dir");
        const auto contents = expand_inputs(o.contents, "--content");
        const auto styles = expand_inputs(o.styles, "--style");
        for (const auto& c : contents)
            for (const auto& s : styles) {
                JobSpec job;
                job.content = c;
                job.styles = {s};
                job.options = o.run.job;
                job.output = (fs::path(o.output_dir) /
                              format_output_name(o.name_pattern, c, job.styles, static_cast<int>(jobs.size()) + 1)).string();
                jobs.push_back(std::move(job));
            }
    }
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < jobs.size(); ++i) {
        const auto key = fs::path(jobs[i].output).lexically_normal().string();
        if (seen.count(key))
            throw InvalidArgument("jobs " + std::to_string(seen[key] + 1) + " and " + std::to_string(i + 1) +
                                  " would both write " + key + "; put {index} in --name");
        seen[key] = i;
    }
    return jobs;
}

void setup_batch_command(CLI::App& app, BatchOptions& o) {
    app.add_option("-c,--content", o.contents, "Content images: files, folders or globs")->expected(1, 1 << 20);
    app.add_option("--style", o.styles, "Style images: files, folders or globs (each is its own job)")
        ->expected(1, 1 << 20);
    app.add_option("--jobs", o.jobs_file,
                   "Jobs file: one 'CONTENT STYLE [STYLE...] [-o OUT] [options]' per line; # comments; "
                   "relative paths are relative to the file");
    app.add_option("-O,--output-dir", o.output_dir, "Folder for the outputs (created if missing)");
    app.add_option("--name", o.name_pattern, "Output name pattern: {content} {style} {index}")->capture_default_str();
    app.add_flag("--skip-existing", o.skip_existing, "Skip jobs whose output exists (resume a batch)");
    app.add_option("--report", o.report, "Write one JSON line per job to this file");
    app.add_option("--shard", o.shard,
                   "Run only slice K of N of the job list: K/N (e.g. 2/8), or auto (from a Slurm job array or a "
                   "Kubernetes Indexed Job; auto/N gives the count)");
    app.add_option("--sheet", o.sheet,
                   "Write a contact sheet image: a row per content, a column per style, each output in its cell "
                   "(this shard's jobs; written at the end, also after failures)");
    app.add_flag("--list-jobs", o.list_jobs,
                 "Print this shard's jobs as JSON lines (job, content, styles, output, exists) and stop: "
                 "nothing is loaded or written");
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    bind_job_options(app, o.run.job);
    bind_process_options(app, o.run);
    // -s is --size, as in the main form; the style images have only the long --style.
}

JobFailure job_failure(const std::exception& e) {
    JobFailure f;
    if (const auto* torch_error = dynamic_cast<const c10::Error*>(&e)) {
        const std::string what = torch_error->what();
        f.message = "LibTorch: " + what.substr(0, what.find('\n'));
    } else if (dynamic_cast<const std::bad_alloc*>(&e)) {
        f.message = "out of memory; lower --size or --lbfgs-history";
    } else {
        f.message = e.what();  // the library's errors, and anything else (e.g. a std::runtime_error)
    }
    return f;
}

namespace {

// The jobs of shard K of N: every Nth, from the Kth.
std::vector<size_t> shard_jobs(size_t count, int shard_k, int shard_n) {
    std::vector<size_t> mine;
    for (size_t i = 0; i < count; ++i)
        if (static_cast<int>(i % static_cast<size_t>(shard_n)) == shard_k - 1) mine.push_back(i);
    return mine;
}

// Option errors in any job are found before the model is loaded or any work
// is done: each job's options are finalized here, once.
void finalize_jobs(std::vector<JobSpec>& jobs, const std::vector<size_t>& mine) {
    for (auto i : mine) {
        try {
            finalize_job_options(jobs[i].options, jobs[i].styles.size());
        } catch (const InvalidArgument& e) {
            throw InvalidArgument("job " + std::to_string(i + 1) + ": " + e.what());
        }
    }
}

// --list-jobs: this shard's jobs as JSON lines on stdout.
void list_jobs(const std::vector<JobSpec>& jobs, const std::vector<size_t>& mine, int shard_k, int shard_n) {
    for (auto i : mine) {
        std::error_code ec;
        Json line;
        line["job"] = i + 1;
        line["shard"] = std::to_string(shard_k) + "/" + std::to_string(shard_n);
        line["content"] = jobs[i].content;
        line["styles"] = jobs[i].styles;
        line["output"] = jobs[i].output;
        line["exists"] = fs::exists(jobs[i].output, ec);
        std::cout << dump_json(line) << "\n";
    }
    std::cout.flush();
}

// What a killed run was writing when it died, in the output folders.
void remove_stale_outputs(const std::vector<JobSpec>& jobs, const std::vector<size_t>& mine) {
    std::set<std::string> folders;
    for (auto i : mine) folders.insert(fs::path(jobs[i].output).parent_path().string());
    int stale = 0;
    for (const auto& f : folders) stale += remove_stale_temporaries(f);
    if (stale) spdlog::info("batch: removed {} temporary file(s) left by a killed run", stale);
}

// The batch's counts so far, and its exit code.
struct Tally {
    int ok = 0, skipped = 0, failed = 0, exit_code = kOk;
    int computed = 0;  ///< jobs run (not skipped), for the rate and ETA
    double computed_seconds = 0;
    bool report_failed = false;
};

// One job: skipped, run, or failed (one failing job does not stop the others).
JobResult run_batch_job(FeatureExtractor& model, JobSpec& job, const BatchOptions& o, TargetCache& cache,
                        Tally& tally) {
    JobResult res;
    std::error_code ec;
    if (o.skip_existing && fs::exists(job.output, ec)) {
        res.status = "skipped";
        ++tally.skipped;
        return res;
    }
    const auto t0 = std::chrono::steady_clock::now();
    try {
        check_job_output(job);
        const int code = run_job(model, job, o.run, res, &cache);
        if (code == kOk) ++tally.ok;
        else tally.exit_code = code;
    } catch (const std::exception& e) {
        const auto failure = job_failure(e);
        res.status = failure.status;
        res.error = failure.message;
        ++tally.failed;
        spdlog::error("{}{} failed: {}", job.progress_prefix, job.content, res.error);
    }
    tally.computed_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++tally.computed;
    return res;
}

// The job's report line: its status and provenance. A run killed after
// writing an image but before its report line: the image's sidecar holds
// the line's record.
void report_job(std::ofstream& report, const std::string& report_path, const JobSpec& job, int index,
                JobResult& res, const FeatureExtractor& model, Tally& tally) {
    Json prov = res.status == "skipped" ? sidecar_record(job.output) : Json();
    if (!prov.is_null()) res.status = "ok";
    Json line;
    line["job"] = index;
    line["status"] = res.status;
    line["error"] = res.error.empty() ? Json() : Json(res.error);
    line["partial"] = res.partial.empty() ? Json() : Json(res.partial);
    if (prov.is_null())
        prov = provenance_record(job, model, res.status == "ok" || res.status == "interrupted" ? &res.result : nullptr);
    for (auto it = prov.begin(); it != prov.end(); ++it) line[it.key()] = std::move(it.value());
    errno = 0;
    report << dump_json(line) << "\n";
    report.flush();
    if (!report && !tally.report_failed) {
        // The jobs go on (their outputs are what matters); the run ends with
        // exit code 3 and this one line.
        tally.report_failed = true;
        spdlog::error("--report {}: cannot write ({}); the report is incomplete from job {} on", report_path,
                      errno ? std::strerror(errno) : "write error", index);
    }
}

}  // namespace

int batch_command(BatchOptions& o) {
    check_process_options(o.run);
    auto jobs = build_jobs(o);
    int shard_k = 1, shard_n = 1;
    if (!o.shard.empty()) std::tie(shard_k, shard_n) = parse_shard(o.shard);
    const auto mine = shard_jobs(jobs.size(), shard_k, shard_n);
    finalize_jobs(jobs, mine);
    if (o.list_jobs) {
        list_jobs(jobs, mine, shard_k, shard_n);
        return kOk;
    }
    std::vector<const StylizeOptions*> runs;
    for (auto i : mine) runs.push_back(&jobs[i].options.engine);
    apply_threads(o.run.threads);
    install_memory_policy(o.run.memory_policy);
    auto model = load_configured_model(o.run, runs);
    release_idle_memory();  // loading's temporaries
    install_signal_handlers();

    if (o.skip_existing) remove_stale_outputs(jobs, mine);
    // A resumed batch keeps the earlier report's lines of the jobs it skips.
    const auto carried = o.skip_existing ? carried_report_lines(o.report, jobs, mine) : std::map<int, std::string>();
    std::ofstream report = open_report(o.report, carried);
    TargetCache cache;
    Tally tally;
    const auto start = std::chrono::steady_clock::now();
    for (size_t n = 0; n < mine.size(); ++n) {
        auto& job = jobs[mine[n]];
        const int index = static_cast<int>(mine[n]) + 1;
        job.progress_prefix = "[job " + std::to_string(n + 1) + "/" + std::to_string(mine.size()) + "] ";
        auto res = run_batch_job(model, job, o, cache, tally);
        if (report.is_open() && !(res.status == "skipped" && carried.count(index)))
            report_job(report, o.report, job, index, res, model, tally);
        if (tally.exit_code == kInterrupted || tally.exit_code == kTerminated) break;
        const size_t left = mine.size() - n - 1;
        if (tally.computed > 0 && left > 0)
            spdlog::info("batch: {}/{} done, {:.0f} images/h, ETA {}", n + 1, mine.size(),
                         3600.0 * tally.computed / std::max(tally.computed_seconds, 1e-9),
                         format_duration(tally.computed_seconds / tally.computed * static_cast<double>(left)));
    }
    if (!o.sheet.empty()) write_sheet(o.sheet, jobs, mine);
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    spdlog::info("batch: {} job(s): {} ok, {} skipped, {} failed, {} in {}", mine.size(), tally.ok, tally.skipped,
                 tally.failed, tally.exit_code == kOk ? "finished" : "interrupted", format_duration(total));
    if (tally.exit_code != kOk) return tally.exit_code;
    if (tally.report_failed) return kImage;
    return tally.failed ? kPartial : kOk;
}

}  // namespace stylize::cli
