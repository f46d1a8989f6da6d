// The loop guard: stops a script that computes for longer than the wait timeout without
// waiting on the network (an endless loop), with a script error naming its line.
//
// A count hook on every task would make the Lua VM trace every instruction (7 % of a load
// test's instructions went there). So tasks run without a hook, and each engine has a POSIX
// timer that signals the engine's own thread when the running resume may have lasted longer
// than the timeout; the handler then arms the count hook on the running task (lua_sethook is
// safe in a signal handler), or sets the timer again for later. The hook raises the error, or,
// when the task has waited in between, takes itself off again. No thread: a run shorter than
// the timeout gets no signal at all. Coroutines a script makes itself (coroutine.create,
// coroutine.wrap) keep a count hook of their own: the signal cannot name them.
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <lua.hpp>

namespace parley::script {

class LoopGuard {
 public:
  /// Watches the engine run on the calling thread; `limit` is its timeout in seconds.
  explicit LoopGuard(double limit);  // on the thread that runs the engine
  ~LoopGuard();
  LoopGuard(const LoopGuard&) = delete;
  LoopGuard& operator=(const LoopGuard&) = delete;

  /// Around each lua_resume: enter returns what leave must restore (resumes may nest).
  /// Only the engine's thread writes: a load and a store, no read-modify-write on this path.
  std::int64_t enter(std::chrono::steady_clock::time_point began) {
    std::int64_t previous = since_.load(std::memory_order_relaxed);
    since_.store(began.time_since_epoch().count(), std::memory_order_relaxed);
    return previous;
  }
  void leave(std::int64_t previous) { since_.store(previous, std::memory_order_relaxed); }

  /// Gives coroutine.create and coroutine.wrap of `L` the count hook.
  static void install(lua_State* L);

 private:
  static void on_signal(int);
  void check(std::int64_t now);
  void arm(double seconds);
  double limit_;
  timer_t timer_{};
  LoopGuard* next_ = nullptr;           ///< the next guard of this thread's engines
  std::atomic<std::int64_t> since_{0};  ///< steady-clock ticks when the resume began; 0: idle
};

}  // namespace parley::script
