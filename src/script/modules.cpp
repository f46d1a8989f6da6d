// Finding Lua modules: the -I directories first (so a module can be overridden from disk),
// then the copies compiled into the binary.
#include <sys/stat.h>

#include <string_view>

#include "script/embedded.hpp"
#include "script/engine.hpp"
#include "script/lua_util.hpp"

namespace parley::script {

namespace {

bool is_file(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// package.searchers entry: returns a loader and its origin, or a message why not found.
int search(lua_State* L) {
  std::string name = check_string(L, 1);
  Engine& engine = Engine::of(L);
  std::string rel = name;
  for (auto& c : rel) {
    if (c == '.') c = '/';
  }
  for (const auto& dir : engine.options().include_dirs) {
    for (const std::string& path : {dir + "/" + rel + ".lua", dir + "/" + rel + "/init.lua"}) {
      if (!is_file(path)) continue;
      if (luaL_loadfile(L, path.c_str()) != LUA_OK) raise_top(L);
      if (name.rfind("parley", 0) == 0) engine.add_library_source("@" + path);
      lua_pushstring(L, path.c_str());
      return 2;
    }
  }
  for (const auto& file : embedded::files()) {
    if (file.name != name) continue;
    std::string chunk = "=" + rel + ".lua";
    if (embedded::load(L, file, chunk.c_str()) != LUA_OK) raise_top(L);
    engine.add_library_source(chunk);
    lua_pushstring(L, chunk.c_str() + 1);
    return 2;
  }
  lua_pushfstring(L, "no embedded module '%s'", name.c_str());
  return 1;
}

// package's __index: package.parley_modules, made on first use and kept in package.
int package_index(lua_State* L) {
  std::string_view key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
  if (key != "parley_modules") return 0;
  lua_newtable(L);
  lua_Integer i = 0;
  for (const auto& file : embedded::files()) {
    if (file.name.rfind("parley", 0) != 0) continue;
    lua_pushlstring(L, file.name.data(), file.name.size());
    lua_rawseti(L, -2, ++i);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, 1, "parley_modules");  // package has it from now on: no __index again
  return 1;
}

}  // namespace

void install_searcher(lua_State* L) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchers");
  // Shift entries 2.. up by one and put ours second, after package.preload.
  auto n = static_cast<lua_Integer>(lua_rawlen(L, -1));
  for (lua_Integer i = n; i >= 2; --i) {
    lua_rawgeti(L, -1, i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushcfunction(L, protect<search>);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 1);
  // package.parley_modules: the names of the modules compiled in, for "module not found".
  // Made when first read (a metatable on package), not at every start.
  lua_newtable(L);
  lua_pushcfunction(L, protect<package_index>);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
}

}  // namespace parley::script
