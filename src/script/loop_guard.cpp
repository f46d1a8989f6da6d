#include "script/loop_guard.hpp"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include "script/engine.hpp"
#include "script/lua_util.hpp"

namespace parley::script {

namespace {

constexpr int kHookInstructions = 10000;
// Ignored by default, so one that arrives after its engine went idle does no harm.
constexpr int kArmSignal = SIGURG;

// The guards of the engines on this thread, newest first. A linked list changed by single
// pointer stores, so that the signal handler (on the same thread) always sees a whole one.
thread_local LoopGuard* t_guards = nullptr;

// The count hook. Not a binding: it raises with lua_error itself, so the message is built in a
// scope of its own (a longjmp skips C++ destructors).
void guard_hook(lua_State* L, lua_Debug*) {
  Task* t = Engine::running();
  if (t == nullptr) return;
  double limit = Engine::of(L).options().timeout;
  double ran = std::chrono::duration<double>(Clock::now() - t->resumed_at).count();
  if (ran <= limit) {
    // Armed on the task by the watchdog, but the task has waited since: off again.
    if (L == t->co) lua_sethook(L, nullptr, 0, 0);
    return;
  }
  // The next check 10,000 instructions on, as for a script's coroutine: a pcall that catches
  // this error gets the time to answer for it (the mock servers' hooks do).
  lua_sethook(L, guard_hook, LUA_MASKCOUNT, kHookInstructions);
  {
    char ran_text[32];
    std::snprintf(ran_text, sizeof ran_text, "%.3g", ran);
    push_error(L, kScriptError, "script",
               std::string("the script ran ") + ran_text +
                   " s without waiting on the network (an endless loop?); stopped at the " +
                   seconds_text(limit) + " s timeout");
  }
  lua_error(L);
}

// coroutine.create, with the count hook on the new coroutine.
int co_create(lua_State* L) {
  check_type(L, 1, LUA_TFUNCTION);
  lua_State* co = lua_newthread(L);
  lua_sethook(co, guard_hook, LUA_MASKCOUNT, kHookInstructions);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  return 1;
}

// coroutine.wrap (upvalue 1: Lua's own). It makes its coroutine with lua_newthread(L), which
// copies L's hook: L lends it the count hook for the call.
int co_wrap(lua_State* L) {
  check_type(L, 1, LUA_TFUNCTION);
  lua_Hook hook = lua_gethook(L);
  int mask = lua_gethookmask(L);
  int count = lua_gethookcount(L);
  lua_sethook(L, guard_hook, LUA_MASKCOUNT, kHookInstructions);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  lua_sethook(L, hook, mask, count);
  return 1;
}

}  // namespace

// In the engine's thread, interrupted wherever it computes: a guard's timer expired.
void LoopGuard::on_signal(int) {
  int saved_errno = errno;
  std::int64_t now = Clock::now().time_since_epoch().count();
  for (LoopGuard* g = t_guards; g != nullptr; g = g->next_) g->check(now);
  errno = saved_errno;
}

LoopGuard::LoopGuard(double limit) : limit_(limit) {
  static std::once_flag installed;
  std::call_once(installed, [] {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(kArmSignal, &sa, nullptr);
  });
  struct sigevent ev {};
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = kArmSignal;
  ev._sigev_un._tid = gettid();  // this thread: where the engine runs, and the hook is armed
  if (timer_create(CLOCK_MONOTONIC, &ev, &timer_) != 0) {
    throw std::runtime_error(std::string("cannot create the loop guard's timer: ") +
                             std::strerror(errno));
  }
  next_ = t_guards;
  t_guards = this;
  arm(limit_);
}

LoopGuard::~LoopGuard() {
  timer_delete(timer_);  // a signal still pending finds this guard gone from the list
  for (LoopGuard** p = &t_guards; *p != nullptr; p = &(*p)->next_) {
    if (*p == this) {
      *p = next_;
      break;
    }
  }
}

void LoopGuard::arm(double seconds) {
  // A day at most: a --timeout of years still gets a check now and then.
  seconds = std::min(std::max(seconds, 0.001), 86400.0);
  struct itimerspec when {};
  when.it_value.tv_sec = static_cast<time_t>(seconds);
  when.it_value.tv_nsec =
      static_cast<long>((seconds - static_cast<double>(when.it_value.tv_sec)) * 1e9);
  timer_settime(timer_, 0, &when, nullptr);  // async-signal-safe: check() calls it too
}

// When a resume has lasted longer than the timeout, arms the count hook on the running task
// (every 10,000 instructions, as on a script's coroutine: the first check comes within
// microseconds, and a script that just caught the error of its coroutine's loop has the same
// time to go on as with a hook everywhere), and looks again in 100 ms. Otherwise the timer is
// set for the earliest moment a resume can have lasted that long: when the running one would,
// or a whole timeout from now when none runs. Idle or busy, an engine gets a signal about once
// per timeout, none in a run shorter than that.
void LoopGuard::check(std::int64_t now) {
  std::int64_t since = since_.load(std::memory_order_relaxed);
  if (since == 0) return arm(limit_);
  double ran = std::chrono::duration<double>(Clock::duration(now - since)).count();
  if (ran <= limit_) return arm(limit_ - ran + 0.001);
  Task* t = Engine::running();
  if (t != nullptr && t->co != nullptr) {
    lua_sethook(t->co, guard_hook, LUA_MASKCOUNT, kHookInstructions);
  }
  arm(0.1);
}

void LoopGuard::install(lua_State* L) {
  lua_getglobal(L, "coroutine");
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    return;
  }
  lua_pushcfunction(L, protect<co_create>);
  lua_setfield(L, -2, "create");
  lua_getfield(L, -1, "wrap");
  lua_pushcclosure(L, protect<co_wrap>, 1);
  lua_setfield(L, -2, "wrap");
  lua_pop(L, 1);
}

}  // namespace parley::script
