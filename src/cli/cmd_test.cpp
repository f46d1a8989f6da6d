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

void parse_shard(const std::string& value, TestFlags& f) {
  auto slash = value.find('/');
  if (slash == std::string::npos) throw UsageError("--shard wants I/N, e.g. 1/4");
  f.shard = parse_count("--shard", value.substr(0, slash));
  f.shards = parse_count("--shard", value.substr(slash + 1));
  if (f.shard > f.shards) throw UsageError("--shard I/N wants I between 1 and N");
}

// Files given, and *.lua below folders given, sorted so that shards split the same way.
std::vector<std::string> expand(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(p, ec)) {
        if (e.is_regular_file() && e.path().extension() == ".lua")
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

int test(const std::vector<std::string>& args) {
  TestFlags f;
  Common c = parse_common(args, [&f](const std::string& flag, const auto& value) {
    if (flag == "--tap") {
      f.format = "tap";
    } else if (flag == "--json") {
      f.format = "json";
    } else if (flag == "--junit") {
      f.junit = value();
    } else if (flag == "--filter") {
      f.filter = value();
    } else if (flag == "-j" || flag == "--jobs") {
      f.jobs = parse_count(flag, value());
    } else if (flag.rfind("-j", 0) == 0 && flag.size() > 2) {
      f.jobs = parse_count("-j", flag.substr(2));
    } else if (flag == "--fail-fast") {
      f.fail_fast = true;
    } else if (flag == "--shard") {
      parse_shard(value(), f);
    } else {
      return false;
    }
    return true;
  });
  std::vector<std::string> paths;
  take_args(c, 0, &paths);
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
  std::FILE* file = setup_transcript(c);
  int status;
  {
    script::Engine engine(c.options);
    engine.enable_capture();
    lua_State* L = engine.lua();
    push_config(L, f, files, c.options.timeout);
    lua_setglobal(L, "PARLEY_TEST_CONFIG");
    status = engine.run_chunk("=parley test",
                              "local cfg = PARLEY_TEST_CONFIG\n"
                              "PARLEY_TEST_CONFIG = nil\n"
                              "require('parley.testrun').main(cfg)\n");
  }
  if (file != nullptr) std::fclose(file);
  return status;
}

RegisterCommand test_command{
    "test",
    "test [OPTIONS] [PATH ...] [NAME=VALUE ...]  run test files: --tap, --junit FILE, --json,\n"
    "                                                -j N, --filter PAT, --fail-fast, --shard I/N",
    test};

}  // namespace

}  // namespace parley::cli
