// parley load: runs a conversation script many times at once and reports throughput,
// failures by cause and latency percentiles; parley load --merge adds up results of shards.
//
// The work is split over threads, each with its own Engine (own io_context and Lua state):
// without --rate they take conversations from one pool and share the concurrency, so that a
// thread may join or leave; with --rate each keeps its own schedule of its own part. By
// default the run starts on one thread and adds threads while they pay (load/scaler.hpp):
// a load test so often shares its machine with the server under test that a second thread
// may only take the server's core. --shard I/N first takes the I-th part of the whole load,
// so that N machines together run what one would.
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "cli/cli.hpp"
#include "load/html.hpp"
#include "load/runner.hpp"
#include "load/scaler.hpp"
#include "load/threshold.hpp"

namespace parley::cli {

namespace {

using load::Clock;

struct LoadFlags {
  long concurrency = 1;
  std::optional<std::uint64_t> count;
  std::optional<double> duration;
  std::optional<double> rate;
  long threads = -1;  // -1: adaptive (the default); 0: one per core (--threads auto)
  long shard = 0;
  long shards = 0;
  bool json = false;
  bool merge = false;
  std::vector<std::string> thresholds;  // --threshold, as given
  std::string html;                     // --html FILE
};

// The --html file, opened before the run so that a path it cannot write is a usage error
// before anything runs; removed again when the run ends without a report (a script error).
class HtmlFile {
 public:
  explicit HtmlFile(std::string path) : path_(std::move(path)) {
    if (path_.empty()) return;
    out_.open(path_, std::ios::binary | std::ios::trunc);
    if (!out_) throw UsageError("--html: cannot write " + path_);
  }
  ~HtmlFile() {
    if (!path_.empty() && !written_) {
      out_.close();
      std::remove(path_.c_str());
    }
  }
  HtmlFile(const HtmlFile&) = delete;
  HtmlFile& operator=(const HtmlFile&) = delete;

  /// Writes the report (nothing without --html); false, with a message, when it could not.
  bool write(const load::Results& r) {
    if (path_.empty()) return true;
    std::string page = load::to_html(r);
    out_.write(page.data(), static_cast<std::streamsize>(page.size()));
    out_.close();
    written_ = static_cast<bool>(out_);
    if (!written_) std::fprintf(stderr, "parley: --html: cannot write %s\n", path_.c_str());
    return written_;
  }

 private:
  std::string path_;
  std::ofstream out_;
  bool written_ = false;
};

// The --threshold expressions, parsed before anything runs: a malformed one is a usage error.
std::vector<load::Threshold> option_thresholds(const LoadFlags& f) {
  std::vector<load::Threshold> out;
  for (const auto& expr : f.thresholds) {
    try {
      out.push_back(load::parse_threshold(expr));
    } catch (const load::ThresholdError& e) {
      throw UsageError("--threshold \"" + expr + "\": " + e.what());
    }
  }
  return out;
}

// Judges the results by the option's thresholds and the script's (load.thresholds; those of
// every merged file), then says how the run exits: 1 when a threshold was missed, or when a
// conversation failed and no threshold says how many may.
int judge(load::Results& r, const std::vector<load::Threshold>& given, bool stopped) {
  r.thresholds.clear();
  std::vector<std::string> seen;
  bool failures_gated = false;
  auto add = [&](const load::Threshold& t, const char* source) {
    if (std::find(seen.begin(), seen.end(), t.expr) != seen.end()) return;
    seen.push_back(t.expr);
    failures_gated = failures_gated || t.about_failures();
    r.thresholds.push_back(load::evaluate(t, r, source));
  };
  for (const auto& t : given) add(t, "option");
  for (const auto& expr : r.script_thresholds) {
    try {
      add(load::parse_threshold(expr), "script");
    } catch (const load::ThresholdError& e) {
      throw UsageError("load.thresholds \"" + expr + "\": " + e.what());
    }
  }
  bool missed = std::any_of(r.thresholds.begin(), r.thresholds.end(),
                            [](const load::ThresholdResult& t) { return !t.ok; });
  if (stopped || missed) return 1;
  return r.failed > 0 && !failures_gated ? 1 : 0;
}

// "30", "30s", "500ms", "5m", "1h"
double parse_duration(const std::string& flag, const std::string& value) {
  std::size_t digits = value.find_first_not_of("0123456789.");
  std::string number = value.substr(0, digits);
  std::string unit = digits == std::string::npos ? "" : value.substr(digits);
  double scale = unit.empty() || unit == "s" ? 1
                 : unit == "ms"              ? 0.001
                 : unit == "m"               ? 60
                 : unit == "h"               ? 3600
                                             : -1;
  if (scale < 0 || number.empty()) {
    throw UsageError(flag + " wants seconds (30, 30s, 500ms, 5m, 1h), not \"" + value + "\"");
  }
  return parse_seconds(flag, number) * scale;
}

double parse_rate(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || *end != '\0' || !(v > 0) || v > 1e9) {
    throw UsageError(flag + " wants conversations per second above 0, not \"" + value + "\"");
  }
  return v;
}

/// The `index`-th (0-based) of `parts` near-equal parts of `total`.
std::uint64_t part_of(std::uint64_t total, std::uint64_t parts, std::uint64_t index) {
  return total / parts + (index < total % parts ? 1 : 0);
}

/// Where the `index`-th part starts.
std::uint64_t part_start(std::uint64_t total, std::uint64_t parts, std::uint64_t index) {
  return index * (total / parts) + std::min(index, total % parts);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int merge(const std::vector<std::string>& rest, const LoadFlags& f) {
  std::vector<load::Threshold> given = option_thresholds(f);
  HtmlFile html(f.html);
  bool json = false;
  std::vector<std::string> files;
  for (const auto& a : rest) {
    if (a == "--json") {
      json = true;
    } else {
      files.push_back(a);
    }
  }
  if (files.empty())
    throw UsageError("load --merge: which result files? (from parley load --json)");
  load::Results total;
  total.settings.parts = 0;
  for (const auto& f : files) {
    load::Results part;
    try {
      part = load::Results::from_json(read_file(f));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "parley: %s: %s\n", f.c_str(), e.what());
      return 2;
    }
    total.merge_part(part);
  }
  int status = judge(total, given, false);
  std::string out = json ? total.to_json() : total.to_text();
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (!html.write(total)) return 2;
  return status;
}

std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

// The live line on a terminal: totals, and the last whole second the runners have counted
// (conversations ended in it, its p50 and p99, its failures).
void show_progress(const std::vector<std::unique_ptr<load::Runner>>& runners,
                   Clock::time_point start) {
  std::uint64_t ok = 0, failed = 0, running = 0;
  long latest = -1;
  for (const auto& r : runners) {
    ok += r->progress().ok.load(std::memory_order_relaxed);
    failed += r->progress().failed.load(std::memory_order_relaxed);
    running += r->progress().running.load(std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(r->progress().mutex);
    latest = std::max(latest, r->progress().second_index);
  }
  double t = std::chrono::duration<double>(Clock::now() - start).count();
  load::Second last;
  // A second the runners counted a while ago says nothing about now.
  if (latest >= 0 && static_cast<double>(latest) >= t - 3) {
    for (const auto& r : runners) {
      std::lock_guard<std::mutex> lock(r->progress().mutex);
      if (r->progress().second_index == latest) last.merge(r->progress().second);
    }
  }
  char buf[256];
  std::snprintf(buf, sizeof buf, "%7.1f s  %llu done  %llu/s", t,
                static_cast<unsigned long long>(ok + failed),
                static_cast<unsigned long long>(last.ok + last.failed));
  std::string line = buf;
  if (last.ok > 0) {
    load::Histogram h = last.latency.expand();
    line += "  p50 " + load::format_micros(h.percentile(50)) + "  p99 " +
            load::format_micros(h.percentile(99));
  }
  std::snprintf(buf, sizeof buf, "  %llu failed (%llu/s)  %llu running",
                static_cast<unsigned long long>(failed),
                static_cast<unsigned long long>(last.failed),
                static_cast<unsigned long long>(running));
  line += buf;
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

// The CPU seconds a clock (a thread's) has counted, or 0.
double cpu_seconds(clockid_t clock) {
  timespec used{};
  if (clock_gettime(clock, &used) != 0) return 0;
  return static_cast<double>(used.tv_sec) + static_cast<double>(used.tv_nsec) / 1e9;
}

int run_load(Common& c, const LoadFlags& f) {
  std::vector<load::Threshold> given = option_thresholds(f);
  const std::string script = c.script;
  if (access(script.c_str(), R_OK) != 0) throw UsageError("cannot read the script " + script);
  HtmlFile html(f.html);
  std::FILE* transcript_file = setup_transcript(c);
  // The transcript of thousands of conversations is noise: only with -v or --transcript.
  c.options.transcript.enabled = c.options.verbose || transcript_file != nullptr;
  // one engine a thread, one warning about a short secret for the run
  c.options.transcript.warned_short = std::make_shared<std::atomic<bool>>(false);

  // This process's part of the whole load (--shard), then each thread's part of that.
  auto shards = static_cast<std::uint64_t>(f.shards > 0 ? f.shards : 1);
  auto shard = static_cast<std::uint64_t>(f.shard > 0 ? f.shard - 1 : 0);
  auto concurrency = part_of(static_cast<std::uint64_t>(f.concurrency), shards, shard);
  if (concurrency == 0) {
    throw UsageError("-c " + std::to_string(f.concurrency) + " is less than the " +
                     std::to_string(shards) + " shards: each shard needs at least 1");
  }
  std::optional<std::uint64_t> count;
  std::uint64_t count_offset = 0;
  if (f.count) {
    count = part_of(*f.count, shards, shard);
    count_offset = part_start(*f.count, shards, shard);
  }
  std::optional<double> rate;
  if (f.rate) rate = *f.rate / static_cast<double>(shards);

  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::uint64_t most = std::min<std::uint64_t>(cores, concurrency);
  if (count) most = std::max<std::uint64_t>(1, std::min(most, *count));
  // The default (no --threads, no --rate): one thread to start with, more while they pay.
  bool adaptive = f.threads < 0 && !rate;
  std::uint64_t threads = f.threads > 0                 ? static_cast<std::uint64_t>(f.threads)
                          : f.threads == 0 && !adaptive ? cores
                                                        : 1;
  threads = std::min(threads, concurrency);
  if (count) threads = std::max<std::uint64_t>(1, std::min(threads, *count));
  most = std::max(most, threads);
  // --max-memory is for the process: each thread's Lua state gets its part
  if (c.options.max_memory != 0) {
    c.options.max_memory = std::max<std::size_t>(c.options.max_memory / most, 64u << 20);
  }

  // Closed loop: the runners take conversations from one pool, numbered 1..n (with -n) or
  // uniquely (with --duration), so that a runner may join or leave at any time. Open loop
  // (--rate): each thread keeps its own schedule of its own part.
  auto tickets = std::make_shared<load::Tickets>();
  tickets->count = count;
  auto share_of = [&](std::uint64_t t, std::uint64_t of, long target) {
    load::Share s;
    s.thread = static_cast<int>(t);
    s.threads = static_cast<int>(of);
    s.shard = f.shard;
    s.shards = f.shards;
    s.concurrency = target;
    s.timeout = c.options.timeout;
    if (rate) {
      if (count) {
        // Numbers 1..n over the whole run: shard blocks, interleaved between threads.
        s.count = part_of(*count, of, t);
        s.first_number = count_offset + 1 + t;
        s.number_stride = of;
      } else {
        s.first_number = (shard + 1) + shards * t;
        s.number_stride = shards * of;
      }
      s.rate = *rate / static_cast<double>(of);
      // Threads (and shards) take turns: their schedules are offset, not simultaneous.
      s.phase = static_cast<double>(shard + shards * t) / *f.rate;
    } else {
      s.count = count;
      s.tickets = tickets;
      s.first_number = count ? count_offset + 1 : shard + 1;
      s.number_stride = count ? 1 : shards;
    }
    return s;
  };

  // Every thread starts on the same clock, a moment from now (engines start in ~1 ms).
  Clock::time_point start = Clock::now() + std::chrono::milliseconds(5);
  double started_at =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() +
      0.005;
  std::optional<Clock::time_point> end;
  if (f.duration)
    end = start +
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(*f.duration));

  std::mutex mutex;
  std::condition_variable cv;
  std::size_t finished = 0;
  std::vector<double> cpu(most, 0.0);  // each thread's CPU seconds (sized once: threads write)
  std::vector<std::unique_ptr<load::Runner>> runners;
  std::vector<std::thread> workers;
  auto add_runner = [&](load::Share s, Clock::time_point from) {
    runners.push_back(std::make_unique<load::Runner>(c.options, script, std::move(s)));
    load::Runner* runner = runners.back().get();
    std::size_t t = runners.size() - 1;
    workers.emplace_back([&, runner, t, from] {
      runner->run(from, end, start);
      cpu[t] = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
      std::lock_guard<std::mutex> lock(mutex);
      ++finished;
      cv.notify_all();
    });
  };
  g_interrupted.store(false);
  auto old_handler = std::signal(SIGINT, on_sigint);
  for (std::uint64_t t = 0; t < threads; ++t) {
    add_runner(share_of(t, threads, static_cast<long>(part_of(concurrency, threads, t))), start);
  }

  // Adaptive threads: the CPU time of each thread, window by window.
  load::Scaler scaler(static_cast<int>(most));
  auto thread_cpu = [&](std::size_t t) {
    clockid_t id{};
    return pthread_getcpuclockid(workers[t].native_handle(), &id) == 0 ? cpu_seconds(id) : 0.0;
  };
  auto done_so_far = [&] {
    std::uint64_t done = 0;
    for (const auto& r : runners) {
      done += r->progress().ok.load(std::memory_order_relaxed) +
              r->progress().failed.load(std::memory_order_relaxed);
    }
    return done;
  };
  const auto window = std::chrono::seconds(1);
  Clock::time_point window_at = start;
  std::uint64_t window_done = 0;
  std::vector<double> window_cpu(1, 0.0);
  auto rebalance = [&](std::size_t active) {
    for (std::size_t t = 0; t < active; ++t) {
      runners[t]->set_concurrency(static_cast<long>(part_of(concurrency, active, t)));
    }
  };

  bool progress = !c.options.quiet && !c.options.verbose && isatty(fileno(stderr)) != 0 &&
                  transcript_file == nullptr;
  bool stopped = false;
  Clock::time_point next_progress = Clock::now() + std::chrono::milliseconds(500);
  {
    std::unique_lock<std::mutex> lock(mutex);
    while (finished < runners.size()) {
      cv.wait_for(lock, std::chrono::milliseconds(100));
      if (g_interrupted.load() && !stopped) {
        stopped = true;
        for (auto& r : runners) r->stop();
      }
      Clock::time_point now = Clock::now();
      if (adaptive && !stopped && !scaler.settled() && now - window_at >= window && finished == 0) {
        double span = std::chrono::duration<double>(now - window_at).count();
        std::uint64_t done = done_so_far();
        double per_second = static_cast<double>(done - window_done) / span;
        auto active = static_cast<std::size_t>(scaler.threads());
        std::vector<double> busy;
        for (std::size_t t = 0; t < active; ++t) {
          busy.push_back((thread_cpu(t) - window_cpu[t]) / span);
        }
        double left = end ? std::chrono::duration<double>(*end - now).count()
                      : per_second > 0
                          ? static_cast<double>(*count - std::min(done, *count)) / per_second
                          : 0;
        switch (scaler.decide(per_second, busy, left)) {
          case load::Scaler::Action::add:
            add_runner(share_of(active, active + 1, 0), now);
            rebalance(active + 1);
            break;
          case load::Scaler::Action::retire:
            runners[active - 1]->set_concurrency(0);
            rebalance(active - 1);
            break;
          case load::Scaler::Action::none:
            break;
        }
        window_at = now;
        window_done = done;
        window_cpu.assign(static_cast<std::size_t>(scaler.threads()), 0.0);
        for (std::size_t t = 0; t < window_cpu.size(); ++t) window_cpu[t] = thread_cpu(t);
      }
      if (progress && now >= next_progress && finished < runners.size()) {
        lock.unlock();
        show_progress(runners, start);
        lock.lock();
        next_progress += std::chrono::milliseconds(500);
      }
    }
  }
  for (auto& w : workers) w.join();
  std::signal(SIGINT, old_handler == SIG_ERR ? SIG_DFL : old_handler);
  if (progress) std::fputs("\r\033[K", stderr);
  if (transcript_file != nullptr) std::fclose(transcript_file);

  for (auto& r : runners) {
    if (!r->error().empty()) {
      std::fprintf(stderr, "parley: %s\n", r->error().c_str());
      return 2;
    }
  }
  for (auto& r : runners) {
    if (!r->threshold_error().empty()) {
      std::fprintf(stderr, "parley: %s: %s\n", script.c_str(), r->threshold_error().c_str());
      return 2;
    }
  }
  load::Results total;
  for (auto& r : runners) total.merge(r->results());
  for (double seconds : cpu) total.cpu_seconds += seconds;
  if (adaptive && scaler.tried() > 0) {
    int kept = scaler.threads();
    total.threads_note =
        std::to_string(kept) + (kept == 1 ? " thread" : " threads") + " kept of " +
        std::to_string(scaler.tried() + 1) + " tried: " +
        (scaler.settled() ? "the last one brought less than 10 % more conversations a second"
                          : "each brought 10 % more conversations a second or better");
  }
  load::Settings& st = total.settings;
  st.script = script;
  st.concurrency = static_cast<long>(concurrency);
  st.threads = adaptive ? scaler.threads() : static_cast<long>(threads);
  st.count = count;
  st.duration = f.duration;
  st.rate = rate;
  st.timeout = c.options.timeout;
  st.shard = f.shard;
  st.shards = f.shards;
  total.started_at = started_at;
  int status = judge(total, given, stopped);
  std::string out = f.json ? total.to_json() : total.to_text();
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (!html.write(total)) return 2;
  return status;
}

int load_command(Common& c, const LoadFlags& f) {
  if (f.merge) {
    std::vector<std::string> rest;
    if (!c.script.empty()) rest.push_back(c.script);
    rest.insert(rest.end(), c.rest.begin(), c.rest.end());
    if (f.json) rest.push_back("--json");
    return merge(rest, f);
  }
  if (c.script.empty()) throw UsageError("load: no script given");
  if (!f.count && !f.duration) {
    throw UsageError("load: give -n COUNT or --duration S (or both): a load always ends");
  }
  take_args(c);
  return run_load(c, f);
}

Runner define(CLI::App& app) {
  auto c = std::make_shared<Common>();
  auto f = std::make_shared<LoadFlags>();
  add_common(app, *c);
  add_checked(app, "-c,--concurrency", "conversations at once (1)", [f](const std::string& v) {
    f->concurrency = parse_count("-c", v);
  })->type_name("N");
  add_checked(app, "-n,--count", "conversations in all", [f](const std::string& v) {
    f->count = static_cast<std::uint64_t>(parse_count("-n", v));
  })->type_name("COUNT");
  add_checked(app, "--duration", "stop starting conversations after S (30, 30s, 500ms, 5m, 1h)",
              [f](const std::string& v) { f->duration = parse_duration("--duration", v); })
      ->type_name("S");
  add_checked(app, "--rate", "start R conversations a second (open model)",
              [f](const std::string& v) { f->rate = parse_rate("--rate", v); })
      ->type_name("R");
  add_checked(
      app, "--threads",
      "engines to run, each on a thread of its own; auto: one per core (at most -c); "
      "without it: adaptive",
      [f](const std::string& v) { f->threads = v == "auto" ? 0 : parse_count("--threads", v); })
      ->type_name("T|auto");
  // `-j` means jobs (files at once) in `parley test`; here it would be ambiguous between
  // threads and concurrency, so it is refused with a pointer to both.
  add_checked(app, "-j", "", [](const std::string&) {
    throw UsageError(
        "load has no -j: --threads T sets the threads (engines), -c N the conversations at once");
  })->group("");
  add_checked(
      app, "--shard", "run the I-th of N parts of the whole load (N machines together)",
      [f](const std::string& v) { std::tie(f->shard, f->shards) = parse_shard("--shard", v); })
      ->type_name("I/N");
  app.add_option("--threshold", f->thresholds,
                 "exit 1 unless the run meets EXPR: p99<50ms, p95(step=rcpt)<10ms, failed<1%, "
                 "throughput>500 (repeatable)")
      ->type_name("EXPR")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--html", f->html,
                 "also write a self-contained HTML report (charts, steps, thresholds) to FILE")
      ->type_name("FILE");
  app.add_flag("--json", f->json, "results as JSON (for --merge)");
  app.add_flag("--merge", f->merge,
               "add up the --json results of shards: parley load --merge [--json] RESULT.json ...");
  app.add_option("SCRIPT", c->script, "the conversation script (with --merge: a result file)")
      ->type_name("");
  add_args(app, *c, "NAME=VALUE", "script arguments (with --merge: more result files)");
  return [c, f] { return load_command(*c, *f); };
}

RegisterCommand load_registration{
    "load",
    "run a conversation many times at once: parley load -c N (-n COUNT | --duration S) SCRIPT",
    define};

}  // namespace

}  // namespace parley::cli
