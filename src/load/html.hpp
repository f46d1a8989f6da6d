// The HTML report of a load run (parley load --html FILE): one self-contained page, no script,
// no network: settings, summary, thresholds, charts drawn as inline SVG (latency percentiles,
// throughput and failures by cause per second, the latency histogram, steps over time), the
// per-step table and the failures. Fed from Results, the same data as --json.
#pragma once

#include <string>

#include "load/results.hpp"

namespace parley::load {

/// The page. Every text that came from a script or a server is escaped.
std::string to_html(const Results& results);

/// `text` with & < > " ' as character references.
std::string html_escape(const std::string& text);

}  // namespace parley::load
