#include "load/threshold.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace parley::load {

namespace {

const char* const kMetrics =
    "p50, p90, p95, p99, p99.9 (any pN), min, max, mean, failed or throughput";

std::string trim(const std::string& s) {
  std::size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  std::size_t b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

// "99", "99.9", "999" (p999 is 99.9, as in the JSON's key) -> the percentile.
double percentile_of(const std::string& digits, const std::string& metric) {
  if (digits.empty() || digits.find_first_not_of("0123456789.") != std::string::npos) {
    throw ThresholdError("unknown metric \"" + metric + "\" (" + kMetrics + ")");
  }
  char* end = nullptr;
  double p = std::strtod(digits.c_str(), &end);
  if (*end != '\0') throw ThresholdError("\"" + metric + "\" is not a percentile");
  if (digits == "999") p = 99.9;
  if (!(p > 0 && p <= 100)) {
    throw ThresholdError("the percentile of \"" + metric + "\" is not above 0 and at most 100");
  }
  return p;
}

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// "12.5", "3" (no trailing zeros, at most 2 decimals).
std::string plain(double v) {
  std::string s = fmt("%.2f", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string metric_name(const Threshold& t) {
  std::string name;
  switch (t.metric) {
    case Threshold::Metric::percentile:
      // append, not "p" + ...: GCC 12 at -O3 reports a false -Wrestrict on operator+
      name = "p";
      name.append(t.percentile == 99.9 ? "99.9" : plain(t.percentile));
      break;
    case Threshold::Metric::min:
      name = "min";
      break;
    case Threshold::Metric::max:
      name = "max";
      break;
    case Threshold::Metric::mean:
      name = "mean";
      break;
    case Threshold::Metric::failed_rate:
    case Threshold::Metric::failed_count:
      name = "failed";
      break;
    case Threshold::Metric::throughput:
      name = "throughput";
      break;
  }
  if (t.step) name += "(step=" + *t.step + ")";
  if (t.cause) name += "(cause=" + *t.cause + ")";
  return name;
}

std::string micros_text(double us) {
  return format_micros(static_cast<std::uint64_t>(std::llround(std::max(us, 0.0))));
}

}  // namespace

Threshold parse_threshold(const std::string& expr) {
  Threshold t;
  t.expr = expr;
  std::string s = trim(expr);
  if (s.empty()) throw ThresholdError("it is empty (e.g. p99<50ms, failed<1%, throughput>500)");
  // The comparison comes after the selector, whose name may hold any character but ')'.
  std::size_t from = 0;
  std::size_t open = s.find('(');
  if (open != std::string::npos && open < s.find_first_of("<>=!")) {
    std::size_t close = s.find(')', open);
    if (close == std::string::npos) {
      throw ThresholdError("\"" + s + "\": a '(' without its ')'");
    }
    from = close;
  }
  std::size_t op_at = s.find_first_of("<>=!", from);
  if (op_at == std::string::npos) {
    throw ThresholdError("no comparison: write METRIC<VALUE, <=, > or >= (e.g. p99<50ms)");
  }
  std::string left = trim(s.substr(0, op_at));
  std::string right;
  if (s.compare(op_at, 2, "<=") == 0) {
    t.op = Threshold::Op::le;
    right = s.substr(op_at + 2);
  } else if (s.compare(op_at, 2, ">=") == 0) {
    t.op = Threshold::Op::ge;
    right = s.substr(op_at + 2);
  } else if (s[op_at] == '<' || s[op_at] == '>') {
    t.op = s[op_at] == '<' ? Threshold::Op::lt : Threshold::Op::gt;
    right = s.substr(op_at + 1);
  } else {
    throw ThresholdError("\"" + s.substr(op_at, 2) + "\" is not a comparison (<, <=, >, >=)");
  }
  right = trim(right);
  if (left.empty())
    throw ThresholdError("no metric before the comparison (" + std::string(kMetrics) + ")");

  // METRIC[(KEY=NAME)], with p(N) as k6 writes it.
  std::string metric = left;
  std::size_t paren = left.find('(');
  if (paren != std::string::npos) {
    if (left.back() != ')') throw ThresholdError("\"" + left + "\": a '(' without its ')'");
    metric = trim(left.substr(0, paren));
    std::string inside = trim(left.substr(paren + 1, left.size() - paren - 2));
    std::size_t eq = inside.find('=');
    if (metric == "p" && eq == std::string::npos) {
      metric = "p" + inside;
    } else {
      if (eq == std::string::npos) {
        throw ThresholdError("\"(" + inside + ")\": write (step=NAME) or (cause=NAME)");
      }
      std::string key = trim(inside.substr(0, eq));
      std::string name = trim(inside.substr(eq + 1));
      if (name.empty()) throw ThresholdError("\"(" + inside + ")\" names nothing");
      if (key == "step") {
        t.step = name;
      } else if (key == "cause") {
        t.cause = name;
      } else {
        throw ThresholdError("\"" + key + "=\": only step= and cause= select (step=NAME)");
      }
    }
  }
  if (metric == "min") {
    t.metric = Threshold::Metric::min;
  } else if (metric == "max") {
    t.metric = Threshold::Metric::max;
  } else if (metric == "mean" || metric == "avg") {
    t.metric = Threshold::Metric::mean;
  } else if (metric == "failed") {
    t.metric = Threshold::Metric::failed_count;
  } else if (metric == "throughput") {
    t.metric = Threshold::Metric::throughput;
  } else if (metric.size() > 1 && metric[0] == 'p') {
    t.metric = Threshold::Metric::percentile;
    t.percentile = percentile_of(metric.substr(1), metric);
  } else {
    throw ThresholdError("unknown metric \"" + metric + "\" (" + kMetrics + ")");
  }
  if (t.cause && t.metric != Threshold::Metric::failed_count) {
    throw ThresholdError("(cause=...) selects failures: write failed(cause=" + *t.cause + ")");
  }
  if (t.step && t.metric == Threshold::Metric::throughput) {
    throw ThresholdError("throughput is of whole conversations: it takes no (step=...)");
  }

  // NUMBER[UNIT]
  std::size_t unit_at = right.find_first_not_of("0123456789.");
  std::string number = right.substr(0, unit_at);
  std::string unit = unit_at == std::string::npos ? "" : trim(right.substr(unit_at));
  char* end = nullptr;
  double v = number.empty() ? 0 : std::strtod(number.c_str(), &end);
  if (number.empty() || *end != '\0' || !std::isfinite(v)) {
    throw ThresholdError("\"" + right + "\" is not a number" +
                         (right.empty() ? std::string(" (nothing after the comparison)") : ""));
  }
  if (t.latency()) {
    double scale = unit == "us" || unit == "µs"   ? 1
                   : unit == "ms" || unit.empty() ? 1e3
                   : unit == "s"                  ? 1e6
                                                  : -1;
    if (scale < 0) {
      throw ThresholdError("\"" + unit +
                           "\" is not a unit of time (us, ms, s; a bare number is ms)");
    }
    t.limit = v * scale;
  } else if (t.metric == Threshold::Metric::failed_count) {
    if (unit == "%") {
      t.metric = Threshold::Metric::failed_rate;
      if (v > 100) throw ThresholdError(plain(v) + " % is more than all conversations");
    } else if (!unit.empty()) {
      throw ThresholdError("\"" + unit +
                           "\": failed takes a count (failed<10) or a share (failed<1%)");
    } else if (v != std::floor(v)) {
      throw ThresholdError(number + " is not a whole number of conversations (a share takes %)");
    }
    t.limit = v;
  } else {
    if (!unit.empty() && unit != "/s") {
      throw ThresholdError("\"" + unit +
                           "\": throughput is conversations a second (throughput>500)");
    }
    t.limit = v;
  }
  return t;
}

ThresholdResult evaluate(const Threshold& t, const Results& r, const std::string& source) {
  ThresholdResult out;
  out.expr = t.expr;
  out.source = source;
  out.gates_failures = t.about_failures();
  std::string name = metric_name(t);
  std::string nothing;
  double value = 0;
  if (t.latency()) {
    const Histogram* h = &r.latency;
    if (t.step) {
      auto it = r.steps.find(*t.step);
      h = it == r.steps.end() ? nullptr : &it->second.latency;
    }
    if (h == nullptr || h->count() == 0) {
      nothing = t.step ? "no step \"" + *t.step + "\" completed" : "no conversation succeeded";
    } else {
      switch (t.metric) {
        case Threshold::Metric::percentile:
          value = static_cast<double>(h->percentile(t.percentile));
          break;
        case Threshold::Metric::min:
          value = static_cast<double>(h->min());
          break;
        case Threshold::Metric::max:
          value = static_cast<double>(h->max());
          break;
        default:
          value = h->mean();
          break;
      }
    }
  } else if (t.metric == Threshold::Metric::throughput) {
    if (r.elapsed <= 0) nothing = "no time elapsed";
    value = r.throughput();
  } else {
    std::uint64_t n = r.failed;
    if (t.step || t.cause) {
      n = 0;
      for (const auto& [key, f] : r.failures) {
        if ((!t.cause || key.first == *t.cause) && (!t.step || key.second == *t.step)) {
          n += f.count;
        }
      }
    }
    if (t.metric == Threshold::Metric::failed_rate) {
      if (r.done() == 0) nothing = "no conversation ended";
      value = r.done() > 0 ? 100.0 * static_cast<double>(n) / static_cast<double>(r.done()) : 0;
    } else {
      value = static_cast<double>(n);
    }
  }
  auto text = [&](double v) {
    if (t.latency()) return micros_text(v);
    if (t.metric == Threshold::Metric::failed_rate)
      return fmt(v != 0 && v < 0.01 ? "%.4f %%" : "%.2f %%", v);
    if (t.metric == Threshold::Metric::throughput) return fmt("%.1f/s", v);
    return plain(v);
  };
  if (!nothing.empty()) {
    out.ok = false;
    out.has_value = false;
    out.measured = name + ": nothing measured";
    out.verdict = nothing;
    return out;
  }
  out.has_value = true;
  out.value = value;
  out.measured = name + " " + text(value);
  switch (t.op) {
    case Threshold::Op::lt:
      out.ok = value < t.limit;
      break;
    case Threshold::Op::le:
      out.ok = value <= t.limit;
      break;
    case Threshold::Op::gt:
      out.ok = value > t.limit;
      break;
    case Threshold::Op::ge:
      out.ok = value >= t.limit;
      break;
  }
  if (out.ok) {
    out.verdict = "ok";
    return out;
  }
  bool upper = t.op == Threshold::Op::lt || t.op == Threshold::Op::le;
  double by = std::fabs(value - t.limit);
  std::string amount = t.metric == Threshold::Metric::failed_rate
                           ? plain(by) + (by == 1 ? " point" : " points")
                       : t.latency()                               ? micros_text(by)
                       : t.metric == Threshold::Metric::throughput ? fmt("%.1f/s", by)
                                                                   : plain(by);
  if (by == 0) {
    out.verdict = std::string("at the limit of ") + text(t.limit) + ", which it must " +
                  (upper ? "stay under" : "exceed");
    return out;
  }
  out.verdict = amount + (upper ? " over" : " under") + " the limit of " + text(t.limit);
  if (t.limit > 0 && t.metric != Threshold::Metric::failed_rate) {
    out.verdict += fmt(upper ? " (+%.0f %%)" : " (-%.0f %%)", 100.0 * by / t.limit);
  }
  return out;
}

}  // namespace parley::load
