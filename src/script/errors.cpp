#include "script/errors.hpp"

#include <cstdio>
#include <cstdlib>

#include "script/engine.hpp"
#include "script/lua_util.hpp"

namespace parley::script {

namespace {

// Reading an error object may run the script's metamethods: they get this many VM
// instructions, far more than showing an error needs, and an endless one cannot hang the run.
constexpr int kReadBudget = 1000000;

// The field `name` of the table at 1 as a string, or `fallback`.       [-0, +1, e]
void push_text_field(lua_State* L, const char* name, const char* fallback) {
  int type = lua_getfield(L, 1, name);
  if (type == LUA_TSTRING || type == LUA_TNUMBER) {
    lua_tostring(L, -1);  // a number becomes its text, in place
  } else {
    lua_pop(L, 1);
    lua_pushstring(L, fallback);
  }
}

// The field `name` of the table at 1 if it has type `want`, else nil.  [-0, +1, e]
void push_typed_field(lua_State* L, const char* name, bool integer) {
  int type = lua_getfield(L, 1, name);
  bool ok = integer ? lua_isinteger(L, -1) != 0 : type == LUA_TSTRING;
  if (!ok) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
}

// Run by lua_pcall, so it holds no C++ object: the error object at 1 -> where, message, exit,
// kind, code.                                                          [-0, +5, e]
int read_error(lua_State* L) {
  lua_settop(L, 1);
  int type = lua_type(L, 1);
  if (type != LUA_TTABLE) {
    lua_pushliteral(L, "");
    if (type == LUA_TSTRING || type == LUA_TNUMBER) {
      // As it is: a __tostring on the string metatable has no say in an error message.
      lua_pushvalue(L, 1);
      lua_tostring(L, -1);
    } else {
      luaL_tolstring(L, 1, nullptr);
    }
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushnil(L);
    return 5;
  }
  push_text_field(L, "where", "");
  push_text_field(L, "message", "(no message)");
  push_typed_field(L, "exit", true);
  push_typed_field(L, "kind", false);
  push_typed_field(L, "code", true);
  return 5;
}

// The message handler: an error raised while reading is shown without running anything more
// (a table's message field is read raw).
int nested_error(lua_State* L) {
  if (lua_type(L, 1) == LUA_TSTRING) return 1;
  if (lua_type(L, 1) == LUA_TTABLE && raw_field(L, 1, "message") == LUA_TSTRING) return 1;
  lua_pushfstring(L, "a %s was raised", luaL_typename(L, 1));
  return 1;
}

void out_of_budget(lua_State* L, lua_Debug*) {
  luaL_error(L, "it ran more than %d instructions", kReadBudget);
}

std::string string_at(lua_State* L, int idx) {
  std::size_t len = 0;
  const char* s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : nullptr;
  return s != nullptr ? std::string(s, len) : std::string();
}

}  // namespace

ErrorInfo describe_error(lua_State* L, int idx) {
  ErrorInfo info;
  idx = lua_absindex(L, idx);
  if (lua_checkstack(L, 8) == 0) {
    info.message = "(no stack space left to show the error)";
    return info;
  }
  int base = lua_gettop(L);
  lua_pushcfunction(L, nested_error);
  lua_pushcfunction(L, read_error);
  lua_pushvalue(L, idx);
  lua_Hook hook = lua_gethook(L);
  int mask = lua_gethookmask(L);
  int count = lua_gethookcount(L);
  lua_sethook(L, out_of_budget, LUA_MASKCOUNT, kReadBudget);
  int status = lua_pcall(L, 1, 5, base + 1);
  lua_sethook(L, hook, mask, count);
  if (status != LUA_OK) {
    info.message =
        "(an error object that cannot be shown: reading it raised an error: " + string_at(L, -1) +
        ")";
    info.exit_given = true;  // a script error
    lua_settop(L, base);
    return info;
  }
  int r = base + 2;
  info.where = string_at(L, r);
  info.message = string_at(L, r + 1);
  if (lua_isinteger(L, r + 2)) {
    info.exit = static_cast<int>(lua_tointeger(L, r + 2));
    info.exit_given = true;
  }
  info.kind = string_at(L, r + 3);
  if (lua_isinteger(L, r + 4)) info.code = static_cast<long>(lua_tointeger(L, r + 4));
  lua_settop(L, base);
  return info;
}

int l_describe_error(lua_State* L) {
  lua_settop(L, 1);
  ErrorInfo info = describe_error(L, 1);
  std::string text = info.text();
  lua_pushlstring(L, text.data(), text.size());
  if (info.exit_given) {
    lua_pushinteger(L, info.exit);
  } else {
    lua_pushnil(L);
  }
  if (info.kind.empty()) {
    lua_pushnil(L);
  } else {
    lua_pushlstring(L, info.kind.data(), info.kind.size());
  }
  return 3;
}

int on_panic(lua_State* L) {
  std::string what = lua_type(L, -1) == LUA_TSTRING
                         ? Engine::of(L).transcript().mask(string_at(L, -1))
                         : std::string("a ") + luaL_typename(L, -1) + " was raised";
  std::fprintf(stderr,
               "parley: internal error: a Lua error escaped every protected call (%s); "
               "the run stops\n",
               what.c_str());
  std::fflush(nullptr);
  std::_Exit(kScriptError);
}

}  // namespace parley::script
