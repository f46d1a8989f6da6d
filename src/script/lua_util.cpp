#include "script/lua_util.hpp"

#include <cstdio>
#include <new>

#include "script/engine.hpp"

namespace parley::script {

namespace {
const char* kSecretMeta = "parley.secret";
const char* kErrorMeta = "parley.error";

int error_tostring(lua_State* L) {
  lua_getfield(L, 1, "where");
  lua_getfield(L, 1, "message");
  if (lua_isstring(L, -2) && lua_rawlen(L, -2) > 0) {
    lua_pushfstring(L, "%s: %s", lua_tostring(L, -2), luaL_optstring(L, -1, "?"));
  } else {
    lua_pushstring(L, luaL_optstring(L, -1, "?"));
  }
  return 1;
}

std::string& secret_value(lua_State* L, int idx) {
  return *static_cast<std::string*>(luaL_checkudata(L, idx, kSecretMeta));
}

int secret_gc(lua_State* L) {
  using std::string;
  secret_value(L, 1).~string();
  return 0;
}

int secret_tostring(lua_State* L) {
  lua_pushliteral(L, "****");
  return 1;
}

int secret_len(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(secret_value(L, 1).size()));
  return 1;
}

std::string concat_operand(lua_State* L, int idx) {
  if (is_secret(L, idx)) return secret_value(L, idx);
  if (lua_type(L, idx) == LUA_TSTRING || lua_type(L, idx) == LUA_TNUMBER) {
    size_t len = 0;
    const char* s = lua_tolstring(L, idx, &len);
    return std::string(s, len);
  }
  luaL_error(L, "attempt to concatenate a secret with a %s value", luaL_typename(L, idx));
  return {};
}

// A secret joined with anything is a secret: the original value stays registered for masking.
int secret_concat(lua_State* L) {
  std::string joined = concat_operand(L, 1) + concat_operand(L, 2);
  auto* p = static_cast<std::string*>(lua_newuserdatauv(L, sizeof(std::string), 0));
  new (p) std::string(std::move(joined));
  luaL_setmetatable(L, kSecretMeta);
  return 1;
}

int secret_eq(lua_State* L) {
  lua_pushboolean(L,
                  is_secret(L, 1) && is_secret(L, 2) && secret_value(L, 1) == secret_value(L, 2));
  return 1;
}

}  // namespace

void init_metatables(lua_State* L) {
  if (luaL_newmetatable(L, kSecretMeta)) {
    const luaL_Reg methods[] = {{"__gc", secret_gc},   {"__tostring", secret_tostring},
                                {"__len", secret_len}, {"__concat", secret_concat},
                                {"__eq", secret_eq},   {nullptr, nullptr}};
    luaL_setfuncs(L, methods, 0);
    lua_pushliteral(L, "secret");
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
  if (luaL_newmetatable(L, kErrorMeta)) {
    lua_pushcfunction(L, error_tostring);
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
  lua_error(L);
  __builtin_unreachable();
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

bool is_secret(lua_State* L, int idx) {
  return luaL_testudata(L, idx, kSecretMeta) != nullptr;
}

std::string_view check_bytes(lua_State* L, int idx, bool* secret) {
  if (is_secret(L, idx)) {
    if (secret != nullptr) *secret = true;
    return secret_value(L, idx);
  }
  if (secret != nullptr) *secret = false;
  size_t len = 0;
  const char* s = luaL_checklstring(L, idx, &len);
  return {s, len};
}

void push_secret(lua_State* L, std::string_view value) {
  Engine::of(L).transcript().add_secret(std::string(value));
  auto* p = static_cast<std::string*>(lua_newuserdatauv(L, sizeof(std::string), 0));
  new (p) std::string(value);
  luaL_setmetatable(L, kSecretMeta);
}

std::optional<std::string> opt_string_field(lua_State* L, int table, const char* name) {
  std::optional<std::string> out;
  if (lua_getfield(L, table, name) != LUA_TNIL) {
    std::string_view v = check_bytes(L, -1);
    out = std::string(v);
  }
  lua_pop(L, 1);
  return out;
}

std::optional<double> opt_number_field(lua_State* L, int table, const char* name) {
  std::optional<double> out;
  if (lua_getfield(L, table, name) != LUA_TNIL) {
    if (!lua_isnumber(L, -1)) luaL_error(L, "option %s must be a number", name);
    out = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return out;
}

std::optional<bool> opt_bool_field(lua_State* L, int table, const char* name) {
  std::optional<bool> out;
  if (lua_getfield(L, table, name) != LUA_TNIL) out = lua_toboolean(L, -1) != 0;
  lua_pop(L, 1);
  return out;
}

}  // namespace parley::script
