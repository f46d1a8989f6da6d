#include "cli/run_transcript.hpp"

#include "cli/cli.hpp"

namespace parley::cli {

int run_script_or_transcript(script::Engine& engine, const std::string& path,
                             const TranscriptFlags& flags) {
  lua_State* L = engine.lua();
  int status = luaL_loadfilex(L, path.c_str(), "t");
  if (status != LUA_ERRSYNTAX) {
    // A Lua script, or a file that cannot be read: run_file says so.
    lua_pop(L, 1);
    return engine.run_file(path);
  }
  // Not Lua: the transcript module decides whether it is a transcript (and says why not).
  lua_createtable(L, 0, 4);
  lua_insert(L, -2);
  lua_setfield(L, -2, "lua_error");
  lua_pushlstring(L, path.data(), path.size());
  lua_setfield(L, -2, "path");
  lua_pushboolean(L, flags.exact);
  lua_setfield(L, -2, "exact");
  lua_pushboolean(L, flags.ask_password);
  lua_setfield(L, -2, "ask_password");
  return run_module_main(engine, "=" + path, "parley.transcript");
}

}  // namespace parley::cli
