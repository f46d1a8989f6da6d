// Tasks: creation, the single resume path, completion, and the end of a run.
#include "script/engine.hpp"

#include <boost/asio/post.hpp>
#include <cstdio>
#include <cstdlib>

#include "framing/framing.hpp"
#include "script/lua_util.hpp"

namespace parley::script {

namespace {

const char kEngineKey = 'E';

Task*& task_slot(lua_State* L) {
  return *static_cast<Task**>(lua_getextraspace(L));
}

// The task being resumed (hooks see coroutines it made, too). One per thread: `parley load`
// runs an engine on each core.
thread_local Task* g_running = nullptr;

// Lua's allocator (realloc and free, as luaL_newstate's), asking for huge pages under the
// strings of big replies: a 50 MB literal is one string.
void* allocate(void*, void* block, std::size_t old_size, std::size_t size) {
  if (size == 0) {
    std::free(block);
    return nullptr;
  }
  void* grown = std::realloc(block, size);
  if (grown != nullptr && size >= framing::kHugePagesFrom &&
      (block == nullptr || size > old_size)) {
    framing::advise_huge_pages(grown, size);
  }
  return grown;
}

// Error object at `idx` as text: "where: message".
// The string at `idx` with every byte (NULs included), or `fallback`.
std::string bytes_at(lua_State* L, int idx, const char* fallback) {
  std::size_t len = 0;
  const char* s = lua_isstring(L, idx) ? lua_tolstring(L, idx, &len) : nullptr;
  return s != nullptr ? std::string(s, len) : std::string(fallback);
}

std::string error_text(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_istable(L, idx)) {
    lua_getfield(L, idx, "where");
    lua_getfield(L, idx, "message");
    std::string where_s = bytes_at(L, -2, "");
    std::string msg = bytes_at(L, -1, "(no message)");
    lua_pop(L, 2);
    return where_s.empty() ? msg : where_s + ": " + msg;
  }
  std::size_t len = 0;
  const char* s = luaL_tolstring(L, idx, &len);
  std::string out = s != nullptr ? std::string(s, len) : "(error object is not a string)";
  lua_pop(L, 1);
  return out;
}

// "parley: TEXT" on stderr, every byte of it (a reply with NUL bytes must not cut the message).
void say(const std::string& text) {
  std::string line = "parley: " + text + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

int error_exit(lua_State* L, int idx) {
  if (!lua_istable(L, idx)) return kScriptError;
  lua_getfield(L, idx, "exit");
  int exit = lua_isinteger(L, -1) ? static_cast<int>(lua_tointeger(L, -1)) : kScriptError;
  lua_pop(L, 1);
  return exit;
}

}  // namespace

Engine::Engine(EngineOptions options)
    : options_(std::move(options)), transcript_(options_.transcript) {
  L_ = luaL_newstate();
  if (L_ == nullptr) throw std::bad_alloc();
  lua_setallocf(L_, allocate, nullptr);
  task_slot(L_) = nullptr;
  lua_pushlightuserdata(L_, this);
  lua_rawsetp(L_, LUA_REGISTRYINDEX, &kEngineKey);
  init_metatables(L_);
  open_libraries();
}

Engine::~Engine() {
  stopping_ = true;
  if (L_ != nullptr) lua_close(L_);
}

Engine& Engine::of(lua_State* L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kEngineKey);
  auto* e = static_cast<Engine*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return *e;
}

Task* Engine::task_of(lua_State* L) {
  return task_slot(L);
}

Task* Engine::running() {
  return g_running;
}

bool Engine::is_library_source(const char* source) const {
  return source != nullptr && library_sources_.count(source) > 0;
}

void Engine::open_libraries() {
  luaL_openlibs(L_);
  LoopGuard::install(L_);
  install_searcher(L_);
  open_core(L_);
  open_connections(L_);
  open_crypto(L_);
  // The Lua half of the core (expect, on, ...) completes the connection methods.
  lua_getglobal(L_, "require");
  lua_pushliteral(L_, "parley.core");
  if (lua_pcall(L_, 1, 0, 0) != LUA_OK) {
    std::string msg = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "?";
    throw std::runtime_error("cannot load parley.core: " + msg);
  }
}

Task* Engine::prepare_wait(lua_State* L) {
  Task* t = task_of(L);
  if (t == nullptr) {
    raise(L, kScriptError, "script",
          "cannot wait here: network waits run in a conversation (the script itself or a "
          "spawn()ed function), not inside coroutine.create/wrap or while a module loads");
  }
  if (!lua_isyieldable(L)) {
    raise(L, kScriptError, "script",
          "cannot wait here: a C function is in between (table.sort, string.gsub callbacks, "
          "__gc and the like cannot wait on the network)");
  }
  t->waiting = true;
  return t;
}

Task* Engine::spawn(lua_State* L, int nargs) {
  auto task = std::make_unique<Task>();
  Task* t = task.get();
  t->id = ++next_task_;
  t->co = lua_newthread(L);
  task_slot(t->co) = t;
  t->thread_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  t->parent = g_running != nullptr ? g_running->id : 0;
  lua_xmove(L, t->co, nargs + 1);
  tasks_[t->id] = std::move(task);
  // By id: the task may be cancelled (and released) before it starts.
  boost::asio::post(io_, [this, id = t->id, nargs] {
    Task* task = find_task(id);
    if (!stopping_ && task != nullptr && !task->finished) resume(task, nargs);
  });
  return t;
}

Task* Engine::find_task(int id) {
  auto it = tasks_.find(id);
  return it == tasks_.end() ? nullptr : it->second.get();
}

void Engine::wake(Task* t, std::function<int(lua_State*)> push) {
  if (stopping_ || t->finished) return;
  if (t->running) {
    // Completed before the task yielded: resume once it has.
    boost::asio::post(io_, [this, id = t->id, push = std::move(push)]() mutable {
      if (Task* task = find_task(id)) wake(task, std::move(push));
    });
    return;
  }
  t->waiting = false;
  luaL_checkstack(t->co, 8, "wake");
  int n = push(t->co);
  resume(t, n);
}

void Engine::resume(Task* t, int nargs) {
  Task* outer = g_running;
  g_running = t;
  t->running = true;
  t->resumed_at = Clock::now();
  std::int64_t outer_since = guard_.enter(t->resumed_at);
  int nresults = 0;
  int status = lua_resume(t->co, L_, nargs, &nresults);
  guard_.leave(outer_since);
  t->running = false;
  g_running = outer;
  if (status == LUA_YIELD) {
    if (t->waiting) return;
    // A bare coroutine.yield() at the top of a conversation: nothing would resume it.
    lua_pop(t->co, nresults);
    push_error(t->co, kScriptError, "script",
               "coroutine.yield() called outside a coroutine the script created");
    finish(t, LUA_ERRRUN, 0);
    return;
  }
  finish(t, status, nresults);
}

void Engine::finish(Task* t, int status, int nresults) {
  lua_State* co = t->co;
  t->finished = true;
  if (status == LUA_OK) {
    lua_createtable(co, nresults, 1);
    lua_pushinteger(co, nresults);
    lua_setfield(co, -2, "n");
    lua_insert(co, -(nresults + 1));
    for (int i = nresults; i >= 1; --i) lua_rawseti(co, -(i + 1), i);
  } else {
    t->failed = true;
    if (!lua_istable(co, -1)) {
      // A runtime error: the message carries its position; add the traceback at -v.
      std::string msg = error_text(co, -1);
      if (options_.verbose) {
        luaL_traceback(co, co, msg.c_str(), 0);
        msg = lua_tostring(co, -1);
        lua_pop(co, 1);
      }
      lua_pop(co, 1);
      lua_createtable(co, 0, 4);
      lua_pushstring(co, msg.c_str());
      lua_setfield(co, -2, "message");
      lua_pushstring(co, "script");
      lua_setfield(co, -2, "kind");
      lua_pushinteger(co, kScriptError);
      lua_setfield(co, -2, "exit");
      luaL_setmetatable(co, "parley.error");
    }
    t->exit = error_exit(co, -1);
  }
  lua_xmove(co, L_, 1);
  t->result_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  luaL_unref(L_, LUA_REGISTRYINDEX, t->thread_ref);
  t->thread_ref = LUA_NOREF;
  auto joiners = std::move(t->on_finish);
  for (auto& j : joiners) j();
  if (t->id == 1) {
    stop_everything();
  } else if (t->failed && joiners.empty() && !stopping_ && !t->reported) {
    // Nobody waits for it: say so now, the user needs to see why it ended.
    lua_rawgeti(L_, LUA_REGISTRYINDEX, t->result_ref);
    say("spawned conversation " + std::to_string(t->id) +
        " failed: " + transcript_.mask(error_text(L_, -1)));
    lua_pop(L_, 1);
    t->reported = true;
  }
  release_if_detached(t);
}

void Engine::detach(int id) {
  Task* t = find_task(id);
  if (t == nullptr) return;
  t->detached = true;
  if (t->finished) release_if_detached(t);
}

// Forgets the task from a handler of its own: the caller (a __gc, a finish() with joiners to
// wake) may still be using it.
void Engine::release_if_detached(Task* t) {
  if (!t->detached || t->cancelled || t->id == 1 || stopping_) return;
  boost::asio::post(io_, [this, id = t->id] {
    Task* task = find_task(id);
    if (task != nullptr && !stopping_) release_now_if_detached(task);
  });
}

void Engine::release_now_if_detached(Task* t) {
  if (t->running) return;
  if (t->failed) {
    if (!t->reported) return;  // said at the end of the run
    if (!t->joined && unjoined_exit_ == kOk) unjoined_exit_ = t->exit;
  }
  release(t);
}

int Engine::add_canceller(std::function<void()> cancel, int owner) {
  int id = ++next_canceller_;
  if (owner < 0) owner = g_running != nullptr ? g_running->id : 0;
  cancellers_[id] = Canceller{owner, std::move(cancel)};
  return id;
}

void Engine::remove_canceller(int id) {
  cancellers_.erase(id);
}

std::set<int> Engine::family(int task) const {
  // The task and its descendants, found by walking parents (spawn order keeps ids rising).
  std::set<int> out{task};
  for (const auto& [id, t] : tasks_) {
    if (out.count(t->parent) > 0) out.insert(id);
  }
  return out;
}

namespace {
constexpr std::size_t kCapturedPerConnection = 400;
}

void Engine::enable_capture() {
  transcript_.set_tap([this](int conn, const std::string& line) {
    auto& lines = captured_[conn];
    if (lines.size() >= kCapturedPerConnection) lines.erase(lines.begin());
    lines.push_back(line);
  });
}

std::vector<std::string> Engine::captured_for(int task, std::size_t max_lines) const {
  std::set<int> tasks = family(task);
  std::vector<std::string> out;
  for (const auto& [conn, lines] : captured_) {
    auto owner = conn_owner_.find(conn);
    if (owner == conn_owner_.end() || tasks.count(owner->second) == 0) continue;
    out.insert(out.end(), lines.begin(), lines.end());
  }
  if (out.size() > max_lines) out.erase(out.begin(), out.end() - static_cast<long>(max_lines));
  return out;
}

void Engine::forget_captured(int task) {
  std::set<int> tasks = family(task);
  for (auto it = conn_owner_.begin(); it != conn_owner_.end();) {
    if (tasks.count(it->second) > 0) {
      captured_.erase(it->first);
      it = conn_owner_.erase(it);
    } else {
      ++it;
    }
  }
}

void Engine::cancel(Task* task, const std::string& why) {
  std::set<int> doomed = family(task->id);
  for (auto it = cancellers_.begin(); it != cancellers_.end();) {
    if (doomed.count(it->second.owner) > 0) {
      auto cancel = std::move(it->second.cancel);
      it = cancellers_.erase(it);
      cancel();
    } else {
      ++it;
    }
  }
  for (int id : doomed) {
    Task* t = find_task(id);
    if (t == nullptr || t->finished || t->running) continue;
    luaL_checkstack(t->co, 4, "cancel");
    push_error(t->co, kFailed, "cancelled", why);
    t->cancelled = true;
    t->joined = true;  // cancelled on purpose: not an unnoticed failure
    t->reported = true;
    finish(t, LUA_ERRRUN, 0);
  }
}

void Engine::interrupt() {
  if (stopping_) return;
  interrupted_ = true;
  stop_everything();
}

void Engine::stop_everything() {
  stopping_ = true;
  auto all = std::move(cancellers_);
  for (auto& [id, c] : all) c.cancel();
}

void Engine::prepend_module_dir(const std::string& dir) {
  lua_getglobal(L_, "package");
  lua_getfield(L_, -1, "path");
  std::string path = dir + "/?.lua;" + (lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "");
  lua_pop(L_, 1);
  lua_pushstring(L_, path.c_str());
  lua_setfield(L_, -2, "path");
  lua_pop(L_, 1);
}

int Engine::run_file(const std::string& path) {
  int status = luaL_loadfile(L_, path.c_str());
  return run_main(status);
}

int Engine::run_chunk(const std::string& name, std::string_view text) {
  int status = luaL_loadbuffer(L_, text.data(), text.size(), name.c_str());
  return run_main(status);
}

int Engine::run_main(int load_status) {
  if (load_status != LUA_OK) {
    std::fprintf(stderr, "parley: %s\n", lua_tostring(L_, -1));
    lua_pop(L_, 1);
    return kScriptError;
  }
  Task* main = spawn(L_, 0);
  io_.run();
  if (exit_override_ >= 0) return exit_override_;
  if (interrupted_) return kOk;
  if (!main->finished) {
    // Only possible when the loop ran dry while the script waited on something unbounded.
    std::fprintf(stderr, "parley: the script waited on something that can never happen\n");
    return kScriptError;
  }
  int unjoined = report_unjoined_failures();
  if (unjoined == kOk) unjoined = unjoined_exit_;
  if (!main->failed) return unjoined != kOk ? unjoined : late_failure_;
  lua_rawgeti(L_, LUA_REGISTRYINDEX, main->result_ref);
  say(transcript_.mask(error_text(L_, -1)));
  lua_pop(L_, 1);
  return main->exit;
}

int Engine::report_unjoined_failures() {
  int exit = kOk;
  for (auto& [id, t] : tasks_) {
    if (id == 1 || !t->failed || t->joined) continue;
    if (!t->reported) {
      lua_rawgeti(L_, LUA_REGISTRYINDEX, t->result_ref);
      say("spawned conversation " + std::to_string(id) +
          " failed: " + transcript_.mask(error_text(L_, -1)));
      lua_pop(L_, 1);
      t->reported = true;
    }
    if (exit == kOk) exit = t->exit;
  }
  return exit;
}

}  // namespace parley::script
