// Small helpers shared by the bindings: structured errors, byte arguments (strings or secrets),
// option tables.
#pragma once

#include <chrono>
#include <exception>
#include <lua.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace parley::script {

/// The deadline `seconds` from now; a huge or infinite value means none.
std::chrono::steady_clock::time_point deadline_after(double seconds);
/// Seconds for messages: "0.5", "30".
std::string seconds_text(double seconds);
/// Creates the metatables of secrets and error objects (once, at start-up).
void init_metatables(lua_State* L);

/// Builds the error object {kind, exit, message, where} on the stack   [-0, +1, m]
void push_error(lua_State* L, int exit, const char* kind, const std::string& message);
/// Raises it                                                            [-0, +0, v]
[[noreturn]] void raise(lua_State* L, int exit, const char* kind, const std::string& message);
/// "script.lua:12" for the innermost frame of the script itself (library frames skipped).
std::string where(lua_State* L);

/// A string or a secret at `idx`; `secret` tells which.                [-0, +0, v]
std::string_view check_bytes(lua_State* L, int idx, bool* secret = nullptr);
bool is_secret(lua_State* L, int idx);
/// Pushes a new secret holding `value` and registers it for masking.   [-0, +1, m]
void push_secret(lua_State* L, std::string_view value);

/// The continuation of suspend(): returns the results a completion pushed, or raises its error.
int resume_k(lua_State* L, int status, lua_KContext base);
/// Yields the running task (after Engine::prepare_wait and starting the operation). The
/// completion pushes `true, results...` (returned to the script) or `false, error` (raised).
/// Inline: a yield unwinds the C++ stack like an exception, and each frame on the way costs.
inline int suspend(lua_State* L) {
  return lua_yieldk(L, 0, lua_gettop(L), resume_k);
}

/// Option-table readers: nil when the field is absent.                  [-0, +0, v]
std::optional<std::string> opt_string_field(lua_State* L, int table, const char* name);
std::optional<double> opt_number_field(lua_State* L, int table, const char* name);
std::optional<bool> opt_bool_field(lua_State* L, int table, const char* name);

/// Calls f(L), turning a C++ exception into a Lua error (script error, exit 2) so that no
/// exception crosses into Lua. Lua's own errors and yields pass through untouched.
/// (Nothing with a destructor lives across F: a yield inside F unwinds through here, and a
/// cleanup on the way would make every yield stop and resume the unwinding.)
template <int (*F)(lua_State*)>
int protect(lua_State* L) {
  try {
    return F(L);
  } catch (const std::exception& e) {
    raise(L, 2, "script", e.what());
  }
}

}  // namespace parley::script
