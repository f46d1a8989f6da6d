// The Lua standard library and examples compiled into the binary (see cmake/embed.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace parley::embedded {

struct File {
  std::string_view name;  ///< module name ("parley.smtp") or "example.quickstart"
  std::string_view text;
};

const std::vector<File>& files();

}  // namespace parley::embedded
