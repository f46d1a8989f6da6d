// The loop guard: stops a script that computes for longer than the wait timeout without
// waiting on the network (an endless loop), with a script error naming its line.
//
// A count hook on every task would make the Lua VM trace every instruction (7 % of a load
// test's instructions went there). So tasks run without a hook, and a watchdog thread looks at
// every engine ten times a second; when the running resume has lasted longer than the timeout,
// it signals the engine's thread, whose handler arms the count hook on the running task
// (lua_sethook is safe in a signal handler). The hook then raises the error, or, when the task
// has waited in between, takes itself off again. Coroutines a script makes itself
// (coroutine.create, coroutine.wrap) keep a count hook of their own: the signal cannot name them.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <lua.hpp>

namespace parley::script {

class LoopGuard {
 public:
  /// Watches the engine run on the calling thread; `limit` is its timeout in seconds.
  explicit LoopGuard(double limit);
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
  friend void watch_engines();
  double limit_;
  pthread_t thread_;
  std::atomic<std::int64_t> since_{0};  ///< steady-clock ticks when the resume began; 0: idle
};

}  // namespace parley::script
