#include "load/results.hpp"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "load/json.hpp"

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
  if (other.started_at > 0 && (into.started_at == 0 || other.started_at < into.started_at)) {
    into.started_at = other.started_at;
  }
  into.elapsed = std::max(into.elapsed, other.elapsed);
}

void write_histogram(json::Writer& w, const Histogram& h) {
  w.begin_object();
  w.key("unit").value("us");
  w.key("count").value(h.count());
  w.key("min").value(h.min());
  w.key("max").value(h.max());
  w.key("sum").value(h.sum());
  w.key("mean").value(h.mean());
  w.key("p50").value(h.percentile(50));
  w.key("p90").value(h.percentile(90));
  w.key("p99").value(h.percentile(99));
  w.key("p999").value(h.percentile(99.9));
  w.key("buckets").begin_array();
  for (const auto& [lower, n] : h.buckets()) w.begin_array().value(lower).value(n).end_array();
  w.end_array();
  w.end_object();
}

const json::Value& need(const json::Value& v, std::string_view key) {
  const json::Value* m = v.get(key);
  if (m == nullptr) throw std::runtime_error("no \"" + std::string(key) + "\" in the results");
  return *m;
}

Histogram read_histogram(const json::Value& v) {
  Histogram h;
  if (!v.is_object()) throw std::runtime_error("a latency histogram is not an object");
  const json::Value& unit = need(v, "unit");
  if (!unit.is_string() || unit.text != "us") throw std::runtime_error("latency unit is not us");
  const json::Value& buckets = need(v, "buckets");
  if (!buckets.is_array()) throw std::runtime_error("\"buckets\" is not an array");
  for (const auto& b : buckets.items) {
    if (!b.is_array() || b.items.size() != 2) {
      throw std::runtime_error("a bucket is not a [lower, count] pair");
    }
    std::uint64_t lower = b.items[0].as_count();
    if (!h.add_bucket(lower, b.items[1].as_count())) {
      throw std::runtime_error("bucket " + std::to_string(lower) +
                               " is not a bucket of parley's histogram layout");
    }
  }
  if (need(v, "count").as_count() != h.count()) {
    throw std::runtime_error("bucket counts do not add up to the histogram's count");
  }
  h.set_exact(need(v, "min").as_count(), need(v, "max").as_count(), need(v, "sum").as_count());
  return h;
}

std::optional<double> opt_number(const json::Value& v, std::string_view key) {
  const json::Value* m = v.get(key);
  if (m == nullptr || m->is_null()) return std::nullopt;
  return m->as_double();
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
  json::Writer w;
  w.begin_object();
  w.key("parley_load").value(kFormat);
  w.key("script").value(settings.script);
  w.key("settings").begin_object();
  w.key("concurrency").value(settings.concurrency);
  w.key("threads").value(settings.threads);
  w.key("count");
  settings.count ? w.value(*settings.count) : w.null();
  w.key("duration");
  settings.duration ? w.value(*settings.duration) : w.null();
  w.key("rate");
  settings.rate ? w.value(*settings.rate) : w.null();
  w.key("timeout").value(settings.timeout);
  w.key("shard");
  if (settings.shards > 0 && settings.shard > 0) {
    w.value(std::to_string(settings.shard) + "/" + std::to_string(settings.shards));
  } else {
    w.null();
  }
  w.key("parts").value(settings.parts);
  w.end_object();
  w.key("started_at").value(started_at);
  w.key("elapsed").value(elapsed);
  w.key("conversations").begin_object();
  w.key("done").value(done());
  w.key("ok").value(ok);
  w.key("failed").value(failed);
  w.key("interrupted").value(interrupted);
  w.end_object();
  w.key("throughput").value(throughput());
  w.key("cpu_seconds").value(cpu_seconds);
  w.key("latency");
  write_histogram(w, latency);
  w.key("failed_latency");
  write_histogram(w, failed_latency);
  std::vector<std::pair<std::pair<std::string, std::string>, Failure>> fails(failures.begin(),
                                                                             failures.end());
  std::stable_sort(fails.begin(), fails.end(),
                   [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
  w.key("failures").begin_array();
  for (const auto& [key, f] : fails) {
    w.begin_object();
    w.key("cause").value(key.first);
    w.key("step");
    key.second.empty() ? w.null() : w.value(key.second);
    w.key("count").value(f.count);
    w.key("example").value(f.example);
    w.end_object();
  }
  w.end_array();
  std::vector<std::pair<std::string, StepStats>> ordered(steps.begin(), steps.end());
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.second.order < b.second.order; });
  w.key("steps").begin_array();
  for (const auto& [name, s] : ordered) {
    w.begin_object();
    w.key("name").value(name);
    w.key("ok").value(s.ok);
    w.key("failed").value(s.failed);
    w.key("latency");
    write_histogram(w, s.latency);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str() + "\n";
}

Results Results::from_json(const std::string& text) {
  json::Value v = json::parse(text);
  if (!v.is_object()) throw std::runtime_error("not a JSON object");
  const json::Value* format = v.get("parley_load");
  if (format == nullptr) throw std::runtime_error("not the --json output of parley load");
  if (format->as_count() != kFormat) {
    throw std::runtime_error("results format " + format->text + " is not " +
                             std::to_string(kFormat));
  }
  Results r;
  if (const json::Value* s = v.get("script"); s != nullptr && s->is_string()) {
    r.settings.script = s->text;
  }
  const json::Value& st = need(v, "settings");
  r.settings.concurrency = static_cast<long>(need(st, "concurrency").as_count());
  r.settings.threads = static_cast<long>(need(st, "threads").as_count());
  if (auto c = opt_number(st, "count")) r.settings.count = need(st, "count").as_count();
  r.settings.duration = opt_number(st, "duration");
  r.settings.rate = opt_number(st, "rate");
  r.settings.timeout = opt_number(st, "timeout").value_or(0);
  if (const json::Value* sh = st.get("shard"); sh != nullptr && sh->is_string()) {
    std::size_t slash = sh->text.find('/');
    if (slash != std::string::npos) {
      r.settings.shard = std::atol(sh->text.substr(0, slash).c_str());
      r.settings.shards = std::atol(sh->text.substr(slash + 1).c_str());
    }
  }
  if (const json::Value* p = st.get("parts")) r.settings.parts = static_cast<long>(p->as_count());
  r.started_at = opt_number(v, "started_at").value_or(0);
  r.elapsed = opt_number(v, "elapsed").value_or(0);
  r.cpu_seconds = opt_number(v, "cpu_seconds").value_or(0);
  const json::Value& conv = need(v, "conversations");
  r.ok = need(conv, "ok").as_count();
  r.failed = need(conv, "failed").as_count();
  r.interrupted = need(conv, "interrupted").as_count();
  r.latency = read_histogram(need(v, "latency"));
  r.failed_latency = read_histogram(need(v, "failed_latency"));
  if (r.latency.count() != r.ok || r.failed_latency.count() != r.failed) {
    throw std::runtime_error("latency counts differ from the conversation counts");
  }
  const json::Value& fails = need(v, "failures");
  if (!fails.is_array()) throw std::runtime_error("\"failures\" is not an array");
  for (const auto& f : fails.items) {
    const json::Value& cause = need(f, "cause");
    const json::Value* step = f.get("step");
    if (!cause.is_string()) throw std::runtime_error("a failure's cause is not a string");
    std::string step_name = step != nullptr && step->is_string() ? step->text : "";
    Failure& mine = r.failures[{cause.text, step_name}];
    mine.count += need(f, "count").as_count();
    if (const json::Value* e = f.get("example"); e != nullptr && e->is_string()) {
      mine.example = e->text;
    }
  }
  const json::Value& steps = need(v, "steps");
  if (!steps.is_array()) throw std::runtime_error("\"steps\" is not an array");
  long order = 0;
  for (const auto& s : steps.items) {
    const json::Value& name = need(s, "name");
    if (!name.is_string()) throw std::runtime_error("a step's name is not a string");
    StepStats& mine = r.steps[name.text];
    mine.order = order++;
    mine.ok = need(s, "ok").as_count();
    mine.failed = need(s, "failed").as_count();
    mine.latency = read_histogram(need(s, "latency"));
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
