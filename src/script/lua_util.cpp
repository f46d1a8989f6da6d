#include "script/lua_util.hpp"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "script/engine.hpp"

namespace parley::script {

namespace {
const char* kErrorMeta = "parley.error";

int error_tostring(lua_State* L) {
  check_type(L, 1, LUA_TTABLE);
  raw_field(L, 1, "where");
  raw_field(L, 1, "message");
  if (lua_isstring(L, -2) && lua_rawlen(L, -2) > 0) {
    lua_pushfstring(L, "%s: %s", lua_tostring(L, -2), opt_string(L, -1, "?"));
  } else {
    lua_pushstring(L, opt_string(L, -1, "?"));
  }
  return 1;
}

}  // namespace

void init_metatables(lua_State* L) {
  if (luaL_newmetatable(L, kErrorMeta)) {
    lua_pushcfunction(L, protect<error_tostring>);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
}

int resume_k(lua_State* L, int, lua_KContext base) {
  int first = static_cast<int>(base) + 1;
  if (!lua_toboolean(L, first)) {
    lua_pushvalue(L, first + 1);
    lua_error(L);
  }
  return lua_gettop(L) - first;
}

std::chrono::steady_clock::time_point deadline_after(double seconds) {
  using Clock = std::chrono::steady_clock;
  if (!(seconds < 1e9)) return Clock::time_point::max();
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(seconds > 0 ? seconds : 0));
}

std::string seconds_text(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", seconds);
  return buf;
}

void push_error(lua_State* L, int exit, const char* kind, const std::string& message) {
  std::string location = where(L);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  lua_pushinteger(L, exit);
  lua_setfield(L, -2, "exit");
  lua_pushlstring(L, message.data(), message.size());
  lua_setfield(L, -2, "message");
  lua_pushstring(L, location.c_str());
  lua_setfield(L, -2, "where");
  luaL_setmetatable(L, kErrorMeta);
}

void raise(lua_State* L, int exit, const char* kind, const std::string& message) {
  push_error(L, exit, kind, message);
  throw Raised{};
}

void raise_top(lua_State*) {
  throw Raised{};
}

void raise_no_method(lua_State* L, const char* label, int key, int methods,
                     const char* const* fields) {
  key = lua_absindex(L, key);
  methods = lua_absindex(L, methods);
  check_stack(L, 10, "a message");
  int top = lua_gettop(L);
  std::string msg = "no method ";
  // append, not "'" + ...: GCC 12 at -O3 reports a false -Wrestrict on operator+
  if (lua_type(L, key) == LUA_TSTRING) msg.append("'").append(lua_tostring(L, key)).append("' ");
  msg.append("on ").append(label);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (raw_field(L, -1, "parley") == LUA_TTABLE && raw_field(L, -1, "no_method") == LUA_TFUNCTION) {
    lua_pushstring(L, label);
    lua_pushvalue(L, key);
    lua_newtable(L);
    int names = lua_gettop(L);
    lua_Integer n = 0;
    lua_pushnil(L);
    while (lua_next(L, methods) != 0) {
      lua_pop(L, 1);
      if (lua_type(L, -1) != LUA_TSTRING) continue;
      lua_pushvalue(L, -1);
      lua_rawseti(L, names, ++n);
    }
    lua_newtable(L);
    for (n = 0; fields != nullptr && fields[n] != nullptr; ++n) {
      lua_pushstring(L, fields[n]);
      lua_rawseti(L, -2, n + 1);
    }
    if (lua_pcall(L, 4, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
      msg = lua_tostring(L, -1);
    }
  }
  lua_settop(L, top);
  raise(L, kScriptError, "script", msg);
}

void raise_text(lua_State* L, const char* fmt, ...) {
  luaL_where(L, 1);
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 2);
  throw Raised{};
}

namespace {
// The name under which package.loaded holds the running function ("sleep", "string.rep"), for
// messages about a function called without a name (through pcall, say).    [-0, +0, m]
// The string key under which the table at `t` holds the value at `fn`, or "".  [-0, +0, m]
std::string key_of(lua_State* L, int t, int fn) {
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, fn)) {
      std::string key = lua_tostring(L, -2);
      lua_pop(L, 2);
      return key;
    }
    lua_pop(L, 1);
  }
  return {};
}

std::string loaded_name(lua_State* L, lua_Debug* ar) {
  lua_getinfo(L, "f", ar);
  int fn = lua_gettop(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  int loaded = fn + 1;
  std::string found;
  // A global first ("sleep", not "parley.sleep"), then the other modules.
  if (raw_field(L, loaded, LUA_GNAME) == LUA_TTABLE) found = key_of(L, loaded + 1, fn);
  lua_settop(L, loaded);
  lua_pushnil(L);
  while (found.empty() && lua_next(L, loaded) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_istable(L, -1)) {
      std::string key = key_of(L, lua_gettop(L), fn);
      if (!key.empty()) found = std::string(lua_tostring(L, -2)) + "." + key;
    }
    lua_pop(L, 1);
  }
  lua_settop(L, fn - 1);
  return found.empty() ? "?" : found;
}
}  // namespace

void arg_error(lua_State* L, int arg, const char* message) {
  lua_Debug ar;
  if (lua_getstack(L, 0, &ar) == 0) raise_text(L, "bad argument #%d (%s)", arg, message);
  lua_getinfo(L, "n", &ar);
  if (ar.namewhat != nullptr && std::strcmp(ar.namewhat, "method") == 0) {
    --arg;  // self is not counted
    if (arg == 0) raise_text(L, "calling '%s' on bad self (%s)", ar.name, message);
  }
  std::string name = ar.name != nullptr ? ar.name : loaded_name(L, &ar);
  raise_text(L, "bad argument #%d to '%s' (%s)", arg, name.c_str(), message);
}

namespace {
[[noreturn]] void type_error(lua_State* L, int arg, const char* expected) {
  const char* got = nullptr;
  if (luaL_getmetafield(L, arg, "__name") == LUA_TSTRING) {
    got = lua_tostring(L, -1);
  } else if (lua_type(L, arg) == LUA_TLIGHTUSERDATA) {
    got = "light userdata";
  } else {
    got = luaL_typename(L, arg);
  }
  arg_error(L, arg, lua_pushfstring(L, "%s expected, got %s", expected, got));
}
}  // namespace

lua_Integer check_integer(lua_State* L, int arg) {
  int ok = 0;
  lua_Integer v = lua_tointegerx(L, arg, &ok);
  if (ok == 0) {
    if (lua_isnumber(L, arg)) arg_error(L, arg, "number has no integer representation");
    type_error(L, arg, "number");
  }
  return v;
}

lua_Number check_number(lua_State* L, int arg) {
  int ok = 0;
  lua_Number v = lua_tonumberx(L, arg, &ok);
  if (ok == 0) type_error(L, arg, "number");
  return v;
}

const char* check_string(lua_State* L, int arg, std::size_t* len) {
  const char* s = lua_tolstring(L, arg, len);
  if (s == nullptr) type_error(L, arg, "string");
  return s;
}

lua_Integer opt_integer(lua_State* L, int arg, lua_Integer def) {
  return lua_isnoneornil(L, arg) ? def : check_integer(L, arg);
}

lua_Number opt_number(lua_State* L, int arg, lua_Number def) {
  return lua_isnoneornil(L, arg) ? def : check_number(L, arg);
}

const char* opt_string(lua_State* L, int arg, const char* def) {
  return lua_isnoneornil(L, arg) ? def : check_string(L, arg);
}

void check_type(lua_State* L, int arg, int type) {
  if (lua_type(L, arg) != type) type_error(L, arg, lua_typename(L, type));
}

namespace {
// The metatables check_udata found last, by name (a binding checks its first argument on
// every call: luaL_testudata looks the name up in the registry, ~300 instructions). An entry
// holds while no Lua state has closed since it was made: a live metatable's address is its
// alone, a closed state's may be reused.
std::atomic<unsigned> g_states_closed{0};
struct MetaSeen {
  const char* name = nullptr;
  const void* table = nullptr;
  unsigned closed = 0;
};
thread_local MetaSeen g_meta_seen[4];
thread_local unsigned g_meta_next = 0;
}  // namespace

void note_state_closing() {
  g_states_closed.fetch_add(1, std::memory_order_relaxed);
}

void* check_udata(lua_State* L, int arg, const char* meta) {
  void* p = lua_touserdata(L, arg);
  if (p != nullptr && lua_getmetatable(L, arg) != 0) {
    const void* table = lua_topointer(L, -1);
    lua_pop(L, 1);
    unsigned closed = g_states_closed.load(std::memory_order_relaxed);
    for (const MetaSeen& seen : g_meta_seen) {
      if (seen.name == meta && seen.table == table && seen.closed == closed) return p;
    }
  }
  p = luaL_testudata(L, arg, meta);
  if (p == nullptr) type_error(L, arg, meta);
  lua_getmetatable(L, arg);
  g_meta_seen[g_meta_next++ % 4] = {meta, lua_topointer(L, -1),
                                    g_states_closed.load(std::memory_order_relaxed)};
  lua_pop(L, 1);
  return p;
}

void check_stack(lua_State* L, int n, const char* what) {
  if (lua_checkstack(L, n) == 0) raise_text(L, "stack overflow (%s)", what);
}

namespace {
thread_local bool g_limit_enforced = false;  // one engine a thread: parley load runs several
}  // namespace

MemoryLimitScope::MemoryLimitScope(bool enforce) : outer_(g_limit_enforced) {
  g_limit_enforced = enforce;
}

MemoryLimitScope::~MemoryLimitScope() {
  g_limit_enforced = outer_;
}

bool MemoryLimitScope::enforced() {
  return g_limit_enforced;
}

int run_binding(lua_State* L, lua_CFunction f) noexcept {
  Engine::collect_near_limit(L);
  MemoryLimitScope unlimited(false);
  try {
    return f(L);
  } catch (const Raised&) {
  } catch (const std::exception& e) {
    push_error(L, kScriptError, "script", e.what());
  } catch (...) {
    push_error(L, kScriptError, "script", "unexpected C++ exception");
  }
  return kRaise;
}

std::string where(lua_State* L) {
  Engine& engine = Engine::of(L);
  lua_Debug ar;
  for (int level = 0; lua_getstack(L, level, &ar) != 0; ++level) {
    if (lua_getinfo(L, "Sl", &ar) == 0 || ar.currentline <= 0) continue;
    if (engine.is_library_source(ar.source)) continue;
    return std::string(ar.short_src) + ":" + std::to_string(ar.currentline);
  }
  return {};
}

std::string_view check_bytes(lua_State* L, int idx) {
  size_t len = 0;
  const char* s = check_string(L, idx, &len);
  return {s, len};
}

int raw_field(lua_State* L, int table, const char* name) {
  table = lua_absindex(L, table);
  lua_pushstring(L, name);
  return lua_rawget(L, table);
}

std::optional<std::string> opt_string_field(lua_State* L, int table, const char* name) {
  std::optional<std::string> out;
  if (raw_field(L, table, name) != LUA_TNIL) {
    std::string_view v = check_bytes(L, -1);
    out = std::string(v);
  }
  lua_pop(L, 1);
  return out;
}

std::optional<double> opt_number_field(lua_State* L, int table, const char* name) {
  std::optional<double> out;
  if (raw_field(L, table, name) != LUA_TNIL) {
    if (!lua_isnumber(L, -1)) raise_text(L, "option %s must be a number", name);
    out = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return out;
}

std::optional<bool> opt_bool_field(lua_State* L, int table, const char* name) {
  std::optional<bool> out;
  if (raw_field(L, table, name) != LUA_TNIL) out = lua_toboolean(L, -1) != 0;
  lua_pop(L, 1);
  return out;
}

}  // namespace parley::script
