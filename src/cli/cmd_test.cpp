// parley test [OPTIONS] [PATH ...] [NAME=VALUE ...]: runs a suite of test files with the
// runner in lua/parley/testrun.lua.
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "cli/cli.hpp"

namespace parley::cli {

namespace {

namespace fs = std::filesystem;

struct TestFlags {
  std::string format = "human";
  std::string junit;
  std::string filter;
  long jobs = 1;
  bool fail_fast = false;
  long shard = 0;
  long shards = 1;
};

// Files given, and *.lua and *.transcript below folders given, sorted so that shards split the same
// way.
std::vector<std::string> expand(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(p, ec)) {
        auto ext = e.path().extension();
        if (e.is_regular_file() && (ext == ".lua" || ext == ".transcript"))
          found.push_back(e.path().string());
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(p);
    } else {
      throw UsageError("no such file or folder: " + p);
    }
  }
  return files;
}

void push_config(lua_State* L, const TestFlags& f, const std::vector<std::string>& files,
                 double timeout) {
  lua_createtable(L, 0, 10);
  lua_createtable(L, static_cast<int>(files.size()), 0);
  for (std::size_t i = 0; i < files.size(); ++i) {
    lua_pushstring(L, files[i].c_str());
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  lua_setfield(L, -2, "files");
  lua_pushstring(L, f.format.c_str());
  lua_setfield(L, -2, "format");
  if (!f.junit.empty()) {
    lua_pushstring(L, f.junit.c_str());
    lua_setfield(L, -2, "junit");
  }
  if (!f.filter.empty()) {
    lua_pushstring(L, f.filter.c_str());
    lua_setfield(L, -2, "filter");
  }
  lua_pushinteger(L, f.jobs);
  lua_setfield(L, -2, "jobs");
  lua_pushboolean(L, f.fail_fast);
  lua_setfield(L, -2, "fail_fast");
  lua_pushnumber(L, timeout);
  lua_setfield(L, -2, "timeout");
  lua_pushboolean(L, f.format == "human" && isatty(fileno(stdout)) != 0);
  lua_setfield(L, -2, "progress");
}

int test(Common& c, const TestFlags& f) {
  std::vector<std::string> paths;
  take_args(c, &paths);
  if (paths.empty()) paths.push_back(".");
  std::vector<std::string> files = expand(paths);
  if (f.shards > 1) {
    std::vector<std::string> mine;
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (static_cast<long>(i % static_cast<std::size_t>(f.shards)) == f.shard - 1) {
        mine.push_back(files[i]);
      }
    }
    files = std::move(mine);
  }
  // The transcript is kept for the report; printed only with -v.
  c.options.quiet = !c.options.verbose;
  return run_engine(c, [&](script::Engine& engine) {
    engine.enable_capture();
    push_config(engine.lua(), f, files, c.options.timeout);
    return run_module_main(engine, "=parley test", "parley.testrun");
  });
}

Runner define(CLI::App& app) {
  auto c = std::make_shared<Common>();
  auto f = std::make_shared<TestFlags>();
  add_common(app, *c);
  // --timeout is each case's deadline as well as each wait's.
  app.get_option("--timeout")->description("deadline of each case (and of each wait), in seconds");
  app.add_flag_callback(
      "--tap", [f] { f->format = "tap"; }, "TAP 13 report");
  app.add_flag_callback(
      "--json", [f] { f->format = "json"; },
      "JSON Lines report: one object per case, then a summary object");
  app.add_option("--junit", f->junit,
                 "also write JUnit XML to FILE (failed cases carry their transcript)")
      ->type_name("FILE");
  add_checked(app, "-j,--jobs", "run N files at once (one process: conversations are concurrent)",
              [f](const std::string& v) { f->jobs = parse_count("-j", v); })
      ->type_name("N");
  app.add_option("--filter", f->filter, "only cases whose \"file: name\" matches the Lua pattern")
      ->type_name("PAT");
  app.add_flag("--fail-fast", f->fail_fast, "stop at the first failure");
  add_checked(
      app, "--shard", "run the I-th of N parts of the files (for CI matrices)",
      [f](const std::string& v) { std::tie(f->shard, f->shards) = parse_shard("--shard", v); })
      ->type_name("I/N");
  add_args(app, *c, "PATH|NAME=VALUE",
           "test files and folders (default: .), then script arguments NAME=VALUE");
  return [c, f] { return test(*c, *f); };
}

RegisterCommand test_command{
    "test", "run test files: parley test [OPTIONS] [PATH ...] [NAME=VALUE ...]", define};

}  // namespace

}  // namespace parley::cli
