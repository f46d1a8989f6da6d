// The core globals that are not about connections: spawn/join, sleep, fail, secret, args,
// clock, and the helpers the Lua standard library uses (parley.raise, parley.where, ...).
#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <cstring>

#include "script/engine.hpp"
#include "script/errors.hpp"
#include "script/lua_util.hpp"

namespace parley::script {

namespace {

const char* kTaskMeta = "parley.task";
// The registry key of the methods table of tasks (also parley.task_methods, so that the
// editor definitions test can list them).
const char kTaskMethodsKey = 'T';

// sleep(seconds)
int l_sleep(lua_State* L) {
  double seconds = check_number(L, 1);
  if (!(seconds >= 0) || seconds > 1e9) arg_error(L, 1, "a number of seconds from 0 up");
  Engine& engine = Engine::of(L);
  int task = engine.prepare_wait(L);
  auto timer = std::make_shared<boost::asio::steady_timer>(engine.io());
  timer->expires_at(deadline_after(seconds));
  int canceller = engine.add_canceller([timer] { timer->cancel(); });
  timer->async_wait([&engine, task, timer, canceller](const boost::system::error_code&) {
    engine.remove_canceller(canceller);
    engine.wake(task, [](lua_State* co) {
      lua_pushboolean(co, 1);
      return 1;
    });
  });
  return suspend(L);
}

// spawn(fn, ...) -> task handle
int l_spawn(lua_State* L) {
  check_type(L, 1, LUA_TFUNCTION);
  int nargs = lua_gettop(L) - 1;
  Engine& engine = Engine::of(L);
  lua_pushvalue(L, 1);
  for (int i = 2; i <= nargs + 1; ++i) lua_pushvalue(L, i);
  Task* t = engine.spawn(L, nargs);
  auto* id = static_cast<int*>(lua_newuserdatauv(L, sizeof(int), 0));
  *id = t->id;
  luaL_setmetatable(L, kTaskMeta);
  return 1;
}

Task* check_task(lua_State* L) {
  int id = *static_cast<int*>(check_udata(L, 1, kTaskMeta));
  Task* t = Engine::of(L).find_task(id);
  if (t == nullptr) raise_text(L, "unknown task %d", id);
  return t;
}

// Pushes `true, results...` or `false, error` for a finished task.
int push_outcome(lua_State* co, Task* t) {
  lua_pushboolean(co, t->failed ? 0 : 1);
  lua_rawgeti(co, LUA_REGISTRYINDEX, t->result_ref);
  if (t->failed) return 2;
  if (!lua_istable(co, -1)) return 2;  // results forgotten: none
  raw_field(co, -1, "n");
  int n = static_cast<int>(lua_tointeger(co, -1));
  lua_pop(co, 1);
  int table = lua_gettop(co);
  if (lua_checkstack(co, n + 2) == 0) {
    // Called by a completion too, where nothing may throw: an error to raise instead.
    lua_settop(co, table - 2);
    lua_pushboolean(co, 0);
    push_error(co, kScriptError, "script",
               "spawned conversation " + std::to_string(t->id) + " returned too many results (" +
                   std::to_string(n) + ")");
    return 2;
  }
  for (int i = 1; i <= n; ++i) lua_rawgeti(co, table, i);
  lua_remove(co, table);
  return n + 1;
}

// task:join([timeout]) -> the function's results, or raises its error
int l_join(lua_State* L) {
  Task* t = check_task(L);
  Engine& engine = Engine::of(L);
  double timeout = opt_number(L, 2, engine.options().timeout);
  t->joined = true;
  if (t == Engine::task_of(L)) raise_text(L, "a conversation cannot join itself");
  if (t->finished) {
    lua_settop(L, 0);
    int n = push_outcome(L, t);
    if (!lua_toboolean(L, 1)) raise_top(L);
    return n - 1;
  }
  int me = engine.prepare_wait(L);
  int id = t->id;
  auto state = std::make_shared<bool>(false);  // woken already
  auto timer = std::make_shared<boost::asio::steady_timer>(engine.io());
  timer->expires_at(deadline_after(timeout));
  int canceller = engine.add_canceller([timer] { timer->cancel(); });
  timer->async_wait([&engine, me, id, state, timeout](const boost::system::error_code& ec) {
    if (ec || *state) return;
    *state = true;
    engine.wake(me, [id, timeout](lua_State* co) {
      lua_pushboolean(co, 0);
      push_error(co, kFailed, "timeout",
                 "spawned conversation " + std::to_string(id) + " did not finish within " +
                     seconds_text(timeout) + " s (pass task:join(seconds) to wait longer)");
      return 2;
    });
  });
  t->on_finish.push_back([&engine, me, id, state, timer, canceller] {
    engine.remove_canceller(canceller);
    timer->cancel();
    if (*state) return;
    *state = true;
    // By id: the joined task may be forgotten before the joiner runs again.
    engine.wake(me, [&engine, id](lua_State* co) {
      Task* done = engine.find_task(id);
      if (done != nullptr) return push_outcome(co, done);
      lua_pushboolean(co, 0);
      push_error(co, kScriptError, "script",
                 "spawned conversation " + std::to_string(id) + " was forgotten");
      return 2;
    });
  });
  return suspend(L);
}

int l_task_done(lua_State* L) {
  lua_pushboolean(L, check_task(L)->finished);
  return 1;
}

// task:cancel([why]): ends it and everything it spawned; joiners get the error.
int l_task_cancel(lua_State* L) {
  Task* t = check_task(L);
  if (t == Engine::task_of(L)) raise_text(L, "a conversation cannot cancel itself (use fail)");
  Engine::of(L).cancel(t, opt_string(L, 2, "cancelled by the script"));
  return 0;
}

// The handle is gone: nobody can join the task any more, so it may be forgotten when done.
int l_task_gc(lua_State* L) {
  int id = *static_cast<int*>(check_udata(L, 1, kTaskMeta));
  Engine::of(L).detach(id);
  return 0;
}

const char* const kTaskFields[] = {"id", nullptr};

// Methods, then task.id; any other name says what a task has.
int l_task_index(lua_State* L) {
  Task* t = check_task(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kTaskMethodsKey);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, -2) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  std::string_view key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
  if (key == "id") {
    lua_pushinteger(L, t->id);
  } else if (key.empty() || key[0] == '_') {
    lua_pushnil(L);
  } else {
    raise_no_method(L, "a task", 2, -1, kTaskFields);
  }
  return 1;
}

// fail(message) raises an expectation failure (exit 1) at the script's line.
int l_fail(lua_State* L) {
  std::string msg = lua_isnoneornil(L, 1) ? "failed" : std::string(check_bytes(L, 1));
  raise(L, kFailed, "failed", msg);
}

// secret(value) -> value itself, a plain string, registered to be masked wherever parley shows
// text (never in what it sends).
int l_secret(lua_State* L) {
  size_t len = 0;
  const char* s = check_string(L, 1, &len);
  register_secret(Engine::of(L), {s, len});
  lua_settop(L, 1);
  return 1;
}

// parley.derived(value): registers an encoding a library computed from a secret (an IMAP
// quoted form, a SASL message); returns the value.
int l_derived(lua_State* L) {
  size_t len = 0;
  const char* s = check_string(L, 1, &len);
  Engine::of(L).transcript().add_derived(std::string(s, len));
  lua_settop(L, 1);
  return 1;
}

// step(name, fn, ...): runs fn(...) as a named step of the conversation and returns its
// results; parley load times it (Engine::step_hooks), elsewhere it just calls fn. In C, with fn
// called where the name was: a conversation waiting inside a step is then as deep in its
// coroutine's stack as one waiting inside a plain function call, where a Lua step (its frame,
// its varargs and their copy) put the wait 7 slots deeper, and a wait from deeper than ~20
// slots doubles the coroutine's stack (+0.7 KB per idle conversation; see parley.core's
// expect). Not a binding through protect<>: it calls the script's function, which may raise
// or wait across it (lua_callk, step_done); its C++ parts run in run_binding or catch all.
int step_begin(lua_State* L) {
  if (lua_type(L, 1) != LUA_TSTRING) {
    raise(L, kScriptError, "script", "step: the first argument is the step's name (a string)");
  }
  if (lua_type(L, 2) != LUA_TFUNCTION) {
    raise(L, kScriptError, "script", "step: the second argument is the function to time");
  }
  StepHooks* hooks = static_cast<Engine*>(lua_touserdata(L, lua_upvalueindex(1)))->step_hooks();
  if (hooks == nullptr) return 0;
  std::size_t len = 0;
  const char* name = lua_tolstring(L, 1, &len);
  return std::max(0, hooks->begin_step({name, len}));  // the token, as run_binding's result
}

int step_done(lua_State* L, int /*status*/, lua_KContext token) {
  if (token > 0) {
    StepHooks* hooks = static_cast<Engine*>(lua_touserdata(L, lua_upvalueindex(1)))->step_hooks();
    bool failed = false;
    try {
      if (hooks != nullptr) hooks->end_step(static_cast<int>(token));
    } catch (...) {
      failed = true;
    }
    if (failed) {
      lua_settop(L, 0);  // room for the error (the results may have filled the frame)
      push_error(L, kScriptError, "script", "step: cannot record the step's time");
      return lua_error(L);
    }
  }
  return lua_gettop(L);
}

int l_step(lua_State* L) {
  int token = run_binding(L, step_begin);
  if (token < 0) return lua_error(L);
  lua_remove(L, 1);
  lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, token, step_done);
  return step_done(L, LUA_OK, token);
}

int l_clock(lua_State* L) {
  lua_pushnumber(L, std::chrono::duration<double>(Clock::now().time_since_epoch()).count());
  return 1;
}

// parley.raise(exit, kind, message): for library code, positioned at the script's line.
int l_raise(lua_State* L) {
  int exit = static_cast<int>(check_integer(L, 1));
  const char* kind = check_string(L, 2);
  std::string msg = check_string(L, 3);
  raise(L, exit, kind, msg);
}

int l_where(lua_State* L) {
  lua_pushstring(L, where(L).c_str());
  return 1;
}

// parley.reveal(v): v itself (secrets are plain strings; kept for scripts written before).
int l_reveal(lua_State* L) {
  check_bytes(L, 1);
  lua_settop(L, 1);
  return 1;
}

// parley.is_secret(v): whether the string v is registered (by secret(), args or a library).
int l_is_secret(lua_State* L) {
  size_t len = 0;
  const char* s = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &len) : nullptr;
  lua_pushboolean(L, s != nullptr && Engine::of(L).transcript().is_secret({s, len}));
  return 1;
}

int l_note(lua_State* L) {
  Engine& engine = Engine::of(L);
  engine.transcript().note(static_cast<int>(opt_integer(L, 2, 0)), check_string(L, 1));
  return 0;
}

// parley.mask(text [, client_line]): text with every registered secret shown as ****;
// `client_line`: a client's line, where secrets too short to mask elsewhere are masked too.
int l_mask(lua_State* L) {
  size_t len = 0;
  const char* s = check_string(L, 1, &len);
  std::string masked = Engine::of(L).transcript().mask({s, len}, lua_toboolean(L, 2) != 0);
  lua_pushlstring(L, masked.data(), masked.size());
  return 1;
}

// What a text needs to go on the wire as lines (wire_text, wire_message), in one scan for LF
// and one for CR: its first bare CR (one not right before an LF: an error), the CRs to add
// before bare LFs, the dots to double where a line starts with one.
struct WireScan {
  const char* bare_cr = nullptr;
  std::size_t bare_lf = 0;
  std::size_t dots = 0;
};

WireScan scan_wire(const char* s, const char* end) {
  WireScan w;
  if (s < end && s[0] == '.') ++w.dots;
  const char* cr = static_cast<const char*>(std::memchr(s, '\r', end - s));
  for (const char* p = s; p < end;) {
    const auto* lf = static_cast<const char*>(std::memchr(p, '\n', end - p));
    const char* line_end = lf != nullptr ? lf : end;
    // Every CR must end a line (stand right before its LF).
    while (cr != nullptr && cr < line_end) {
      if (cr + 1 != lf) {
        w.bare_cr = cr;
        return w;
      }
      cr = static_cast<const char*>(std::memchr(cr + 1, '\r', end - cr - 1));
    }
    if (lf == nullptr) break;
    if (lf == s || lf[-1] != '\r') ++w.bare_lf;
    if (lf + 1 < end && lf[1] == '.') ++w.dots;
    p = lf + 1;
  }
  return w;
}

// Writes s..end to `o` with a CR before each bare LF, a dot before a line's first dot when
// `stuff`, and a final CRLF when `final_crlf`; returns the end of what it wrote.
char* write_wire(const char* s, const char* end, bool stuff, bool final_crlf, char* o) {
  bool line_start = true;
  for (const char* p = s; p < end; ++p) {
    if (stuff && line_start && *p == '.') *o++ = '.';
    if (*p == '\n' && (p == s || p[-1] != '\r')) *o++ = '\r';
    *o++ = *p;
    line_start = *p == '\n';
  }
  if (final_crlf) {
    *o++ = '\r';
    *o++ = '\n';
  }
  return o;
}

// nil and the byte of a bare CR (1-based), as wire_text and wire_message return it.
int push_bare_cr(lua_State* L, const char* s, const char* bare_cr) {
  lua_pushnil(L);
  lua_pushinteger(L, static_cast<lua_Integer>(bare_cr - s) + 1);
  return 2;
}

// parley.wire_text(text) -> text with CRLF line ends and a final CRLF | nil, byte of a bare CR.
// memchr over the message rather than a Lua loop per line, which cost a load test with
// parley.smtp 72 calls per message.
int l_wire_text(lua_State* L) {
  size_t len = 0;
  const char* s = check_string(L, 1, &len);
  const char* end = s + len;
  WireScan w = scan_wire(s, end);
  if (w.bare_cr != nullptr) return push_bare_cr(L, s, w.bare_cr);
  bool final_crlf = len > 0 && end[-1] != '\n';
  if (w.bare_lf == 0 && !final_crlf) {
    lua_settop(L, 1);  // already as it goes on the wire: no copy
    return 1;
  }
  std::size_t size = len + w.bare_lf + (final_crlf ? 2 : 0);
  luaL_Buffer b;
  char* out = luaL_buffinitsize(L, &b, size);
  write_wire(s, end, false, final_crlf, out);
  luaL_pushresultsize(&b, size);
  return 1;
}

// parley.wire_message(text) -> what parley.smtp sends after DATA: wire_text's text, dot-stuffed
// (a "." starting a line gets another), and the final ".\r\n" | nil, byte of a bare CR (the
// first, as wire_text says). One scan, where wire_text, the dot-stuffing's find and the
// concatenation of the final dot went over the message three times, with a Lua call and a
// string each (a load test of 1 KB messages: ~2 K instructions each).
int l_wire_message(lua_State* L) {
  size_t len = 0;
  const char* s = check_string(L, 1, &len);
  const char* end = s + len;
  WireScan w = scan_wire(s, end);
  if (w.bare_cr != nullptr) return push_bare_cr(L, s, w.bare_cr);
  bool final_crlf = len > 0 && end[-1] != '\n';
  if (w.bare_lf == 0 && w.dots == 0) {
    // The usual message (CRLF line ends, no line starting with a dot): one copy, by concat.
    lua_settop(L, 1);
    if (final_crlf) {
      lua_pushliteral(L, "\r\n.\r\n");
    } else {
      lua_pushliteral(L, ".\r\n");
    }
    lua_concat(L, 2);
    return 1;
  }
  std::size_t size = len + w.bare_lf + w.dots + (final_crlf ? 2 : 0) + 3;
  luaL_Buffer b;
  char* out = luaL_buffinitsize(L, &b, size);
  std::memcpy(write_wire(s, end, true, final_crlf, out), ".\r\n", 3);
  luaL_pushresultsize(&b, size);
  return 1;
}

// parley.task_id(): the running conversation's id (0 outside one).
int l_task_id(lua_State* L) {
  Task* t = Engine::task_of(L);
  lua_pushinteger(L, t != nullptr ? t->id : 0);
  return 1;
}

// parley.transcript_of(task_id [, max_lines]): what the task's connections said (captured).
int l_transcript_of(lua_State* L) {
  auto lines = Engine::of(L).captured_for(static_cast<int>(check_integer(L, 1)),
                                          static_cast<std::size_t>(opt_integer(L, 2, 40)));
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

int l_transcript_forget(lua_State* L) {
  Engine::of(L).forget_captured(static_cast<int>(check_integer(L, 1)));
  return 0;
}

// parley.set_exit(status): the exit status of the run, whatever the main script's outcome.
int l_set_exit(lua_State* L) {
  Engine::of(L).set_exit(static_cast<int>(check_integer(L, 1)));
  return 0;
}

int l_warn(lua_State* L) {
  Engine::of(L).transcript().warn(check_string(L, 1));
  return 0;
}

bool secret_name(std::string name) {
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* word : {"pass", "secret", "token", "key"}) {
    if (name.find(word) != std::string::npos) return true;
  }
  return false;
}

void push_args(lua_State* L, Engine& engine) {
  lua_newtable(L);
  for (const auto& [name, value] : engine.options().args) {
    if (secret_name(name)) register_secret(engine, value);
    lua_pushlstring(L, value.data(), value.size());
    lua_setfield(L, -2, name.c_str());
  }
}

void push_options(lua_State* L, Engine& engine) {
  const EngineOptions& o = engine.options();
  lua_createtable(L, 0, 4);
  lua_pushnumber(L, o.timeout);
  lua_setfield(L, -2, "timeout");
  lua_pushboolean(L, o.strict);
  lua_setfield(L, -2, "strict");
  lua_pushboolean(L, o.verbose);
  lua_setfield(L, -2, "verbose");
  lua_pushboolean(L, o.quiet);
  lua_setfield(L, -2, "quiet");
}

}  // namespace

void open_core(lua_State* L) {
  Engine& engine = Engine::of(L);
  luaL_newmetatable(L, kTaskMeta);
  lua_pushcfunction(L, protect<l_task_index>);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, protect<l_task_gc>);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  const luaL_Reg task_methods[] = {{"join", protect<l_join>},
                                   {"done", protect<l_task_done>},
                                   {"cancel", protect<l_task_cancel>},
                                   {nullptr, nullptr}};
  lua_newtable(L);
  luaL_setfuncs(L, task_methods, 0);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kTaskMethodsKey);

  const luaL_Reg globals[] = {{"sleep", protect<l_sleep>},
                              {"spawn", protect<l_spawn>},
                              {"fail", protect<l_fail>},
                              {"secret", protect<l_secret>},
                              {nullptr, nullptr}};
  // clock: not through protect<>, whose checks cost more than the call (parley.core reads the
  // clock for every reply it waits for); it cannot raise, nor allocate.
  const luaL_Reg internals[] = {{"clock", l_clock},
                                {"raise", protect<l_raise>},
                                {"where", protect<l_where>},
                                {"reveal", protect<l_reveal>},
                                {"is_secret", protect<l_is_secret>},
                                {"derived", protect<l_derived>},
                                {"note", protect<l_note>},
                                {"warn", protect<l_warn>},
                                {"mask", protect<l_mask>},
                                {"wire_text", protect<l_wire_text>},
                                {"wire_message", protect<l_wire_message>},
                                {"task_id", protect<l_task_id>},
                                {"transcript_of", protect<l_transcript_of>},
                                {"transcript_forget", protect<l_transcript_forget>},
                                {"set_exit", protect<l_set_exit>},
                                {"describe_error", protect<l_describe_error>},
                                {nullptr, nullptr}};
  // package.loaded.parley: the globals plus library helpers.
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_newtable(L);
  luaL_setfuncs(L, globals, 0);
  luaL_setfuncs(L, internals, 0);
  push_args(L, engine);
  lua_setfield(L, -2, "args");
  push_options(L, engine);
  lua_setfield(L, -2, "options");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kTaskMethodsKey);
  lua_setfield(L, -2, "task_methods");
  lua_pushlightuserdata(L, &engine);
  lua_pushcclosure(L, l_step, 1);
  lua_setfield(L, -2, "step");
  for (const luaL_Reg* r = globals; r->name != nullptr; ++r) {
    lua_getfield(L, -1, r->name);
    lua_setglobal(L, r->name);
  }
  lua_getfield(L, -1, "step");
  lua_setglobal(L, "step");
  lua_getfield(L, -1, "args");
  lua_setglobal(L, "args");
  lua_setfield(L, -2, "parley");
  lua_pop(L, 1);
}

}  // namespace parley::script
