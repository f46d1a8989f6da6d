#include "script/loop_guard.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "script/engine.hpp"
#include "script/lua_util.hpp"

namespace parley::script {

namespace {

constexpr int kHookInstructions = 10000;
// Ignored by default, so one that arrives after its engine went idle does no harm.
constexpr int kArmSignal = SIGURG;

// Never destroyed: the watchdog thread (detached) may still look at them while the process
// exits and runs static destructors.
std::mutex& g_mutex = *new std::mutex;
std::vector<LoopGuard*>& g_guards = *new std::vector<LoopGuard*>;

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

// In the engine's thread, interrupted wherever it computes.
void on_arm_signal(int) {
  Task* t = Engine::running();
  // Every 10,000 instructions, as on a script's coroutine: the first check comes within
  // microseconds, and a script that just caught the error of its coroutine's loop (which that
  // coroutine's own hook raised) has the same time to go on as with a hook everywhere.
  if (t != nullptr && t->co != nullptr) {
    lua_sethook(t->co, guard_hook, LUA_MASKCOUNT, kHookInstructions);
  }
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

void watch_engines() {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard<std::mutex> lock(g_mutex);
    std::int64_t now = Clock::now().time_since_epoch().count();
    for (LoopGuard* g : g_guards) {
      std::int64_t since = g->since_.load(std::memory_order_relaxed);
      if (since == 0) continue;
      double ran = std::chrono::duration<double>(Clock::duration(now - since)).count();
      if (ran > g->limit_) pthread_kill(g->thread_, kArmSignal);
    }
  }
}

LoopGuard::LoopGuard(double limit) : limit_(limit), thread_(pthread_self()) {
  static std::once_flag started;
  std::call_once(started, [] {
    struct sigaction sa {};
    sa.sa_handler = on_arm_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(kArmSignal, &sa, nullptr);
    std::thread(watch_engines).detach();
  });
  std::lock_guard<std::mutex> lock(g_mutex);
  g_guards.push_back(this);
}

LoopGuard::~LoopGuard() {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_guards.erase(std::remove(g_guards.begin(), g_guards.end(), this), g_guards.end());
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
