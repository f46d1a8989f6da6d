// The Lua standard library and examples compiled into the binary (see src/embed/embed_lua.cpp).
#pragma once

#include <lua.hpp>
#include <string_view>
#include <vector>

namespace parley::embedded {

struct File {
  std::string_view name;      ///< module name ("parley.smtp") or "example.quickstart"
  std::string_view text;      ///< the source
  std::string_view bytecode;  ///< compiled at build time by the same Lua; empty when not made
};

/// Loads an embedded file as a chunk named `chunk`: its bytecode, or its source when there is
/// none or this Lua refuses it (another version's format). Returns lua_load's status.
int load(lua_State* L, const File& file, const char* chunk);

const std::vector<File>& files();

}  // namespace parley::embedded
