#include "load/html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <optional>
#include <vector>

namespace parley::load {

namespace {

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string num(double v) {  // SVG coordinates
  return fmt("%.1f", v);
}

std::string count_text(std::uint64_t n) {  // 1,234,567
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// Axis labels: short, no trailing zeros ("2.5k", "40", "0.5").
std::string short_number(double v) {
  if (v >= 1e6) return fmt("%gM", v / 1e6);
  if (v >= 1e4) return fmt("%gk", v / 1e3);
  return fmt("%g", v);
}

std::string short_micros(double us) {
  if (us <= 0) return "0";
  if (us < 1000) return fmt("%g us", us);
  if (us < 1e6) return fmt("%g ms", us / 1e3);
  return fmt("%g s", us / 1e6);
}

std::string time_label(double s) {
  if (s < 60) return fmt("%gs", s);
  auto whole = static_cast<long>(s);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld", whole / 60, whole % 60);
  return buf;
}

// The smallest "nice" value (1, 2, 2.5, 5 times a power of ten) at or above v.
double nice(double v) {
  if (!(v > 0)) return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (v <= m * p * (1 + 1e-9)) return m * p;
  }
  return 10 * p;
}

constexpr double kW = 960, kH = 250, kLeft = 70, kRight = 16, kTop = 14, kBottom = 34;
constexpr double kPW = kW - kLeft - kRight, kPH = kH - kTop - kBottom;

const char* const kPalette[] = {"#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed",
                                "#0891b2", "#db2777", "#65a30d", "#ea580c", "#475569"};

struct Line {
  std::string name;
  std::string color;
  std::vector<std::optional<double>> values;  ///< one per second
  bool dashed = false;
};

struct Axis {
  double top = 1;
  double step = 1;
};

Axis y_axis(double most) {
  Axis a;
  a.step = nice(std::max(most, 1e-9) / 4);
  a.top = std::max(a.step, std::ceil(most / a.step - 1e-9) * a.step);
  if (most <= 0) a.top = a.step * 4;
  return a;
}

double x_of(std::size_t i, std::size_t n) {
  return kLeft +
         (static_cast<double>(i) + 0.5) * kPW / static_cast<double>(std::max<std::size_t>(n, 1));
}

double y_of(double v, const Axis& a) {
  return kTop + kPH - std::clamp(v / a.top, 0.0, 1.0) * kPH;
}

// The frame: horizontal grid lines with labels, seconds along the bottom.
std::string frame(const Axis& a, std::size_t seconds,
                  const std::function<std::string(double)>& label, const std::string& y_title) {
  std::string out;
  for (double v = 0; v <= a.top * (1 + 1e-9); v += a.step) {
    double y = y_of(v, a);
    out += "<line class=\"grid\" x1=\"" + num(kLeft) + "\" x2=\"" + num(kW - kRight) + "\" y1=\"" +
           num(y) + "\" y2=\"" + num(y) + "\"/>";
    out += "<text class=\"tick\" x=\"" + num(kLeft - 8) + "\" y=\"" + num(y + 4) +
           "\" text-anchor=\"end\">" + html_escape(label(v)) + "</text>";
  }
  std::size_t every = 1;
  for (std::size_t s : {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200}) {
    every = s;
    if (seconds / s <= 12) break;
  }
  for (std::size_t i = 0; i <= seconds; i += every) {
    double x = kLeft + static_cast<double>(i) * kPW /
                           static_cast<double>(std::max<std::size_t>(seconds, 1));
    out += "<line class=\"axis\" x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" +
           num(kTop + kPH) + "\" y2=\"" + num(kTop + kPH + 5) + "\"/>";
    out += "<text class=\"tick\" x=\"" + num(x) + "\" y=\"" + num(kTop + kPH + 20) +
           "\" text-anchor=\"middle\">" + time_label(static_cast<double>(i)) + "</text>";
  }
  out += "<line class=\"axis\" x1=\"" + num(kLeft) + "\" x2=\"" + num(kW - kRight) + "\" y1=\"" +
         num(kTop + kPH) + "\" y2=\"" + num(kTop + kPH) + "\"/>";
  out += "<text class=\"unit\" x=\"12\" y=\"" + num(kTop + kPH / 2) +
         "\" transform=\"rotate(-90 12 " + num(kTop + kPH / 2) + ")\" text-anchor=\"middle\">" +
         html_escape(y_title) + "</text>";
  return out;
}

std::string legend(const std::vector<std::pair<std::string, std::string>>& items,
                   bool dashed_last = false) {
  std::string out = "<div class=\"legend\">";
  for (std::size_t i = 0; i < items.size(); ++i) {
    bool dashed = dashed_last && i + 1 == items.size();
    out += "<span><i style=\"background:" + items[i].second + (dashed ? ";opacity:.55" : "") +
           "\"></i>" + html_escape(items[i].first) + "</span>";
  }
  return out + "</div>";
}

std::string svg_open(const std::string& kind, std::size_t points, const std::string& label) {
  return "<svg class=\"chart\" data-chart=\"" + kind + "\" data-points=\"" +
         std::to_string(points) + "\" viewBox=\"0 0 " + num(kW) + " " + num(kH) +
         "\" role=\"img\" aria-label=\"" + html_escape(label) + "\">";
}

std::string line_chart(const std::string& kind, const std::string& label,
                       const std::vector<Line>& lines, std::size_t seconds,
                       const std::function<std::string(double)>& tick, const std::string& y_title) {
  double most = 0;
  std::size_t points = 0;
  for (const auto& l : lines) {
    for (const auto& v : l.values) {
      if (v) {
        most = std::max(most, *v);
        ++points;
      }
    }
  }
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& l : lines) items.emplace_back(l.name, l.color);
  if (points == 0) {
    // Nothing to draw (no conversation succeeded): say so, rather than an axis of 1e-09 us.
    std::string out = svg_open(kind, 0, label) +
                      frame(
                          y_axis(1), seconds, [](double) { return std::string(); }, y_title);
    out += "<text class=\"tick\" x=\"" + num(kLeft + kPW / 2) + "\" y=\"" + num(kTop + kPH / 2) +
           "\" text-anchor=\"middle\">no values: nothing succeeded in any second</text></svg>";
    return out + legend(items, !lines.empty() && lines.back().dashed);
  }
  Axis a = y_axis(most);
  std::string out = svg_open(kind, points, label) + frame(a, seconds, tick, y_title);
  for (const auto& l : lines) {
    // Seconds without a value (nothing ended then) break the line.
    std::vector<std::pair<double, double>> run;
    auto emit = [&] {
      if (run.size() == 1) {
        out += "<circle cx=\"" + num(run[0].first) + "\" cy=\"" + num(run[0].second) +
               "\" r=\"3\" fill=\"" + l.color + "\"/>";
      } else if (run.size() > 1) {
        out += "<polyline class=\"series\" fill=\"none\" stroke=\"" + l.color + "\"" +
               (l.dashed ? " stroke-dasharray=\"5 4\" stroke-opacity=\".6\"" : "") + " points=\"";
        for (const auto& [x, y] : run) out += num(x) + "," + num(y) + " ";
        out.back() = '"';
        out += "/>";
      }
      run.clear();
    };
    for (std::size_t i = 0; i < l.values.size(); ++i) {
      if (l.values[i]) {
        run.emplace_back(x_of(i, seconds), y_of(*l.values[i], a));
      } else {
        emit();
      }
    }
    emit();
  }
  out += "</svg>";
  return out + legend(items, !lines.empty() && lines.back().dashed);
}

struct Stack {
  std::string name;
  std::string color;
  std::vector<double> values;
};

std::string bar_chart(const std::string& kind, const std::string& label,
                      const std::vector<Stack>& stacks, const std::optional<Line>& over,
                      std::size_t seconds, const std::string& y_title) {
  double most = 0;
  std::size_t points = 0;
  for (std::size_t i = 0; i < seconds; ++i) {
    double total = 0;
    for (const auto& s : stacks) total += i < s.values.size() ? s.values[i] : 0;
    most = std::max(most, total);
    if (total > 0) ++points;
  }
  if (over) {
    for (const auto& v : over->values) most = std::max(most, v.value_or(0));
  }
  Axis a = y_axis(most);
  std::string out = svg_open(kind, points, label) + frame(a, seconds, short_number, y_title);
  double slot = kPW / static_cast<double>(std::max<std::size_t>(seconds, 1));
  double width = std::max(1.0, slot * 0.78);
  for (std::size_t i = 0; i < seconds; ++i) {
    double base = 0;
    for (const auto& s : stacks) {
      double v = i < s.values.size() ? s.values[i] : 0;
      if (v <= 0) continue;
      double y1 = y_of(base + v, a), y0 = y_of(base, a);
      out += "<rect x=\"" + num(x_of(i, seconds) - width / 2) + "\" y=\"" + num(y1) +
             "\" width=\"" + num(width) + "\" height=\"" + num(std::max(0.5, y0 - y1)) +
             "\" fill=\"" + s.color + "\"><title>" + time_label(static_cast<double>(i)) + ": " +
             html_escape(s.name) + " " + short_number(v) + "</title></rect>";
      base += v;
    }
  }
  if (over) {
    out += "<polyline class=\"series\" fill=\"none\" stroke=\"" + over->color +
           "\" stroke-dasharray=\"5 4\" points=\"";
    for (std::size_t i = 0; i < over->values.size(); ++i) {
      out += num(x_of(i, seconds)) + "," + num(y_of(over->values[i].value_or(0), a)) + " ";
    }
    out.back() = '"';
    out += "/>";
  }
  out += "</svg>";
  std::vector<std::pair<std::string, std::string>> items;
  for (const auto& s : stacks) items.emplace_back(s.name, s.color);
  if (over) items.emplace_back(over->name, over->color);
  return out + legend(items, over.has_value());
}

// The latency histogram: the buckets gathered into ~48 bins, log-spaced when the values span
// more than a factor of 4; p50, p90, p99 marked.
std::string histogram_chart(const Histogram& h) {
  auto buckets = h.buckets();
  if (buckets.empty()) return "";
  double lo = std::max<double>(1, static_cast<double>(h.min()));
  double hi = std::max<double>(lo + 1, static_cast<double>(h.max()) + 1);
  bool log = hi / lo > 4;
  constexpr int kBins = 48;
  auto pos = [&](double v) {  // 0..1 along the axis
    v = std::clamp(v, lo, hi);
    return log ? std::log(v / lo) / std::log(hi / lo) : (v - lo) / (hi - lo);
  };
  std::vector<std::uint64_t> bins(kBins, 0);
  for (const auto& [lower, n] : buckets) {
    auto b = static_cast<int>(pos(static_cast<double>(lower)) * kBins);
    bins[static_cast<std::size_t>(std::clamp(b, 0, kBins - 1))] += n;
  }
  std::uint64_t most = *std::max_element(bins.begin(), bins.end());
  Axis a = y_axis(static_cast<double>(most));
  std::string out = svg_open("histogram", buckets.size(), "latency histogram");
  for (double v = 0; v <= a.top * (1 + 1e-9); v += a.step) {
    double y = y_of(v, a);
    out += "<line class=\"grid\" x1=\"" + num(kLeft) + "\" x2=\"" + num(kW - kRight) + "\" y1=\"" +
           num(y) + "\" y2=\"" + num(y) + "\"/><text class=\"tick\" x=\"" + num(kLeft - 8) +
           "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" + short_number(v) + "</text>";
  }
  double slot = kPW / kBins;
  for (int b = 0; b < kBins; ++b) {
    std::uint64_t n = bins[static_cast<std::size_t>(b)];
    if (n == 0) continue;
    double from =
        log ? lo * std::pow(hi / lo, static_cast<double>(b) / kBins) : lo + (hi - lo) * b / kBins;
    double to = log ? lo * std::pow(hi / lo, static_cast<double>(b + 1) / kBins)
                    : lo + (hi - lo) * (b + 1) / kBins;
    double y = y_of(static_cast<double>(n), a);
    out += "<rect x=\"" + num(kLeft + b * slot + 1) + "\" y=\"" + num(y) + "\" width=\"" +
           num(slot - 2) + "\" height=\"" + num(std::max(0.5, kTop + kPH - y)) +
           "\" fill=\"#60a5fa\"><title>" + format_micros(static_cast<std::uint64_t>(from)) +
           " to " + format_micros(static_cast<std::uint64_t>(to)) + ": " + count_text(n) +
           "</title></rect>";
  }
  for (int t = 0; t <= 6; ++t) {
    double f = t / 6.0;
    double v = log ? lo * std::pow(hi / lo, f) : lo + (hi - lo) * f;
    double x = kLeft + f * kPW;
    out += "<line class=\"axis\" x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" +
           num(kTop + kPH) + "\" y2=\"" + num(kTop + kPH + 5) + "\"/><text class=\"tick\" x=\"" +
           num(x) + "\" y=\"" + num(kTop + kPH + 20) + "\" text-anchor=\"" +
           (t == 6 ? "end" : "middle") + "\">" +
           format_micros(static_cast<std::uint64_t>(std::llround(v))) + "</text>";
  }
  const std::pair<const char*, double> marks[] = {{"p50", 50}, {"p90", 90}, {"p99", 99}};
  for (const auto& [name, p] : marks) {
    double x = kLeft + pos(static_cast<double>(h.percentile(p))) * kPW;
    out += "<line class=\"mark\" x1=\"" + num(x) + "\" x2=\"" + num(x) + "\" y1=\"" + num(kTop) +
           "\" y2=\"" + num(kTop + kPH) + "\"/><text class=\"marklabel\" x=\"" + num(x + 4) +
           "\" y=\"" + num(kTop + 12) + "\">" + name + "</text>";
  }
  out += "<line class=\"axis\" x1=\"" + num(kLeft) + "\" x2=\"" + num(kW - kRight) + "\" y1=\"" +
         num(kTop + kPH) + "\" y2=\"" + num(kTop + kPH) + "\"/>";
  out += "<text class=\"unit\" x=\"12\" y=\"" + num(kTop + kPH / 2) +
         "\" transform=\"rotate(-90 12 " + num(kTop + kPH / 2) +
         ")\" text-anchor=\"middle\">conversations</text></svg>";
  return out + "<div class=\"legend\"><span>" + std::string(log ? "log scale, " : "") +
         count_text(h.count()) + " successful conversations, from " + format_micros(h.min()) +
         " to " + format_micros(h.max()) + "</span></div>";
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0) return "0 %";
  double p = 100.0 * static_cast<double>(part) / static_cast<double>(whole);
  return fmt(p > 0 && p < 0.1 ? "%.3f %%" : "%.1f %%", p);
}

std::string card(const std::string& label, const std::string& value, const std::string& note = "",
                 const char* tone = "") {
  return std::string("<div class=\"card ") + tone + "\"><div class=\"label\">" + label +
         "</div><div class=\"value\">" + value + "</div>" +
         (note.empty() ? "" : "<div class=\"note\">" + note + "</div>") + "</div>";
}

std::string row(std::initializer_list<std::string> cells, const char* cls = "") {
  std::string out = std::string("<tr class=\"") + cls + "\">";
  for (const auto& c : cells) out += "<td>" + c + "</td>";
  return out + "</tr>";
}

const char* const kStyle = R"(
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--ok:#15803d;--bad:#b91c1c}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1040px;margin:0 auto;padding:24px 20px 48px}
header{display:flex;align-items:center;gap:16px;flex-wrap:wrap;margin-bottom:4px}
h1{font-size:22px;margin:0}
h1 code{font-size:20px}
h2{font-size:16px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
.badge{font-weight:600;font-size:13px;padding:3px 10px;border-radius:999px;color:#fff}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}
.sub{color:var(--muted);margin:0 0 16px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(118px,1fr));gap:10px}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 10px;min-width:0}
.card .label{color:var(--muted);font-size:11px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:19px;white-space:nowrap;font-weight:600;font-variant-numeric:tabular-nums}
.card .note{color:var(--muted);font-size:12px}
.card.bad .value{color:var(--bad)}.card.ok .value{color:var(--ok)}
.panel{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 12px 8px;margin-bottom:14px}
.panel h3{font-size:14px;margin:0 0 6px}
svg.chart{width:100%;height:auto;display:block}
svg .grid{stroke:#eef0f3;stroke-width:1}
svg .axis{stroke:#9ca3af;stroke-width:1}
svg .tick{fill:#6b7280;font-size:11px}
svg .unit{fill:#6b7280;font-size:11px}
svg .series{stroke-width:2;stroke-linejoin:round;stroke-linecap:round}
svg .mark{stroke:#111827;stroke-width:1;stroke-dasharray:3 3}
svg .marklabel{fill:#111827;font-size:11px}
.legend{display:flex;flex-wrap:wrap;gap:14px;color:var(--muted);font-size:12px;margin:4px 0 2px 70px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-2px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#f3f4f6;font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.missed td{background:#fef2f2}
.verdict.ok{color:var(--ok);font-weight:600}.verdict.bad{color:var(--bad);font-weight:600}
.nowrap{white-space:nowrap}
.example{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px;word-break:break-all}
dl.settings{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px}
dl.settings dt{color:var(--muted)}dl.settings dd{margin:0}
footer{color:var(--muted);font-size:12px;margin-top:28px}
)";

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string to_html(const Results& r) {
  const Settings& s = r.settings;
  std::size_t seconds = r.series.size();
  bool missed =
      std::any_of(r.thresholds.begin(), r.thresholds.end(), [](const auto& t) { return !t.ok; });
  bool passed = !missed && (r.failed == 0 ||
                            std::any_of(r.thresholds.begin(), r.thresholds.end(),
                                        [](const auto& t) { return t.ok && t.gates_failures; }));
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'\">"
      "<title>parley load: " +
      html_escape(s.script) + "</title><style>" + kStyle + "</style></head><body><main>\n";
  std::string verdict = missed                    ? "thresholds missed"
                        : r.failed > 0 && !passed ? "conversations failed"
                                                  : "passed";
  out += "<header><h1>parley load <code>" + html_escape(s.script) +
         "</code></h1><span class=\"badge " + (passed ? "ok" : "bad") + "\">" + verdict +
         "</span></header>\n";
  std::string when;
  if (r.started_at > 0) {
    auto t = static_cast<std::time_t>(r.started_at);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    when = std::string("started ") + buf + ", ";
  }
  std::string how = "concurrency " + std::to_string(s.concurrency) + ", " +
                    std::to_string(s.threads) + (s.threads == 1 ? " thread" : " threads");
  if (s.rate) how += ", rate " + fmt("%g", *s.rate) + "/s";
  if (s.count) how += ", -n " + count_text(*s.count);
  if (s.duration) how += ", duration " + fmt("%g s", *s.duration);
  if (s.shards > 0 && s.shard > 0)
    how += ", shard " + std::to_string(s.shard) + "/" + std::to_string(s.shards);
  if (s.parts > 1) how += ", " + std::to_string(s.parts) + " results merged";
  out += "<p class=\"sub\">" + how + "<br>" + when + "ran " + fmt("%.3f s", r.elapsed) + "</p>\n";

  // Summary
  out += "<h2>Summary</h2><div class=\"cards\">";
  out += card("conversations", count_text(r.done()),
              count_text(r.ok) + " ok" +
                  (r.interrupted > 0 ? ", " + count_text(r.interrupted) + " interrupted" : ""));
  out += card("failed", count_text(r.failed), percent(r.failed, r.done()),
              r.failed > 0 ? "bad" : "ok");
  out += card("throughput", fmt("%.1f", r.throughput()), "conversations/s");
  if (r.latency.count() > 0) {
    out += card("p50", format_micros(r.latency.percentile(50)), "latency");
    out += card("p90", format_micros(r.latency.percentile(90)), "latency");
    out += card("p99", format_micros(r.latency.percentile(99)), "latency");
    out += card("max", format_micros(r.latency.max()), "latency");
  }
  if (r.cpu_seconds > 0) out += card("parley CPU", fmt("%.2f s", r.cpu_seconds), "user + system");
  out += "</div>\n";

  // Thresholds
  if (!r.thresholds.empty()) {
    out +=
        "<h2>Thresholds</h2><table><tr><th>threshold</th><th>from</th><th>measured</th><th>result</"
        "th></tr>";
    for (const auto& t : r.thresholds) {
      out += row({"<code>" + html_escape(t.expr) + "</code>",
                  t.source == "script" ? "script" : "--threshold", html_escape(t.measured),
                  std::string("<span class=\"verdict ") + (t.ok ? "ok\">ok" : "bad\">missed") +
                      "</span>" + (t.ok ? "" : ": " + html_escape(t.verdict))},
                 t.ok ? "" : "missed");
    }
    out += "</table>\n";
  }

  // Charts over time
  if (seconds > 0) {
    out += "<h2>Over time</h2>";
    std::vector<Line> lat = {{"p50", "#2563eb", {}, false},
                             {"p90", "#16a34a", {}, false},
                             {"p99", "#f59e0b", {}, false},
                             {"max", "#dc2626", {}, true}};
    for (const auto& sec : r.series) {
      Histogram h = sec.latency.expand();
      bool any = h.count() > 0;
      auto at = [&](double p) {
        return any ? std::optional<double>(static_cast<double>(h.percentile(p))) : std::nullopt;
      };
      lat[0].values.push_back(at(50));
      lat[1].values.push_back(at(90));
      lat[2].values.push_back(at(99));
      lat[3].values.push_back(any ? std::optional<double>(static_cast<double>(h.max()))
                                  : std::nullopt);
    }
    out += "<div class=\"panel\"><h3>Latency percentiles, per second</h3>" +
           line_chart("latency", "latency percentiles per second", lat, seconds, short_micros,
                      "latency") +
           "</div>";

    Stack ok{"ok", "#22c55e", {}}, failed{"failed", "#ef4444", {}};
    Line started{"started", "#1f2937", {}, true};
    for (const auto& sec : r.series) {
      ok.values.push_back(static_cast<double>(sec.ok));
      failed.values.push_back(static_cast<double>(sec.failed));
      started.values.push_back(static_cast<double>(sec.started));
    }
    out +=
        "<div class=\"panel\"><h3>Throughput: conversations ended (and started), per second</h3>" +
        bar_chart("throughput", "throughput per second", {ok, failed}, started, seconds,
                  "per second") +
        "</div>";

    std::vector<std::string> causes;
    for (const auto& sec : r.series) {
      for (const auto& [cause, n] : sec.causes) {
        if (std::find(causes.begin(), causes.end(), cause) == causes.end()) causes.push_back(cause);
      }
    }
    if (!causes.empty()) {
      std::vector<Stack> stacks;
      for (std::size_t c = 0; c < causes.size(); ++c) {
        Stack st{causes[c], kPalette[(c + 3) % std::size(kPalette)], {}};
        for (const auto& sec : r.series) {
          auto it = sec.causes.find(causes[c]);
          st.values.push_back(it == sec.causes.end() ? 0 : static_cast<double>(it->second));
        }
        stacks.push_back(std::move(st));
      }
      out += "<div class=\"panel\"><h3>Failures by cause, per second</h3>" +
             bar_chart("failures", "failures by cause per second", stacks, std::nullopt, seconds,
                       "failures") +
             "</div>";
    }

    std::vector<std::pair<std::string, StepStats>> ordered(r.steps.begin(), r.steps.end());
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto& a, const auto& b) { return a.second.order < b.second.order; });
    if (!ordered.empty()) {
      std::vector<Line> lines;
      for (std::size_t i = 0; i < ordered.size(); ++i) {
        Line l{ordered[i].first, kPalette[i % std::size(kPalette)], {}, false};
        for (const auto& sec : r.series) {
          auto it = sec.steps.find(ordered[i].first);
          l.values.push_back(
              it == sec.steps.end() || it->second.buckets.empty()
                  ? std::nullopt
                  : std::optional<double>(static_cast<double>(it->second.expand().percentile(99))));
        }
        lines.push_back(std::move(l));
      }
      out += "<div class=\"panel\"><h3>p99 of each step, per second</h3>" +
             line_chart("steps", "p99 of each step per second", lines, seconds, short_micros,
                        "latency") +
             "</div>";
    }
  }
  if (r.latency.count() > 0) {
    out +=
        "<h2>Latency histogram</h2><div class=\"panel\">" + histogram_chart(r.latency) + "</div>\n";
  }

  // Steps
  if (!r.steps.empty()) {
    std::vector<std::pair<std::string, StepStats>> ordered(r.steps.begin(), r.steps.end());
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto& a, const auto& b) { return a.second.order < b.second.order; });
    out +=
        "<h2>Steps</h2><table><tr><th>step</th><th class=\"n\">ok</th><th class=\"n\">failed</th>"
        "<th class=\"n\">p50</th><th class=\"n\">p90</th><th class=\"n\">p99</th><th "
        "class=\"n\">max</th>"
        "<th class=\"n\">mean</th></tr>";
    for (const auto& [name, st] : ordered) {
      const Histogram& h = st.latency;
      // A step that never succeeded has no latency: a dash, not "0 us".
      bool none = h.count() == 0;
      auto micros = [none](std::uint64_t v) {
        return none ? std::string("&ndash;") : format_micros(v);
      };
      out += "<tr><td>" + html_escape(name) + "</td><td class=\"n\">" + count_text(st.ok) +
             "</td><td class=\"n\">" + count_text(st.failed) + "</td><td class=\"n\">" +
             micros(h.percentile(50)) + "</td><td class=\"n\">" + micros(h.percentile(90)) +
             "</td><td class=\"n\">" + micros(h.percentile(99)) + "</td><td class=\"n\">" +
             micros(h.max()) + "</td><td class=\"n\">" +
             micros(static_cast<std::uint64_t>(h.mean())) + "</td></tr>";
    }
    out += "</table>\n";
  }

  // Failures
  if (!r.failures.empty()) {
    std::vector<std::pair<std::pair<std::string, std::string>, Failure>> fails(r.failures.begin(),
                                                                               r.failures.end());
    std::stable_sort(fails.begin(), fails.end(),
                     [](const auto& a, const auto& b) { return a.second.count > b.second.count; });
    out +=
        "<h2>Failures</h2><table><tr><th "
        "class=\"n\">count</th><th>cause</th><th>step</th><th>first message</th></tr>";
    for (const auto& [key, f] : fails) {
      out += "<tr><td class=\"n\">" + count_text(f.count) + "</td><td class=\"nowrap\">" +
             html_escape(key.first) + "</td><td>" + html_escape(key.second) +
             "</td><td class=\"example\">" + html_escape(f.example) + "</td></tr>";
    }
    out += "</table>\n";
  }

  // Settings
  out += "<h2>Settings</h2><dl class=\"settings\">";
  auto setting = [&](const std::string& k, const std::string& v) {
    out += "<dt>" + k + "</dt><dd>" + v + "</dd>";
  };
  setting("script", "<code>" + html_escape(s.script) + "</code>");
  setting("concurrency", std::to_string(s.concurrency));
  setting("threads", std::to_string(s.threads) +
                         (r.threads_note.empty() ? "" : " (" + html_escape(r.threads_note) + ")"));
  setting("count", s.count ? count_text(*s.count) : "none");
  setting("duration", s.duration ? fmt("%g s", *s.duration) : "none");
  setting("rate", s.rate
                      ? fmt("%g conversations/s", *s.rate) + " (latency from each scheduled start)"
                      : "none (closed loop)");
  setting("timeout", fmt("%g s", s.timeout));
  if (s.shards > 0 && s.shard > 0)
    setting("shard", std::to_string(s.shard) + "/" + std::to_string(s.shards));
  if (s.parts > 1) setting("merged", std::to_string(s.parts) + " result files");
  out +=
      "</dl>\n<footer>Generated by parley load. Latencies are the middle of their histogram bucket "
      "(within 0.4 %). Seconds count from the start of the run.</footer>\n</main></body></html>\n";
  return out;
}

}  // namespace parley::load
