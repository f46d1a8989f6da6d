// Loading the embedded Lua files: bytecode first, the source when the bytecode is refused.
#include "script/embedded.hpp"

namespace parley::embedded {

int load(lua_State* L, const File& file, const char* chunk) {
  if (!file.bytecode.empty()) {
    // The header names the Lua version and format that made it: lua_load refuses another.
    if (luaL_loadbufferx(L, file.bytecode.data(), file.bytecode.size(), chunk, "b") == LUA_OK) {
      return LUA_OK;
    }
    lua_pop(L, 1);
  }
  return luaL_loadbufferx(L, file.text.data(), file.text.size(), chunk, "t");
}

}  // namespace parley::embedded
