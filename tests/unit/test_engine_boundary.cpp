// The Lua/C++ boundary and the engine's bookkeeping: the panic handler, error objects that
// cannot be read, cancelled tasks forgotten.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "script/engine.hpp"

using parley::script::Engine;
using parley::script::EngineOptions;

namespace {

EngineOptions quiet_options() {
  EngineOptions o;
  o.transcript.enabled = false;
  o.timeout = 5;
  return o;
}

}  // namespace

TEST_CASE("a Lua error outside any protected call ends the process with exit 2, not abort") {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    Engine engine(quiet_options());
    lua_State* L = engine.lua();
    lua_pushliteral(L, "an error nobody catches");
    lua_error(L);  // no pcall around: the panic handler
    _exit(99);     // not reached
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
}

TEST_CASE("error objects that raise when read end the run with exit 2") {
  Engine engine(quiet_options());
  CHECK(engine.run_chunk("=test", R"(
    error(setmetatable({}, { __index = function() error("x") end }))
  )") == 2);
  Engine again(quiet_options());
  CHECK(again.run_chunk("=test", R"(
    local t = spawn(function()
      error(setmetatable({}, { __index = function() while true do end end }))
    end)
    t:join()
  )") == 2);
}

TEST_CASE("cancelled tasks are forgotten once their handles are gone") {
  Engine engine(quiet_options());
  CHECK(engine.run_chunk("=test", R"(
    for i = 1, 200 do
      local t = spawn(function() sleep(30) end)
      sleep(0)
      t:cancel()
    end
    collectgarbage()
    collectgarbage()
    sleep(0.05)
  )") == 0);
  int kept = 0;
  for (int id = 2; id <= 201; ++id) kept += engine.find_task(id) != nullptr ? 1 : 0;
  CHECK(kept == 0);
}
