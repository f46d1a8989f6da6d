// Pass/fail criteria of a load run, in the manner of k6's thresholds: "p99<50ms",
// "p95(step=rcpt)<10ms", "failed<1%", "throughput>500". Given with --threshold or declared by
// the script (load.thresholds); `parley load` exits 1 when one is missed.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "load/results.hpp"

namespace parley::load {

/// A malformed expression; what() says what is wrong (the caller names the expression).
struct ThresholdError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Threshold {
  enum class Metric { percentile, min, max, mean, failed_rate, failed_count, throughput };
  enum class Op { lt, le, gt, ge };
  std::string expr;  ///< as given
  Metric metric = Metric::percentile;
  double percentile = 0;             ///< 0 < p <= 100, for Metric::percentile
  std::optional<std::string> step;   ///< (step=NAME): that step's latency or failures
  std::optional<std::string> cause;  ///< (cause=NAME): failures of that cause
  Op op = Op::lt;
  double limit = 0;  ///< microseconds for latencies, percent for failed_rate

  /// Whether the metric is a latency (its limit in microseconds).
  bool latency() const { return metric <= Metric::mean; }
  /// Whether it says how many conversations may fail (then failures alone do not exit 1).
  bool about_failures() const {
    return (metric == Metric::failed_rate || metric == Metric::failed_count) && !step && !cause;
  }
};

/// Parses `expr`; throws ThresholdError saying what is wrong.
///   METRIC[(step=NAME | cause=NAME)] (< | <= | > | >=) NUMBER[UNIT]
/// METRIC: p50, p90, p95, p99, p99.9, pN (any percentile), p(N), min, max, mean (latency of
/// successful conversations, or of a step: units us, ms, s; a bare number is ms); failed
/// (with %: the share of conversations that failed; without: how many); throughput
/// (conversations a second, optionally written "/s").
Threshold parse_threshold(const std::string& expr);

/// How `results` did against `t`.
ThresholdResult evaluate(const Threshold& t, const Results& results, const std::string& source);

}  // namespace parley::load
