#include "load/results.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace parley::load {

namespace {

constexpr int kFormat = 1;

void merge_common(Results& into, const Results& other) {
  into.ok += other.ok;
  into.failed += other.failed;
  into.interrupted += other.interrupted;
  into.cpu_seconds += other.cpu_seconds;
  into.latency.merge(other.latency);
  into.failed_latency.merge(other.failed_latency);
  for (const auto& [key, f] : other.failures) {
    Failure& mine = into.failures[key];
    if (mine.count == 0) mine.example = f.example;
    mine.count += f.count;
  }
  for (const auto& [name, s] : other.steps) {
    auto [it, fresh] = into.steps.try_emplace(name);
    StepStats& mine = it->second;
    mine.order = fresh ? s.order : std::min(mine.order, s.order);
    mine.ok += s.ok;
    mine.failed += s.failed;
    mine.latency.merge(s.latency);
  }
  if (into.series.size() < other.series.size()) into.series.resize(other.series.size());
  for (std::size_t i = 0; i < other.series.size(); ++i) into.series[i].merge(other.series[i]);
  for (const auto& t : other.script_thresholds) {
    if (std::find(into.script_thresholds.begin(), into.script_thresholds.end(), t) ==
        into.script_thresholds.end()) {
      into.script_thresholds.push_back(t);
    }
  }
  if (other.started_at > 0 && (into.started_at == 0 || other.started_at < into.started_at)) {
    into.started_at = other.started_at;
  }
  into.elapsed = std::max(into.elapsed, other.elapsed);
}

// Members in the order written (the format's documented order), numbers as JSON numbers.
using Json = nlohmann::ordered_json;

// A double as the results have always written it (15 significant digits, "30" rather than
// "30.0"): rounded to 15 digits, and whole values below 1e15 stored as integers.
Json number(double d) {
  if (!std::isfinite(d)) return nullptr;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", d);
  double rounded = std::strtod(buf, nullptr);
  if (rounded == std::trunc(rounded) && std::fabs(rounded) < 1e15) {
    return static_cast<std::int64_t>(rounded);
  }
  return rounded;
}

Json histogram_json(const Histogram& h) {
  Json buckets = Json::array();
  for (const auto& [lower, n] : h.buckets()) buckets.push_back(Json::array({lower, n}));
  return Json{{"unit", "us"},
              {"count", h.count()},
              {"min", h.min()},
              {"max", h.max()},
              {"sum", h.sum()},
              {"mean", number(h.mean())},
              {"p50", h.percentile(50)},
              {"p90", h.percentile(90)},
              {"p99", h.percentile(99)},
              {"p999", h.percentile(99.9)},
              {"buckets", std::move(buckets)}};
}

const Json& need(const Json& v, const char* key) {
  auto it = v.find(key);
  if (it == v.end()) throw std::runtime_error("no \"" + std::string(key) + "\" in the results");
  return *it;
}

// A whole number from 0 up, exact to 64 bits.
std::uint64_t count_of(const Json& v, const char* what) {
  if (!v.is_number_unsigned()) {
    throw std::runtime_error(std::string(what) + ": a whole number from 0 up was expected, not " +
                             v.dump());
  }
  return v.get<std::uint64_t>();
}

std::uint64_t need_count(const Json& v, const char* key) {
  return count_of(need(v, key), key);
}

const std::string* string_or_null(const Json& v, const char* key) {
  auto it = v.find(key);
  return it != v.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

Histogram read_histogram(const Json& v) {
  Histogram h;
  if (!v.is_object()) throw std::runtime_error("a latency histogram is not an object");
  const std::string* unit = string_or_null(v, "unit");
  if (unit == nullptr || *unit != "us") throw std::runtime_error("latency unit is not us");
  const Json& buckets = need(v, "buckets");
  if (!buckets.is_array()) throw std::runtime_error("\"buckets\" is not an array");
  for (const auto& b : buckets) {
    if (!b.is_array() || b.size() != 2) {
      throw std::runtime_error("a bucket is not a [lower, count] pair");
    }
    std::uint64_t lower = count_of(b[0], "a bucket's lower bound");
    if (!h.add_bucket(lower, count_of(b[1], "a bucket's count"))) {
      throw std::runtime_error("bucket " + std::to_string(lower) +
                               " is not a bucket of parley's histogram layout");
    }
  }
  if (need_count(v, "count") != h.count()) {
    throw std::runtime_error("bucket counts do not add up to the histogram's count");
  }
  h.set_exact(need_count(v, "min"), need_count(v, "max"), need_count(v, "sum"));
  return h;
}

std::optional<double> opt_number(const Json& v, const char* key) {
  auto it = v.find(key);
  if (it == v.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw std::runtime_error(std::string(key) + ": a number was expected");
  return it->get<double>();
}

std::string shorten(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  return s.substr(0, max - 3) + "...";
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

}  // namespace

std::string format_micros(std::uint64_t us) {
  auto v = static_cast<double>(us);
  if (us < 1000) return std::to_string(us) + " us";
  if (us < 10000) return fmt("%.2f ms", v / 1e3);
  if (us < 1000000) return fmt("%.1f ms", v / 1e3);
  if (us < 10000000) return fmt("%.2f s", v / 1e6);
  return fmt("%.1f s", v / 1e6);
}

SparseHistogram SparseHistogram::of(const Histogram& h, bool coarse) {
  SparseHistogram s;
  s.buckets = h.buckets();
  if (coarse) {
    // 8 neighbouring buckets (of the same power of two: 128 to each, 256 exact values below)
    // as their middle one.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> merged;
    for (const auto& [lower, n] : s.buckets) {
      std::uint64_t at = Histogram::lower_of((Histogram::index_of(lower) & ~std::size_t{7}) + 4);
      if (!merged.empty() && merged.back().first == at) {
        merged.back().second += n;
      } else {
        merged.emplace_back(at, n);
      }
    }
    s.buckets = std::move(merged);
    s.buckets.shrink_to_fit();
  }
  s.min = h.min();
  s.max = h.max();
  s.sum = h.sum();
  return s;
}

Histogram SparseHistogram::expand() const {
  Histogram h;
  for (const auto& [lower, n] : buckets) h.add_bucket(lower, n);
  h.set_exact(min, max, sum);
  return h;
}

std::uint64_t SparseHistogram::count() const {
  std::uint64_t n = 0;
  for (const auto& b : buckets) n += b.second;
  return n;
}

void SparseHistogram::merge(const SparseHistogram& other) {
  if (other.buckets.empty()) return;
  if (buckets.empty()) {
    *this = other;
    return;
  }
  Histogram h = expand();
  h.merge(other.expand());
  *this = of(h);
}

void Second::merge(const Second& other) {
  started += other.started;
  ok += other.ok;
  failed += other.failed;
  for (const auto& [cause, n] : other.causes) causes[cause] += n;
  latency.merge(other.latency);
  for (const auto& [name, h] : other.steps) steps[name].merge(h);
}

void Results::merge(const Results& other) {
  merge_common(*this, other);
}

void Results::merge_part(const Results& other) {
  merge_common(*this, other);
  Settings& s = settings;
  const Settings& o = other.settings;
  if (s.parts == 0) {  // the first part
    s = o;
    s.shard = 0;
    return;
  }
  s.concurrency += o.concurrency;
  s.threads += o.threads;
  s.count = s.count && o.count ? std::optional(*s.count + *o.count) : std::nullopt;
  if (o.duration) s.duration = std::max(s.duration.value_or(0), *o.duration);
  if (o.rate) s.rate = s.rate.value_or(0) + *o.rate;
  s.timeout = std::max(s.timeout, o.timeout);
  s.shard = 0;
  s.shards = std::max(s.shards, o.shards);
  s.parts += o.parts;
}

std::string Results::to_json() const {
  Json settings_json{
      {"concurrency", settings.concurrency},
      {"threads", settings.threads},
      {"count", settings.count ? Json(*settings.count) : Json(nullptr)},
      {"duration", settings.duration ? number(*settings.duration) : Json(nullptr)},
      {"rate", settings.rate ? number(*settings.rate) : Json(nullptr)},
      {"timeout", number(settings.timeout)},
      {"shard", settings.shards > 0 && settings.shard > 0
                    ? Json(std::to_string(settings.shard) + "/" + std::to_string(settings.shards))
                    : Json(nullptr)},
      {"parts", settings.parts}};
  std::vector<std::pair<std::pair<std::string, std::string>, Failure>> fails(failures.begin(),
                                                                             failures.end());
  std::stable_sort(fails.begin(), fails.end(),
                   [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
  Json failures_json = Json::array();
  for (const auto& [key, f] : fails) {
    failures_json.push_back(Json{{"cause", key.first},
                                 {"step", key.second.empty() ? Json(nullptr) : Json(key.second)},
                                 {"count", f.count},
                                 {"example", f.example}});
  }
  std::vector<std::pair<std::string, StepStats>> ordered(steps.begin(), steps.end());
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.second.order < b.second.order; });
  Json steps_json = Json::array();
  for (const auto& [name, s] : ordered) {
    steps_json.push_back(Json{{"name", name},
                              {"ok", s.ok},
                              {"failed", s.failed},
                              {"latency", histogram_json(s.latency)}});
  }
  Json doc{{"parley_load", kFormat},
           {"script", settings.script},
           {"settings", std::move(settings_json)},
           {"started_at", number(started_at)},
           {"elapsed", number(elapsed)},
           {"conversations",
            Json{{"done", done()}, {"ok", ok}, {"failed", failed}, {"interrupted", interrupted}}},
           {"throughput", number(throughput())},
           {"cpu_seconds", number(cpu_seconds)},
           {"latency", histogram_json(latency)},
           {"failed_latency", histogram_json(failed_latency)},
           {"failures", std::move(failures_json)},
           {"steps", std::move(steps_json)}};
  // Added to format 1 (readers of older files find none): the series and the thresholds. The
  // series is written a second at a time (a whole run's as one JSON tree took ~100 bytes a
  // bucket), and goes last.
  std::string series_text;
  if (!series.empty()) {
    series_text = ",\"series\":{\"interval\":1,\"seconds\":[";
    for (std::size_t i = 0; i < series.size(); ++i) {
      const Second& sec = series[i];
      Json causes = Json::object();
      for (const auto& [cause, n] : sec.causes) causes[cause] = n;
      Json step_latency = Json::object();
      for (const auto& [name, st] : ordered) {
        auto it = sec.steps.find(name);
        if (it != sec.steps.end()) step_latency[name] = histogram_json(it->second.expand());
      }
      Json second{{"t", i},
                  {"started", sec.started},
                  {"ok", sec.ok},
                  {"failed", sec.failed},
                  {"failures", std::move(causes)},
                  {"latency", histogram_json(sec.latency.expand())},
                  {"steps", std::move(step_latency)}};
      if (i > 0) series_text += ',';
      series_text += second.dump(-1, ' ', false, Json::error_handler_t::replace);
    }
    series_text += "]}";
  }
  if (!script_thresholds.empty()) doc["script_thresholds"] = script_thresholds;
  if (!thresholds.empty()) {
    Json list = Json::array();
    for (const auto& t : thresholds) {
      list.push_back(Json{{"expr", t.expr},
                          {"source", t.source},
                          {"ok", t.ok},
                          {"value", t.has_value ? number(t.value) : Json(nullptr)},
                          {"measured", t.measured},
                          {"verdict", t.verdict}});
    }
    doc["thresholds"] = std::move(list);
  }
  // Invalid UTF-8 (an example may quote a server's bytes) becomes U+FFFD.
  std::string text = doc.dump(-1, ' ', false, Json::error_handler_t::replace);
  text.insert(text.size() - 1, series_text);  // before the closing brace
  return text + "\n";
}

Results Results::from_json(const std::string& text) {
  Json v;
  try {
    v = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw std::runtime_error(std::string("not JSON: ") + e.what());
  }
  if (!v.is_object()) throw std::runtime_error("not a JSON object");
  auto format = v.find("parley_load");
  if (format == v.end()) throw std::runtime_error("not the --json output of parley load");
  if (!format->is_number_unsigned() || format->get<std::uint64_t>() != kFormat) {
    throw std::runtime_error("results format " + format->dump() + " is not " +
                             std::to_string(kFormat));
  }
  Results r;
  if (const std::string* s = string_or_null(v, "script")) r.settings.script = *s;
  const Json& st = need(v, "settings");
  if (!st.is_object()) throw std::runtime_error("\"settings\" is not an object");
  r.settings.concurrency = static_cast<long>(need_count(st, "concurrency"));
  r.settings.threads = static_cast<long>(need_count(st, "threads"));
  if (opt_number(st, "count")) r.settings.count = need_count(st, "count");
  r.settings.duration = opt_number(st, "duration");
  r.settings.rate = opt_number(st, "rate");
  r.settings.timeout = opt_number(st, "timeout").value_or(0);
  if (const std::string* sh = string_or_null(st, "shard")) {
    std::size_t slash = sh->find('/');
    if (slash != std::string::npos) {
      r.settings.shard = std::atol(sh->substr(0, slash).c_str());
      r.settings.shards = std::atol(sh->substr(slash + 1).c_str());
    }
  }
  if (st.contains("parts")) r.settings.parts = static_cast<long>(need_count(st, "parts"));
  r.started_at = opt_number(v, "started_at").value_or(0);
  r.elapsed = opt_number(v, "elapsed").value_or(0);
  r.cpu_seconds = opt_number(v, "cpu_seconds").value_or(0);
  const Json& conv = need(v, "conversations");
  if (!conv.is_object()) throw std::runtime_error("\"conversations\" is not an object");
  r.ok = need_count(conv, "ok");
  r.failed = need_count(conv, "failed");
  r.interrupted = need_count(conv, "interrupted");
  r.latency = read_histogram(need(v, "latency"));
  r.failed_latency = read_histogram(need(v, "failed_latency"));
  if (r.latency.count() != r.ok || r.failed_latency.count() != r.failed) {
    throw std::runtime_error("latency counts differ from the conversation counts");
  }
  const Json& fails = need(v, "failures");
  if (!fails.is_array()) throw std::runtime_error("\"failures\" is not an array");
  for (const auto& f : fails) {
    if (!f.is_object()) throw std::runtime_error("a failure is not an object");
    const std::string* cause = string_or_null(f, "cause");
    if (cause == nullptr) throw std::runtime_error("a failure's cause is not a string");
    const std::string* step = string_or_null(f, "step");
    Failure& mine = r.failures[{*cause, step != nullptr ? *step : ""}];
    mine.count += need_count(f, "count");
    if (const std::string* e = string_or_null(f, "example")) mine.example = *e;
  }
  const Json& steps_json = need(v, "steps");
  if (!steps_json.is_array()) throw std::runtime_error("\"steps\" is not an array");
  long order = 0;
  for (const auto& s : steps_json) {
    if (!s.is_object()) throw std::runtime_error("a step is not an object");
    const std::string* name = string_or_null(s, "name");
    if (name == nullptr) throw std::runtime_error("a step's name is not a string");
    StepStats& mine = r.steps[*name];
    mine.order = order++;
    mine.ok = need_count(s, "ok");
    mine.failed = need_count(s, "failed");
    mine.latency = read_histogram(need(s, "latency"));
  }
  auto series_json = v.find("series");
  if (series_json != v.end() && !series_json->is_null()) {
    const Json& seconds = need(*series_json, "seconds");
    if (!seconds.is_array()) throw std::runtime_error("\"series\" has no array of seconds");
    for (const auto& sj : seconds) {
      if (!sj.is_object()) throw std::runtime_error("a second of the series is not an object");
      std::uint64_t t = need_count(sj, "t");
      if (t > 10'000'000) throw std::runtime_error("a second of the series is past 10^7 s");
      if (r.series.size() <= t) r.series.resize(t + 1);
      Second sec;
      sec.started = need_count(sj, "started");
      sec.ok = need_count(sj, "ok");
      sec.failed = need_count(sj, "failed");
      const Json& causes = need(sj, "failures");
      if (!causes.is_object()) throw std::runtime_error("a second's failures are not an object");
      for (const auto& [cause, n] : causes.items())
        sec.causes[cause] = count_of(n, "a failure count");
      sec.latency = SparseHistogram::of(read_histogram(need(sj, "latency")));
      const Json& st = need(sj, "steps");
      if (!st.is_object()) throw std::runtime_error("a second's steps are not an object");
      for (const auto& [name, h] : st.items()) {
        sec.steps[name] = SparseHistogram::of(read_histogram(h));
      }
      r.series[t].merge(sec);
    }
  }
  auto declared = v.find("script_thresholds");
  if (declared != v.end() && declared->is_array()) {
    for (const auto& t : *declared) {
      if (!t.is_string()) throw std::runtime_error("a script threshold is not a string");
      r.script_thresholds.push_back(t.get<std::string>());
    }
  }
  return r;
}

std::string Results::to_text() const {
  std::string out = "parley load: " + settings.script;
  out += ", concurrency " + std::to_string(settings.concurrency);
  out += ", " + std::to_string(settings.threads) + (settings.threads == 1 ? " thread" : " threads");
  if (settings.rate) out += ", rate " + fmt("%g", *settings.rate) + "/s";
  if (settings.shards > 0 && settings.shard > 0) {
    out += ", shard " + std::to_string(settings.shard) + "/" + std::to_string(settings.shards);
  }
  if (settings.parts > 1) out += ", " + std::to_string(settings.parts) + " results merged";
  out += "\n";
  double pct = done() > 0 ? 100.0 * static_cast<double>(failed) / static_cast<double>(done()) : 0;
  out += "  conversations  " + std::to_string(done()) + " in " + fmt("%.3f s", elapsed) + ": " +
         std::to_string(ok) + " ok, " + std::to_string(failed) + " failed (" +
         fmt(pct > 0 && pct < 0.1 ? "%.3f" : "%.1f", pct) + " %)";
  if (interrupted > 0) {
    out += ", " + std::to_string(interrupted) + " interrupted at the end";
  }
  out += "\n";
  out += "  throughput     " + fmt("%.1f", throughput()) + " conversations/s\n";
  if (cpu_seconds > 0 && elapsed > 0 && settings.threads > 0) {
    // Is the load generator the bottleneck? Its threads' CPU time against their wall time.
    double busy = 100.0 * cpu_seconds / (elapsed * static_cast<double>(settings.threads));
    out += "  parley CPU     " + fmt("%.2f s", cpu_seconds) + ", " +
           (settings.threads == 1 ? "its thread" : "its threads") + " busy " +
           fmt("%.0f", std::min(busy, 100.0)) + " % of the run";
    if (busy >= 90 && threads_note.empty()) {
      out += " (parley may be the bottleneck: see --threads)";
    }
    out += "\n";
  }
  if (!threads_note.empty()) out += "  threads        " + threads_note + "\n";
  auto line = [](const Histogram& h) {
    return "p50 " + format_micros(h.percentile(50)) + "   p90 " + format_micros(h.percentile(90)) +
           "   p99 " + format_micros(h.percentile(99)) + "   max " + format_micros(h.max());
  };
  if (latency.count() > 0) out += "  latency        " + line(latency) + "\n";
  if (failed_latency.count() > 0) {
    out += "  failed after   " + line(failed_latency) + "\n";
  }
  if (settings.rate && latency.count() > 0) {
    out += "                 (from each conversation's scheduled start)\n";
  }
  if (!steps.empty()) {
    std::vector<std::pair<std::string, StepStats>> ordered(steps.begin(), steps.end());
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto& a, const auto& b) { return a.second.order < b.second.order; });
    std::size_t width = 4;
    for (const auto& [name, s] : ordered)
      width = std::max(width, std::min<std::size_t>(name.size(), 24));
    char buf[256];
    std::snprintf(buf, sizeof buf, "  %-*s %9s %7s %10s %10s %10s %10s\n",
                  static_cast<int>(width + 2), "steps", "ok", "failed", "p50", "p90", "p99", "max");
    out += buf;
    for (const auto& [name, s] : ordered) {
      const Histogram& h = s.latency;
      std::snprintf(
          buf, sizeof buf, "    %-*s %9llu %7llu %10s %10s %10s %10s\n", static_cast<int>(width),
          shorten(name, 24).c_str(), static_cast<unsigned long long>(s.ok),
          static_cast<unsigned long long>(s.failed), format_micros(h.percentile(50)).c_str(),
          format_micros(h.percentile(90)).c_str(), format_micros(h.percentile(99)).c_str(),
          format_micros(h.max()).c_str());
      out += buf;
    }
  }
  if (!thresholds.empty()) {
    out += "  thresholds\n";
    std::size_t width = 8;
    for (const auto& t : thresholds)
      width = std::max(width, std::min<std::size_t>(t.expr.size(), 40));
    for (const auto& t : thresholds) {
      char buf[512];
      std::snprintf(buf, sizeof buf, "    %-6s  %-*s  %s%s%s\n", t.ok ? "ok" : "MISSED",
                    static_cast<int>(width), shorten(t.expr, 40).c_str(), t.measured.c_str(),
                    t.ok ? "" : ": ", t.ok ? "" : t.verdict.c_str());
      out += buf;
    }
  }
  if (!failures.empty()) {
    out += "  failures\n";
    std::vector<std::pair<std::pair<std::string, std::string>, Failure>> fails(failures.begin(),
                                                                               failures.end());
    std::stable_sort(fails.begin(), fails.end(),
                     [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
    for (const auto& [key, f] : fails) {
      char count[32];
      std::snprintf(count, sizeof count, "%9llu", static_cast<unsigned long long>(f.count));
      out += std::string("  ") + count + "  " + key.first;
      if (!key.second.empty()) out += " (step " + key.second + ")";
      if (!f.example.empty()) out += ": " + shorten(f.example, 160);
      out += "\n";
    }
  }
  return out;
}

}  // namespace parley::load
