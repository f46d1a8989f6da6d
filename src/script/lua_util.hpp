// Small helpers shared by the bindings: structured errors, byte arguments, option tables.
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
/// Creates the metatable of error objects (once, at start-up).
void init_metatables(lua_State* L);

/// Builds the error object {kind, exit, message, where} on the stack   [-0, +1, m]
void push_error(lua_State* L, int exit, const char* kind, const std::string& message);
/// Raises it                                                            [-0, +1, t]
[[noreturn]] void raise(lua_State* L, int exit, const char* kind, const std::string& message);
/// Raises the script error for a name (at `key`) that an object has neither as a method (the
/// string keys of the table at `methods`) nor as a field (`fields`, null-terminated): "no
/// method 'sned' on a connection; did you mean 'send'?", then what it has. The message is
/// parley.session's (through parley.no_method, run protected), as for the sessions.  [-0, +1, t]
[[noreturn]] void raise_no_method(lua_State* L, const char* label, int key, int methods,
                                  const char* const* fields);
/// "script.lua:12" for the innermost frame of the script itself (library frames skipped).
std::string where(lua_State* L);

//---------------------------------------------------------------------------------------------
// Errors and yields of the bindings.
//
// Lua is linked as C, so a Lua error or a coroutine yield is a longjmp: it costs about fifty
// instructions (a C++ exception thrown through the Lua VM cost some 30,000, which made the
// yields half of a load test's CPU), but it skips the destructors of every C++ frame it
// crosses. So no binding raises or yields by itself. It throws (raise(), the checks below) or
// returns kSuspend, and protect<F>, which holds no C++ object, calls lua_error or lua_yieldk
// once F has returned. Every C function given to Lua goes through protect<>.

/// Thrown with the error object already on the stack; protect<> raises it.
struct Raised {};
/// Raises the value on top of the stack as the error.                   [-1, +1, t]
[[noreturn]] void raise_top(lua_State* L);
/// luaL_error that throws: "where: message" as a string error.         [-0, +1, t]
[[noreturn]] void raise_text(lua_State* L, const char* fmt, ...);
/// luaL_argerror that throws.                                           [-0, +1, t]
[[noreturn]] void arg_error(lua_State* L, int arg, const char* message);
inline void arg_check(lua_State* L, bool ok, int arg, const char* message) {
  if (!ok) arg_error(L, arg, message);
}
/// The luaL_check*/luaL_opt* family, throwing.                         [-0, +0, t]
lua_Integer check_integer(lua_State* L, int arg);
lua_Number check_number(lua_State* L, int arg);
const char* check_string(lua_State* L, int arg, std::size_t* len = nullptr);
lua_Integer opt_integer(lua_State* L, int arg, lua_Integer def);
lua_Number opt_number(lua_State* L, int arg, lua_Number def);
const char* opt_string(lua_State* L, int arg, const char* def);
void check_type(lua_State* L, int arg, int type);
void* check_udata(lua_State* L, int arg, const char* meta);
/// Called when a Lua state has closed: check_udata forgets the metatables it has seen.
void note_state_closing();
void check_stack(lua_State* L, int n, const char* what);

/// The continuation of a suspended binding: returns the results a completion pushed, or
/// raises its error (no C++ frame is left to skip then).
int resume_k(lua_State* L, int status, lua_KContext base);
/// Returned by a binding that started an operation (after Engine::prepare_wait): protect<>
/// then yields the task. The completion pushes `true, results...` (returned to the script) or
/// `false, error` (raised).
constexpr int kSuspend = -1;
inline int suspend(lua_State*) {
  return kSuspend;
}
constexpr int kRaise = -2;

/// Whether the script's memory limit (--max-memory) applies on this thread now: only while
/// the script's own Lua code runs (Engine::resume sets it around lua_resume, run_binding clears
/// it), which is where memory runs away. An allocation refused inside parley's C++ code (a
/// binding, a completion pushing its results, the engine finishing a task) would raise
/// LUA_ERRMEM there: a longjmp over that code's destructors, or a panic outside any protected
/// call. Restores the previous state when it ends.
class MemoryLimitScope {
 public:
  explicit MemoryLimitScope(bool enforce);
  ~MemoryLimitScope();
  MemoryLimitScope(const MemoryLimitScope&) = delete;
  MemoryLimitScope& operator=(const MemoryLimitScope&) = delete;
  static bool enforced();

 private:
  bool outer_;
};

/// Runs f(L): its result, kSuspend, or kRaise with the error object on the stack (a Raised,
/// or a C++ exception turned into a script error, exit 2). The memory limit is off meanwhile.
int run_binding(lua_State* L, lua_CFunction f) noexcept;

template <lua_CFunction F>
int protect(lua_State* L) {
  int n = run_binding(L, F);
  if (n >= 0) return n;
  if (n == kSuspend) return lua_yieldk(L, 0, lua_gettop(L), resume_k);
  return lua_error(L);
}

/// The bytes of the string (or number) at `idx`.                      [-0, +0, t]
std::string_view check_bytes(lua_State* L, int idx);

/// Pushes table[name] without metamethods (an __index that raises would longjmp over the
/// caller's C++ objects); returns its type.                            [-0, +1, m]
int raw_field(lua_State* L, int table, const char* name);
/// Option-table readers, raw (as raw_field): nil when the field is absent. [-0, +0, t]
std::optional<std::string> opt_string_field(lua_State* L, int table, const char* name);
std::optional<double> opt_number_field(lua_State* L, int table, const char* name);
std::optional<bool> opt_bool_field(lua_State* L, int table, const char* name);

}  // namespace parley::script
