// What a load run measured: conversations done, failures by cause, latency histograms per
// conversation and per named step. Results of threads, shards and files merge exactly.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "load/histogram.hpp"

namespace parley::load {

/// How a run was asked for (shown in reports, summed or maxed when merging).
struct Settings {
  std::string script;
  long concurrency = 0;
  long threads = 0;
  std::optional<std::uint64_t> count;  ///< -n
  std::optional<double> duration;      ///< --duration
  std::optional<double> rate;          ///< --rate, conversations/s
  double timeout = 0;
  long shard = 0;  ///< 1-based; 0 when not sharded
  long shards = 0;
  long parts = 1;  ///< result sets merged into this one (merge_part: start from 0)
};

struct StepStats {
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;  ///< conversations that failed while inside this step
  long order = 0;            ///< first use, for listing steps in script order
  Histogram latency;         ///< steps that completed, microseconds
};

/// A histogram kept as its non-empty buckets: a second of the time series has few of them.
struct SparseHistogram {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets;  ///< (lower bound, count)
  std::uint64_t min = 0;
  std::uint64_t max = 0;
  std::uint64_t sum = 0;

  /// The non-empty buckets of `h`; `coarse`: each 8 neighbouring buckets as one (kept at the
  /// middle one), so a percentile is within 3 % (4 us below 256 us) instead of 0.4 %, for
  /// far less memory and JSON (the per-second histograms of the series).
  static SparseHistogram of(const Histogram& h, bool coarse = false);
  Histogram expand() const;
  std::uint64_t count() const;
  void merge(const SparseHistogram& other);
};

/// One second of the run: second k is from k to k+1 seconds after the start. Conversations
/// count in the second they started (scheduled, with --rate) and in the one they ended.
struct Second {
  std::uint64_t started = 0;
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::map<std::string, std::uint64_t> causes;   ///< failed, by cause
  SparseHistogram latency;                       ///< successful conversations that ended
  std::map<std::string, SparseHistogram> steps;  ///< steps that completed

  void merge(const Second& other);
};

/// A --threshold or load.thresholds expression, and how the run did against it.
struct ThresholdResult {
  std::string expr;
  std::string source;  ///< "option" or "script"
  bool ok = false;
  bool has_value = false;       ///< false: nothing was measured (no such step, no conversation)
  double value = 0;             ///< what was measured, in the expression's unit (us for latencies)
  std::string measured;         ///< the value as text: "31.2 ms", "2.35 %", "512.3/s"
  std::string verdict;          ///< "ok", or how far it missed: "12.4 ms over (+25 %)"
  bool gates_failures = false;  ///< says how many conversations may fail (failed<1%)
};

struct Failure {
  std::uint64_t count = 0;
  std::string example;  ///< the first message seen (first line)
};

struct Results {
  Settings settings;
  double started_at = 0;  ///< unix time
  double elapsed = 0;     ///< seconds, first start to the end of the run
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::uint64_t interrupted = 0;  ///< running when --duration ended (or on Ctrl-C)
  double cpu_seconds = 0;         ///< CPU time of parley's load threads (user + system)
  std::string threads_note;       ///< how adaptive threads went (text report only)
  Histogram latency;              ///< successful conversations, microseconds
  Histogram failed_latency;       ///< failed conversations, microseconds
  /// (cause, step) -> count and an example. Causes: "reply 550", "timeout", "connect", ...
  std::map<std::pair<std::string, std::string>, Failure> failures;
  std::map<std::string, StepStats> steps;
  std::vector<Second> series;  ///< per second since the start
  /// Threshold expressions the script declared (load.thresholds), kept for --merge.
  std::vector<std::string> script_thresholds;
  /// How the run did against its thresholds (filled by the caller, see load/threshold.hpp).
  std::vector<ThresholdResult> thresholds;

  std::uint64_t done() const { return ok + failed; }
  double throughput() const { return elapsed > 0 ? static_cast<double>(done()) / elapsed : 0; }

  /// Adds another part of the same load (a thread, a shard): counts and histograms add up,
  /// elapsed is the longest part's.
  void merge(const Results& other);
  /// The same, for runs merged from files: settings add up too (concurrency, count, rate).
  void merge_part(const Results& other);

  std::string to_json() const;
  /// Reads what to_json wrote; throws std::runtime_error when the text
  /// is not a parley load result.
  static Results from_json(const std::string& text);
  /// The human report.
  std::string to_text() const;
};

/// "1.23 ms", "850 us", "2.5 s".
std::string format_micros(std::uint64_t us);

}  // namespace parley::load
