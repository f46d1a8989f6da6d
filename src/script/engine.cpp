// Tasks: creation, the single resume path, completion, and the end of a run.
#include "script/engine.hpp"

#include <malloc.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "framing/framing.hpp"
#include "script/errors.hpp"
#include "script/lua_util.hpp"

namespace parley::script {

namespace {

const char kEngineKey = 'E';

// Longer than Lua's short (interned) strings, which are made differently.
constexpr std::size_t kLongString = 64;

Task*& task_slot(lua_State* L) {
  return *static_cast<Task**>(lua_getextraspace(L));
}

// The task being resumed (hooks see coroutines it made, too). One per thread: `parley load`
// runs an engine on each core.
thread_local Task* g_running = nullptr;

// "parley: TEXT" on stderr, every byte of it (a reply with NUL bytes must not cut the message).
void say(const std::string& text) {
  std::string line = "parley: " + text + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

// Lua's allocator (realloc and free, as luaL_newstate's), counting what the state holds and
// refusing to grow it past --max-memory while the script's own code runs (never inside
// parley's C++ code: see MemoryLimitScope); Lua then collects garbage, tries once more, and
// raises "not enough memory". It asks for huge pages under the strings of big replies: a 50 MB
// literal is one string.
Engine::Memory::~Memory() {
  for (void*& head : free_list) {
    while (head != nullptr) {
      void* next = *static_cast<void**>(head);
      std::free(head);
      head = next;
    }
  }
}

// A block for `size` bytes: a kept one when its class has one, else a new one of the class's
// full size (so that it can serve any size of the class when it comes back). Class c holds
// blocks of 16c + 8 usable bytes, the sizes glibc's malloc hands out (a 16-byte multiple less
// its 8-byte header): rounding to a 16-byte multiple instead would cost 16 more bytes per
// object, as malloc(32) takes the 48-byte chunk that malloc(40) takes.
std::size_t Engine::Memory::class_of(std::size_t size) {
  return size <= kSmallStep + kHeader ? 1 : (size - kHeader + kSmallStep - 1) / kSmallStep;
}

void* Engine::Memory::take(std::size_t size) {
  std::size_t c = class_of(size);
  if (c > kSmallClasses) return std::malloc(size);
  if (void* block = free_list[c]) {
    free_list[c] = *static_cast<void**>(block);
    cached_bytes -= c * kSmallStep;
    return block;
  }
  return std::malloc(c * kSmallStep + kHeader);
}

// Keeps a freed block in the class its capacity serves, or frees it. The capacity is what
// malloc says it is, so that blocks malloc'd before the allocator changed (luaL_newstate's)
// and blocks of other classes land where they fit.
void Engine::Memory::give(void* block) {
  std::size_t usable = malloc_usable_size(block);
  std::size_t c = usable < kSmallStep + kHeader ? 0 : (usable - kHeader) / kSmallStep;
  if (c == 0 || c > kSmallClasses || cached_bytes + c * kSmallStep > kCacheBytes) {
    std::free(block);
    return;
  }
  *static_cast<void**>(block) = free_list[c];
  free_list[c] = block;
  cached_bytes += c * kSmallStep;
}

void* Engine::allocate(void* ud, void* block, std::size_t old_size, std::size_t size) {
  auto& m = *static_cast<Memory*>(ud);
  std::size_t had = block != nullptr ? old_size : 0;  // without a block, old_size is a type
  // A block push_block hands over goes to the allocation it was meant for, the very next one
  // (else push_block frees it: Lua is still to read the bytes from it).
  char* adopt = nullptr;
  if (m.adopt != nullptr && m.adopt_armed) {
    m.adopt_armed = false;
    if (block == nullptr && old_size == LUA_TSTRING && size == m.adopt_size) {
      adopt = std::exchange(m.adopt, nullptr);
    }
  }
  if (size == 0) {
    if (block != nullptr) m.give(block);
    m.used -= std::min(m.used, had);
    return nullptr;
  }
  if (size > had && m.limit != 0 && m.used + (size - had) > m.limit &&
      MemoryLimitScope::enforced()) {
    // Lua collects garbage and asks once more, then copies the bytes from the block if that
    // succeeds: the block stays alive until push_block's end (or the next push_block, or the
    // engine's end, when Lua raises).
    if (adopt != nullptr) m.adopt = adopt;
    m.refused = m.starved = true;
    return nullptr;
  }
  if (adopt != nullptr) {
    m.used += size;
    m.grown += size;
    return adopt;
  }
  constexpr std::size_t small = Memory::kSmallClasses * Memory::kSmallStep + Memory::kHeader;
  void* grown = nullptr;
  if (block == nullptr) {
    grown = m.take(size);
  } else if (size <= small || had <= small) {
    // A small block resized (a table's parts, a string buffer): kept when it still fits
    // snugly, else moved to a block of the new size.
    std::size_t capacity = malloc_usable_size(block);
    if (size <= capacity && size > capacity / 2) {
      grown = block;
    } else {
      grown = m.take(size);
      if (grown == nullptr) return nullptr;
      std::memcpy(grown, block, std::min(had, size));
      m.give(block);
    }
  } else {
    grown = std::realloc(block, size);
  }
  if (grown == nullptr) return nullptr;
  if (m.probing && block == nullptr && old_size == LUA_TSTRING) {
    m.probed = static_cast<char*>(grown);
    m.probed_size = size;
  }
  m.used = m.used - std::min(m.used, had) + size;
  if (size > had) m.grown += size - had;
  if (size >= framing::kHugePagesFrom && (block == nullptr || size > old_size)) {
    framing::advise_huge_pages(grown, size);
  }
  return grown;
}

// Garbage counts against the limit until the collector frees it. Lua collects and retries
// when an allocation of its own is refused, but the buffers of string.rep, table.concat,
// string.format (lauxlib's) fail at once: near the limit, garbage is collected before a
// conversation resumes and before a binding runs, at most once per eighth of the limit
// allocated, or after an allocation was refused (a refused lauxlib buffer frees nothing and
// allocates nothing: the garbage would stay until the limit stops the script).
// Any state of an engine: the allocator's data is its Memory.
void Engine::collect_near_limit(lua_State* L) {
  void* ud = nullptr;
  if (lua_getallocf(L, &ud) != &Engine::allocate || ud == nullptr) return;
  Memory& m = *static_cast<Memory*>(ud);
  if (m.limit == 0 || m.used <= m.limit / 4 * 3 || (m.grown <= m.limit / 8 && !m.starved)) return;
  lua_gc(L, LUA_GCCOLLECT);
  m.grown = 0;
  m.starved = false;
}

Engine::Engine(EngineOptions options)
    : options_(std::move(options)), transcript_(options_.transcript) {
  L_ = luaL_newstate();
  if (L_ == nullptr) throw std::bad_alloc();
  // What luaL_newstate allocated before the allocator changes is counted as Lua counts it.
  memory_.used = static_cast<std::size_t>(lua_gc(L_, LUA_GCCOUNT, 0)) * 1024 +
                 static_cast<std::size_t>(lua_gc(L_, LUA_GCCOUNTB, 0));
  lua_setallocf(L_, allocate, &memory_);
  lua_atpanic(L_, on_panic);
  task_slot(L_) = nullptr;
  lua_pushlightuserdata(L_, this);
  lua_rawsetp(L_, LUA_REGISTRYINDEX, &kEngineKey);
  find_string_head();
  init_metatables(L_);
  open_libraries();
  memory_.limit = options_.max_memory;
}

// Lua 5.4 has no strings over outside memory, and lua_pushlstring copies. A long string is one
// allocation, a header and then the bytes and a terminator: pushing a string of known length
// shows how long the header is, and that the bytes lie where they are expected.
void Engine::find_string_head() {
  static constexpr char kProbe[kLongString] = {};
  memory_.probing = true;
  const char* bytes = lua_pushlstring(L_, kProbe, sizeof kProbe);
  memory_.probing = false;
  char* block = std::exchange(memory_.probed, nullptr);
  if (block != nullptr && bytes > block) {
    auto head = static_cast<std::size_t>(bytes - block);
    if (memory_.probed_size == head + sizeof kProbe + 1) memory_.string_head = head;
  }
  lua_pop(L_, 1);
}

void Engine::push_block(lua_State* L, framing::Block& block) {
  void* ud = nullptr;
  auto* m = lua_getallocf(L, &ud) == &Engine::allocate ? static_cast<Memory*>(ud) : nullptr;
  if (m == nullptr || m->string_head == 0 || block.head() != m->string_head ||
      block.size() < kLongString) {
    std::string_view v = block.view();
    lua_pushlstring(L, v.data(), v.size());
    return;
  }
  std::size_t size = block.size();
  char* base = block.release();
  m->adopt_size = m->string_head + size + 1;
  std::free(std::exchange(m->adopt, base));  // one left by a push that raised
  m->adopt_armed = true;
  // Lua's first allocation is the string's, which takes `base`; it then copies the bytes from
  // where they already are (memcpy onto itself: nothing to do) and writes the header.
  lua_pushlstring(L, base + m->string_head, size);
  m->adopt_armed = false;
  std::free(std::exchange(m->adopt, nullptr));  // not taken: Lua made a copy
}

Engine::~Engine() {
  stopping_ = true;
  if (L_ != nullptr) {
    lua_close(L_);  // its finalizers may still check userdata: forget them after
    note_state_closing();
  }
  std::free(memory_.adopt);
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
  open_relay(L_);
  // Lua's require, for the bindings that load a module on first use (whatever the script
  // does to the global).
  lua_getglobal(L_, "require");
  lua_setfield(L_, LUA_REGISTRYINDEX, kRequireKey);
  // print, require and step as scripts see them. The Lua half of the connections (expect, on,
  // off: parley.core, ~0.5 M instructions to load) waits until a script asks a connection for
  // a method the bindings lack (bind_conn.cpp), so that a start does not pay for it.
  lua_getfield(L_, LUA_REGISTRYINDEX, kRequireKey);
  lua_pushliteral(L_, "parley.prelude");
  if (lua_pcall(L_, 1, 0, 0) != LUA_OK) {
    std::string msg = lua_tostring(L_, -1) ? lua_tostring(L_, -1) : "?";
    throw std::runtime_error("cannot load parley.prelude: " + msg);
  }
}

int Engine::prepare_wait(lua_State* L) {
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
  return t->id;
}

Task* Engine::spawn(lua_State* L, int nargs) {
  auto task = std::make_unique<Task>();
  Task* t = task.get();
  t->id = ++next_task_;
  t->co = lua_newthread(L);
  task_slot(t->co) = t;
  t->thread_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  t->parent = g_running != nullptr ? g_running->id : 0;
  if (g_running != nullptr) g_running->children.insert(t->id);
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

void Engine::wake_later(int id, std::function<int(lua_State*)> push) {
  boost::asio::post(io_,
                    [this, id, push = std::move(push)]() mutable { wake(id, std::move(push)); });
}

void Engine::resume(Task* t, int nargs) {
  Task* outer = g_running;
  g_running = t;
  t->running = true;
  t->resumed_at = Clock::now();
  std::int64_t outer_since = guard_.enter(t->resumed_at);
  int nresults = 0;
  collect_near_limit(L_);
  int status;
  {
    MemoryLimitScope limited(true);
    status = lua_resume(t->co, L_, nargs, &nresults);
  }
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
  if (status == LUA_OK && t->results_unused) {
    lua_pop(co, nresults);
  } else if (status == LUA_OK) {
    lua_createtable(co, nresults, 1);
    lua_pushinteger(co, nresults);
    lua_setfield(co, -2, "n");
    lua_insert(co, -(nresults + 1));
    for (int i = nresults; i >= 1; --i) lua_rawseti(co, -(i + 1), i);
    lua_xmove(co, L_, 1);
  } else {
    t->failed = true;
    // The error object goes to the main thread first: a coroutine that died of an error can
    // no longer call anything, and reading the object may run the script's metamethods.
    lua_xmove(co, L_, 1);
    ErrorInfo info = describe_error(L_, -1);
    t->exit = info.exit;
    if (!lua_istable(L_, -1)) {
      // A runtime error: the message carries its position; add the traceback at -v.
      std::string msg = info.text();
      if (status == LUA_ERRMEM && memory_.refused) {
        msg = "not enough memory: the script's Lua memory reached the --max-memory limit (" +
              std::to_string(memory_.limit >> 20) + " MB)";
        memory_.refused = false;
      }
      if (options_.verbose) {
        luaL_traceback(L_, co, msg.c_str(), 0);
        msg = lua_tostring(L_, -1);
        lua_pop(L_, 1);
      }
      lua_pop(L_, 1);
      lua_createtable(L_, 0, 4);
      lua_pushlstring(L_, msg.data(), msg.size());
      lua_setfield(L_, -2, "message");
      lua_pushstring(L_, "script");
      lua_setfield(L_, -2, "kind");
      lua_pushinteger(L_, kScriptError);
      lua_setfield(L_, -2, "exit");
      luaL_setmetatable(L_, "parley.error");
      t->exit = kScriptError;
    }
  }
  if (status != LUA_OK || !t->results_unused) t->result_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  // The thread may live on (a script kept coroutine.running()): it is no task any more.
  task_slot(co) = nullptr;
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
        " failed: " + transcript_.mask(describe_error(L_, -1).text()));
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
  if (!t->detached || t->id == 1 || stopping_) return;
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
  auto [head, fresh] = cancellers_of_.try_emplace(owner, id);
  int next = fresh ? 0 : std::exchange(head->second, id);
  if (next != 0) cancellers_[next].prev = id;
  cancellers_[id] = Canceller{owner, std::move(cancel), 0, next};
  return id;
}

void Engine::remove_canceller(int id) {
  auto it = cancellers_.find(id);
  if (it == cancellers_.end()) return;
  const Canceller& c = it->second;
  if (c.next != 0) cancellers_[c.next].prev = c.prev;
  if (c.prev != 0) {
    cancellers_[c.prev].next = c.next;
  } else if (c.next != 0) {
    cancellers_of_[c.owner] = c.next;
  } else {
    cancellers_of_.erase(c.owner);
  }
  cancellers_.erase(it);
}

std::vector<int> Engine::family(int task) const {
  std::vector<int> out{task};
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto it = tasks_.find(out[i]);
    if (it == tasks_.end()) continue;
    out.insert(out.end(), it->second->children.begin(), it->second->children.end());
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {
constexpr std::size_t kCapturedPerConnection = 400;
// A task that opens connection after connection (an accept loop) keeps the lines of its last
// ones only.
constexpr std::size_t kCapturedConnectionsPerTask = 64;
}  // namespace

void Engine::enable_capture() {
  capture_ = true;
  transcript_.set_tap([this](int conn, const std::string& line) {
    auto it = captured_.find(conn);
    if (it == captured_.end()) return;  // opened outside any task
    auto& lines = it->second;
    if (lines.size() >= kCapturedPerConnection) lines.pop_front();
    lines.push_back(line);
  });
}

void Engine::register_conn(int conn, int owner) {
  if (!capture_) return;
  Task* t = find_task(owner);
  if (t == nullptr) return;
  captured_[conn];
  t->captured_conns.push_back(conn);
  if (t->captured_conns.size() > kCapturedConnectionsPerTask) {
    captured_.erase(t->captured_conns.front());
    t->captured_conns.erase(t->captured_conns.begin());
  }
}

std::vector<std::string> Engine::captured_for(int task, std::size_t max_lines) const {
  std::vector<int> conns;
  for (int id : family(task)) {
    auto t = tasks_.find(id);
    if (t == tasks_.end()) continue;
    conns.insert(conns.end(), t->second->captured_conns.begin(), t->second->captured_conns.end());
  }
  std::sort(conns.begin(), conns.end());
  std::vector<std::string> out;
  for (int conn : conns) {
    auto lines = captured_.find(conn);
    if (lines != captured_.end()) out.insert(out.end(), lines->second.begin(), lines->second.end());
  }
  if (out.size() > max_lines) out.erase(out.begin(), out.end() - static_cast<long>(max_lines));
  return out;
}

void Engine::forget_conns(Task& task) {
  for (int conn : task.captured_conns) captured_.erase(conn);
  task.captured_conns.clear();
}

void Engine::forget_captured(int task) {
  for (int id : family(task)) {
    if (Task* t = find_task(id)) forget_conns(*t);
  }
}

void Engine::cancel(Task* task, const std::string& why) {
  std::vector<int> doomed = family(task->id);
  std::vector<int> ids;
  for (int owner : doomed) {
    auto owned = cancellers_of_.find(owner);
    if (owned == cancellers_of_.end()) continue;
    for (int id = owned->second; id != 0;) {
      ids.push_back(id);
      auto entry = cancellers_.find(id);
      id = entry == cancellers_.end() ? 0 : entry->second.next;
    }
  }
  std::sort(ids.begin(), ids.end());  // in the order they were registered
  for (int id : ids) {
    auto it = cancellers_.find(id);
    if (it == cancellers_.end()) continue;  // removed by one called before
    auto cancel = std::move(it->second.cancel);
    remove_canceller(id);
    cancel();
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
  cancellers_.clear();
  cancellers_of_.clear();
  std::vector<int> ids;
  ids.reserve(all.size());
  for (const auto& entry : all) ids.push_back(entry.first);
  std::sort(ids.begin(), ids.end());  // in the order they were registered
  for (int id : ids) all[id].cancel();
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
  say(transcript_.mask(describe_error(L_, -1).text()));
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
          " failed: " + transcript_.mask(describe_error(L_, -1).text()));
      lua_pop(L_, 1);
      t->reported = true;
    }
    if (exit == kOk) exit = t->exit;
  }
  return exit;
}

}  // namespace parley::script
