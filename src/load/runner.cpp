#include "load/runner.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <unordered_map>
#include <vector>

#include "load/threshold.hpp"
#include "script/errors.hpp"
#include "script/lua_util.hpp"

namespace parley::load {

namespace {

using script::Engine;
using script::Task;
namespace asio = boost::asio;

std::uint64_t micros(Clock::duration d) {
  if (d.count() < 0) return 0;
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

std::string first_line(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  if (line.size() > 300) line = line.substr(0, 297) + "...";
  return line;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::string failure_cause(const std::string& kind, const std::string& message,
                          std::optional<long> code) {
  if (code) return "reply " + std::to_string(*code);
  if (kind == "expect") {
    // "expected 250, got: 550 5.1.1 ..." (from expect and from the protocol libraries)
    std::size_t p = message.find("got: ");
    if (p != std::string::npos && p + 8 <= message.size() && is_digit(message[p + 5]) &&
        is_digit(message[p + 6]) && is_digit(message[p + 7]) &&
        (p + 8 == message.size() || !is_digit(message[p + 8]))) {
      return "reply " + message.substr(p + 5, 3);
    }
    return "unexpected reply";
  }
  if (kind == "network") {
    if (message.rfind("cannot connect", 0) == 0 || message.rfind("cannot resolve", 0) == 0) {
      return "connect";
    }
    return "network";
  }
  if (kind.empty()) return "error";
  return kind;  // timeout, eof, tls, security, failed, script, protocol, cancelled
}

//---------------------------------------------------------------------------------------------

struct Runner::Impl final : script::StepHooks {
  /// A step's statistics and the histogram of its current second.
  struct StepSlot {
    const std::string* name;
    StepStats* stats;
    Histogram* now;
  };
  /// The second being counted; once the clock has passed it, it moves to results.series.
  struct Live {
    long index = -1;
    std::uint64_t ok = 0;
    std::uint64_t failed = 0;
    std::map<std::string, std::uint64_t> causes;
    Histogram latency;
    std::map<std::string, Histogram> steps;  ///< by name (stable addresses for StepSlot)
  };
  struct OpenStep {
    StepSlot slot;
    Clock::time_point began;
  };
  struct Conv {
    Clock::time_point scheduled;
    std::vector<OpenStep> steps;
    bool timed_out = false;
  };

  Impl(Runner& runner, Engine& engine, int chunk, Clock::time_point start,
       std::optional<Clock::time_point> end)
      : runner(runner),
        share(runner.share_),
        results(runner.results_),
        progress(runner.progress_),
        engine(engine),
        L(engine.lua()),
        chunk_ref(chunk),
        deadline_timer(engine.io()),
        rate_timer(engine.io()),
        end_timer(engine.io()),
        start(start),
        end(end),
        timeout(seconds(share.timeout)),
        finished_at(start) {}

  Runner& runner;
  const Share& share;
  Results& results;
  Progress& progress;
  Engine& engine;
  lua_State* L;
  int chunk_ref;
  asio::steady_timer deadline_timer;
  asio::steady_timer rate_timer;
  asio::steady_timer end_timer;
  Clock::time_point start;
  std::optional<Clock::time_point> end;
  Clock::duration timeout;
  Clock::time_point finished_at;

  std::unordered_map<int, Conv> convs;  ///< running conversations, by task id
  /// (deadline, task id) in start order; deadlines rise with it (one timeout for all).
  std::deque<std::pair<Clock::time_point, int>> deadlines;
  bool deadline_armed = false;
  bool rate_armed = false;
  bool ending = false;
  bool begun = false;
  std::uint64_t launched = 0;
  long running = 0;
  std::unordered_map<std::string, StepSlot> step_index;
  long next_step_order = 0;
  Live live;

  Clock::time_point origin;  ///< second 0 of the series: the run's start

  long second_of(Clock::time_point t) const {
    if (t <= origin) return 0;
    return static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(t - origin).count());
  }

  Second& series_at(long index) {
    auto i = static_cast<std::size_t>(index);
    if (results.series.size() <= i) results.series.resize(i + 1);
    return results.series[i];
  }

  // Counting happens in the second of `now` (the clock only moves on): a later second first
  // moves the one counted so far into the series.
  Live& live_at(Clock::time_point now) {
    long index = second_of(now);
    if (index != live.index) {
      flush();
      live.index = index;
    }
    return live;
  }

  void flush() {
    if (live.index < 0) return;
    Second& sec = series_at(live.index);
    sec.ok += live.ok;
    sec.failed += live.failed;
    for (const auto& [cause, n] : live.causes) sec.causes[cause] += n;
    sec.latency.merge(SparseHistogram::of(live.latency, true));
    for (auto& [name, h] : live.steps) {
      if (h.count() > 0) sec.steps[name].merge(SparseHistogram::of(h, true));
      h = Histogram();
    }
    {
      std::lock_guard<std::mutex> lock(progress.mutex);
      progress.second_index = live.index;
      progress.second = sec;
    }
    live.ok = live.failed = 0;
    live.causes.clear();
    live.latency = Histogram();
    live.index = -1;
  }

  // The Lua side: parley.load's hooks (closures over this Impl).
  bool install_hooks(std::string& error);
  static Impl& self(lua_State* L) {
    return *static_cast<Impl*>(lua_touserdata(L, lua_upvalueindex(1)));
  }
  static int l_drive(lua_State* L);
  static int l_threshold(lua_State* L);
  // step(name, fn, ...) (src/script/bind_core.cpp) reports here.
  int begin_step(std::string_view name) override;
  void end_step(int token) override;

  Conv* conv_of(Task* t) {
    // The conversation itself, or the conversation a task it spawned belongs to.
    for (int hops = 0; t != nullptr && hops < 64; ++hops) {
      auto it = convs.find(t->id);
      if (it != convs.end()) return &it->second;
      t = t->parent > 0 ? engine.find_task(t->parent) : nullptr;
    }
    return nullptr;
  }

  StepSlot step_slot(std::string_view name) {
    std::string key(name);
    auto it = step_index.find(key);
    if (it != step_index.end()) return it->second;
    auto [pos, fresh] = results.steps.try_emplace(key);
    if (fresh) pos->second.order = next_step_order++;
    StepSlot slot{&pos->first, &pos->second, &live.steps[key]};
    step_index.emplace(std::move(key), slot);
    return slot;
  }

  void begin() {
    if (Clock::now() < start) {
      rate_armed = true;
      rate_timer.expires_at(start);
      rate_timer.async_wait([this](const boost::system::error_code& ec) {
        rate_armed = false;
        if (!ec) begin();
      });
      return;
    }
    begun = true;
    if (end) {
      end_timer.expires_at(*end);
      end_timer.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) close_down();
      });
    }
    start_more();
  }

  bool exhausted() const {
    if (share.tickets) {
      const Tickets& t = *share.tickets;
      return t.count && t.taken.load(std::memory_order_relaxed) >= *t.count;
    }
    return share.count && launched >= *share.count;
  }

  long target() const { return runner.target_.load(std::memory_order_relaxed); }

  Clock::time_point scheduled(std::uint64_t k) const {
    return start + seconds(share.phase + static_cast<double>(k) / *share.rate);
  }

  void start_more() {
    if (!begun) return;  // a set_concurrency before the start: begin() starts them
    while (!ending && running < target() && !exhausted()) {
      Clock::time_point now = Clock::now();
      Clock::time_point when = share.rate ? scheduled(launched) : now;
      if (end && when >= *end) break;  // the end timer finishes the run
      if (when > now) {
        arm_rate(when);
        return;
      }
      if (!launch(when)) break;
    }
    // Out of conversations, or retired (set_concurrency(0)) and idle: this runner is done.
    if (!ending && running == 0 && (exhausted() || target() == 0)) close_down();
  }

  void arm_rate(Clock::time_point when) {
    if (rate_armed) return;
    rate_armed = true;
    rate_timer.expires_at(when);
    rate_timer.async_wait([this](const boost::system::error_code& ec) {
      rate_armed = false;
      if (!ec) start_more();
    });
  }

  // Starts a conversation; false when another runner took the last ticket.
  bool launch(Clock::time_point when) {
    std::uint64_t k = launched;
    if (share.tickets) {
      k = share.tickets->taken.fetch_add(1, std::memory_order_relaxed);
      if (share.tickets->count && k >= *share.tickets->count) return false;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, chunk_ref);
    lua_pushinteger(L, static_cast<lua_Integer>(share.first_number + k * share.number_stride));
    Task* t = engine.spawn(L, 1);
    t->joined = true;  // its failure is counted here, not reported as unjoined
    t->reported = true;
    t->results_unused = true;
    ++launched;
    ++running;
    ++series_at(second_of(when)).started;
    progress.running.fetch_add(1, std::memory_order_relaxed);
    convs[t->id].scheduled = when;
    deadlines.emplace_back(Clock::now() + timeout, t->id);
    arm_deadline();
    t->on_finish.push_back([this, t] { finished(t); });
    return true;
  }

  void arm_deadline() {
    if (deadline_armed || deadlines.empty() || ending) return;
    deadline_armed = true;
    deadline_timer.expires_at(deadlines.front().first);
    deadline_timer.async_wait([this](const boost::system::error_code& ec) {
      deadline_armed = false;
      if (!ec) expire();
    });
  }

  // Cancels conversations past their deadline (task:cancel); they count as timeouts.
  void expire() {
    Clock::time_point now = Clock::now();
    while (!ending && !deadlines.empty() && deadlines.front().first <= now) {
      int id = deadlines.front().second;
      deadlines.pop_front();
      auto it = convs.find(id);
      if (it == convs.end()) continue;
      Task* t = engine.find_task(id);
      if (t == nullptr || t->finished || t->running) continue;
      it->second.timed_out = true;
      engine.cancel(t, "the conversation took longer than the --timeout of " +
                           script::seconds_text(share.timeout) + " s");
    }
    arm_deadline();
  }

  void finished(Task* t) {
    auto it = convs.find(t->id);
    if (it == convs.end() || ending) return;
    Conv conv = std::move(it->second);
    convs.erase(it);
    --running;
    progress.running.fetch_sub(1, std::memory_order_relaxed);
    Clock::time_point now = Clock::now();
    finished_at = now;
    std::uint64_t us = micros(now - conv.scheduled);
    if (!t->failed) {
      ++results.ok;
      results.latency.record(us);
      Live& l = live_at(now);
      ++l.ok;
      l.latency.record(us);
      progress.ok.fetch_add(1, std::memory_order_relaxed);
    } else {
      count_failure(t, conv, us);
    }
    if (t->result_ref != LUA_NOREF) {
      luaL_unref(L, LUA_REGISTRYINDEX, t->result_ref);
      t->result_ref = LUA_NOREF;
    }
    // What a failed conversation left open is closed now, not when the GC finds it (a
    // timed-out one was cancelled: closed already).
    if (t->failed && !conv.timed_out) engine.cancel(t, "the conversation ended");
    // Forgotten once finish() has returned, cancelled or not: completions still on their way
    // find no task by its id and are dropped.
    asio::post(engine.io(), [this, id = t->id] { engine.release(engine.find_task(id)); });
    start_more();
  }

  void count_failure(Task* t, const Conv& conv, std::uint64_t us) {
    std::string kind;
    std::string message;
    std::optional<long> code;
    if (t->result_ref != LUA_NOREF) {
      // Read in a protected call: the script may have raised a table whose fields raise.
      lua_rawgeti(L, LUA_REGISTRYINDEX, t->result_ref);
      script::ErrorInfo info = script::describe_error(L, -1);
      lua_pop(L, 1);
      kind = std::move(info.kind);
      message = std::move(info.message);
      code = info.code;
    }
    std::string cause;
    if (conv.timed_out) {
      cause = "timeout";
      message = "the conversation took longer than the --timeout of " +
                script::seconds_text(share.timeout) + " s";
    } else {
      cause = failure_cause(kind, message, code);
    }
    std::string step;
    if (!conv.steps.empty()) {
      step = *conv.steps.back().slot.name;
      ++conv.steps.back().slot.stats->failed;
    }
    Live& l = live_at(Clock::now());
    ++l.failed;
    ++l.causes[cause];
    ++results.failed;
    results.failed_latency.record(us);
    Failure& f = results.failures[{cause, step}];
    if (f.count == 0) f.example = first_line(engine.transcript().mask(message));
    ++f.count;
    progress.failed.fetch_add(1, std::memory_order_relaxed);
  }

  void close_down() {
    if (ending) return;
    ending = true;
    // A run that ends by its duration (or Ctrl-C) lasted until now; one that ran out of
    // conversations lasted until the last one finished.
    if (end || running > 0 || finished_at < start) finished_at = Clock::now();
    results.interrupted += convs.size();
    progress.running.store(0, std::memory_order_relaxed);
    deadline_timer.cancel();
    rate_timer.cancel();
    end_timer.cancel();
    engine.interrupt();
  }
};

bool Runner::Impl::install_hooks(std::string& error) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "parley.load");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    error = lua_tostring(L, -1) != nullptr ? lua_tostring(L, -1) : "cannot load parley.load";
    lua_pop(L, 1);
    return false;
  }
  lua_getfield(L, -1, "_setup");
  lua_createtable(L, 0, 2);
  const luaL_Reg hooks[] = {{"drive", script::protect<l_drive>},
                            {"threshold", script::protect<l_threshold>},
                            {nullptr, nullptr}};
  lua_pushlightuserdata(L, this);
  luaL_setfuncs(L, hooks, 1);
  lua_createtable(L, 0, 6);
  auto set = [this](const char* k, lua_Integer v) {
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
  };
  set("thread", share.thread + 1);
  set("threads", share.threads);
  set("shard", share.shard > 0 ? share.shard : 1);
  set("shards", share.shards > 0 ? share.shards : 1);
  set("concurrency", share.concurrency);
  if (share.count) set("count", static_cast<lua_Integer>(*share.count));
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    error = lua_tostring(L, -1) != nullptr ? lua_tostring(L, -1) : "parley.load setup failed";
    lua_pop(L, 2);
    return false;
  }
  lua_pop(L, 1);
  return true;
}

// hooks.drive(): the run's main conversation waits here while the load runs.
int Runner::Impl::l_drive(lua_State* L) {
  Impl& impl = self(L);
  impl.engine.prepare_wait(L);
  asio::post(impl.engine.io(), [&impl] { impl.begin(); });
  return script::suspend(L);
}

// A step begins: its token is its depth among the conversation's open steps.
int Runner::Impl::begin_step(std::string_view name) {
  Conv* conv = conv_of(Engine::running());
  if (conv == nullptr) return 0;
  conv->steps.push_back({step_slot(name), Clock::now()});
  return static_cast<int>(conv->steps.size());
}

// The step of `token` completed; its time goes into its histogram.
void Runner::Impl::end_step(int depth) {
  Conv* conv = conv_of(Engine::running());
  if (conv == nullptr || depth < 1 || static_cast<std::size_t>(depth) > conv->steps.size()) {
    return;
  }
  OpenStep& s = conv->steps[static_cast<std::size_t>(depth - 1)];
  Clock::time_point now = Clock::now();
  std::uint64_t us = micros(now - s.began);
  ++s.slot.stats->ok;
  s.slot.stats->latency.record(us);
  live_at(now);  // the slot's histogram is of the current second from here on
  s.slot.now->record(us);
  conv->steps.resize(static_cast<std::size_t>(depth - 1));
}

// hooks.threshold(expr): the script declares a threshold (load.thresholds). A malformed one
// fails the conversation and makes the run a script error.
int Runner::Impl::l_threshold(lua_State* L) {
  Impl& impl = self(L);
  std::size_t len = 0;
  const char* text = script::check_string(L, 1, &len);
  std::string expr(text, len);
  try {
    parse_threshold(expr);
  } catch (const ThresholdError& e) {
    std::string message = "load.thresholds: \"" + expr + "\": " + e.what();
    if (impl.runner.threshold_error_.empty()) impl.runner.threshold_error_ = message;
    script::raise(L, 2, "script", message);
  }
  auto& declared = impl.results.script_thresholds;
  if (std::find(declared.begin(), declared.end(), expr) == declared.end()) {
    declared.push_back(std::move(expr));
  }
  return 0;
}

//---------------------------------------------------------------------------------------------

Runner::Runner(script::EngineOptions options, std::string script, Share share)
    : options_(std::move(options)),
      script_(std::move(script)),
      share_(std::move(share)),
      target_(share_.concurrency) {}

Runner::~Runner() = default;

void Runner::run(Clock::time_point start, std::optional<Clock::time_point> end,
                 std::optional<Clock::time_point> origin) {
  Engine engine(options_);
  std::size_t slash = script_.rfind('/');
  engine.prepend_module_dir(slash == std::string::npos ? "." : script_.substr(0, slash));
  lua_State* L = engine.lua();
  if (luaL_loadfile(L, script_.c_str()) != LUA_OK) {
    error_ = lua_tostring(L, -1) != nullptr ? lua_tostring(L, -1) : "cannot load " + script_;
    lua_pop(L, 1);
    return;
  }
  int chunk = luaL_ref(L, LUA_REGISTRYINDEX);
  Impl impl(*this, engine, chunk, start, end);
  impl.origin = origin.value_or(start);
  if (!impl.install_hooks(error_)) return;
  engine.set_step_hooks(&impl);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    impl_ = &impl;
    if (stop_requested_) asio::post(engine.io(), [&impl] { impl.close_down(); });
  }
  engine.run_chunk("=parley load", "return require('parley.load')._drive()");
  engine.set_step_hooks(nullptr);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    impl_ = nullptr;
  }
  impl.flush();
  if (!impl.ending) impl.finished_at = Clock::now();
  results_.elapsed = std::chrono::duration<double>(impl.finished_at - start).count();
  if (results_.elapsed < 0) results_.elapsed = 0;
}

void Runner::set_concurrency(long n) {
  std::lock_guard<std::mutex> lock(mutex_);
  target_.store(n, std::memory_order_relaxed);
  if (impl_ != nullptr) {
    Impl* impl = impl_;
    asio::post(impl->engine.io(), [impl] { impl->start_more(); });
  }
}

void Runner::stop() {
  std::lock_guard<std::mutex> lock(mutex_);
  stop_requested_ = true;
  if (impl_ != nullptr) {
    Impl* impl = impl_;
    asio::post(impl->engine.io(), [impl] { impl->close_down(); });
  }
}

}  // namespace parley::load
