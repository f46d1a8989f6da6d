// Reading error objects. A script can raise anything: a table whose __index raises, a userdata
// whose __tostring loops, a string whose metatable was changed. Everything that looks inside
// one runs in lua_pcall with a message handler, as lua.c's msghandler does, so no Lua error
// escapes into C++ (or, with no pcall around, into Lua's panic and abort()).
#pragma once

#include <lua.hpp>
#include <optional>
#include <string>

namespace parley::script {

struct ErrorInfo {
  std::string where;    ///< "script.lua:12", or ""
  std::string message;  ///< the message field, or the object shown as text
  std::string kind;     ///< the kind field ("script", "expect", ...), or ""
  int exit = 2;         ///< the exit field, or a script error
  bool exit_given = false;
  std::optional<long> code;
  std::string text() const { return where.empty() ? message : where + ": " + message; }
};

/// What the error object at `idx` says. `L` must be able to call (the main thread, or a
/// running coroutine; not one that died of the error). Never raises: an object that cannot be
/// read is described as such.                                          [-0, +0, -]
ErrorInfo describe_error(lua_State* L, int idx);

/// parley.describe_error(err) -> text, exit (nil when it has none), kind: for library code (parley
/// test) that must classify an error whatever the script made of it.
int l_describe_error(lua_State* L);

/// The last line of defence (lua_atpanic): a Lua error with no protected call around it ends
/// the run with exit 2 and a message, not abort() (exit 134).
int on_panic(lua_State* L);

}  // namespace parley::script
