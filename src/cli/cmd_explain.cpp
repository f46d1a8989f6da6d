// parley explain CODE: what a reply code means, from lua/parley/codes.lua.
#include "cli/cli.hpp"

namespace parley::cli {

namespace {

int explain(const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("explain: what code? (e.g. parley explain 5.7.1)");
  std::string query;
  for (const auto& a : args) query += (query.empty() ? "" : " ") + a;
  script::EngineOptions options;
  options.transcript.enabled = false;
  script::Engine engine(options);
  lua_State* L = engine.lua();
  lua_getglobal(L, "require");
  lua_pushliteral(L, "parley.codes");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    std::fprintf(stderr, "parley: %s\n", lua_tostring(L, -1));
    return 2;
  }
  lua_getfield(L, -1, "explain");
  lua_pushstring(L, query.c_str());
  if (lua_pcall(L, 1, 2, 0) != LUA_OK) {
    std::fprintf(stderr, "parley: %s\n", lua_tostring(L, -1));
    return 2;
  }
  if (lua_isnil(L, -2)) {
    const char* why = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "unknown code";
    std::fprintf(stderr, "parley: %s\n", why);
    return 2;
  }
  std::printf("%s\n", lua_tostring(L, -2));
  return 0;
}

Runner define(CLI::App& app) {
  auto words = std::make_shared<std::vector<std::string>>();
  app.add_option("CODE", *words, "250, 5.7.1 or \"550 5.1.1\" (one argument or several)");
  return [words] { return explain(*words); };
}

RegisterCommand explain_command{"explain", "what a reply code means, per RFC: parley explain CODE",
                                define};

}  // namespace

}  // namespace parley::cli
