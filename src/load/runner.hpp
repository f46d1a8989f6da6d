// One thread's part of a load: its own Engine (io_context + Lua state), the script loaded once
// as a function, and a conversation task spawned per call of it. Closed loop (a new
// conversation as soon as one ends, up to the concurrency) or open loop at a fixed rate
// (--rate: latency counted from each conversation's scheduled start).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "load/results.hpp"
#include "script/engine.hpp"

namespace parley::load {

using Clock = std::chrono::steady_clock;

/// The conversations of a closed-loop run, handed out one by one to the runners that share
/// them (so that runners may come and go: adaptive threads). Ticket k is conversation number
/// first_number + k * number_stride of the Share.
struct Tickets {
  std::optional<std::uint64_t> count;  ///< how many in all; none: until the duration ends
  std::atomic<std::uint64_t> taken{0};
};

/// What one runner (thread) does.
struct Share {
  int thread = 0;  ///< 0-based, within this process
  int threads = 1;
  long shard = 0;  ///< 1-based, 0 when not sharded
  long shards = 0;
  long concurrency = 1;                ///< conversations at once, at most
  std::optional<std::uint64_t> count;  ///< conversations to run; none: until the duration ends
  std::shared_ptr<Tickets> tickets;    ///< when set, conversations come from here (not count)
  std::optional<double> rate;          ///< this runner's conversations per second
  double phase = 0;                    ///< seconds before its first scheduled conversation
  std::uint64_t first_number = 1;      ///< conversation numbers: first + k * stride
  std::uint64_t number_stride = 1;
  double timeout = 30;  ///< a conversation's deadline, seconds
};

/// Counters another thread may read while the run goes on (progress line).
struct Progress {
  std::atomic<std::uint64_t> ok{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> running{0};
  /// The runner's last whole second (index since the start, -1: none yet), under `mutex`.
  mutable std::mutex mutex;
  long second_index = -1;
  Second second;
};

class Runner {
 public:
  Runner(script::EngineOptions options, std::string script, Share share);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  /// Runs this share of the load, from `start` and until `end` when a duration was given;
  /// the time series counts seconds from `origin`, the run's start (the same for every
  /// runner, also for one that joins later). Blocks; call on the runner's own thread.
  void run(Clock::time_point start, std::optional<Clock::time_point> end,
           std::optional<Clock::time_point> origin = std::nullopt);
  /// Ends the run soon (Ctrl-C): running conversations are counted as interrupted. Any thread.
  void stop();
  /// How many conversations it keeps going at once, from now on (any thread). 0 retires the
  /// runner: it ends once the conversations it has going have ended.
  void set_concurrency(long n);
  long concurrency() const { return target_.load(std::memory_order_relaxed); }

  /// Set when the script could not be loaded (then nothing ran).
  const std::string& error() const { return error_; }
  Results& results() { return results_; }
  const Progress& progress() const { return progress_; }
  /// The first malformed expression the script gave load.thresholds (then the run is a
  /// script error), empty otherwise.
  const std::string& threshold_error() const { return threshold_error_; }

 private:
  struct Impl;
  script::EngineOptions options_;
  std::string script_;
  Share share_;
  std::string error_;
  std::string threshold_error_;
  Results results_;
  Progress progress_;
  std::mutex mutex_;  ///< guards impl_ against stop() from another thread
  Impl* impl_ = nullptr;
  bool stop_requested_ = false;
  std::atomic<long> target_;  ///< concurrency (set_concurrency)
};

/// The cause a failed conversation is counted under, from its error object's fields:
/// "reply 550" (an unexpected reply, by code), "timeout", "connect", "tls", "eof", ...
std::string failure_cause(const std::string& kind, const std::string& message,
                          std::optional<long> code);

}  // namespace parley::load
