#include "cli/run_transcript.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

namespace parley::cli {

int run_script_or_transcript(script::Engine& engine, const std::string& path,
                             const TranscriptFlags& flags) {
  lua_State* L = engine.lua();
  int status = luaL_loadfilex(L, path.c_str(), "t");
  if (status != LUA_ERRSYNTAX) {
    // A Lua script, or a file that cannot be read: run_file says so.
    lua_pop(L, 1);
    return engine.run_file(path);
  }
  // Not Lua: the transcript module decides whether it is a transcript (and says why not).
  lua_createtable(L, 0, 4);
  lua_insert(L, -2);
  lua_setfield(L, -2, "lua_error");
  lua_pushlstring(L, path.data(), path.size());
  lua_setfield(L, -2, "path");
  lua_pushboolean(L, flags.exact);
  lua_setfield(L, -2, "exact");
  lua_pushboolean(L, flags.ask_password);
  lua_setfield(L, -2, "ask_password");
  lua_setglobal(L, "PARLEY_TRANSCRIPT_RUN");
  return engine.run_chunk("=" + path,
                          "local cfg = PARLEY_TRANSCRIPT_RUN\n"
                          "PARLEY_TRANSCRIPT_RUN = nil\n"
                          "require('parley.transcript').main(cfg)\n");
}

std::string ask_password(const std::string& prompt) {
  int fd = open("/dev/tty", O_RDWR | O_NOCTTY);
  bool tty = fd >= 0;
  if (!tty) fd = STDIN_FILENO;
  termios saved{};
  bool echo_off = tty && tcgetattr(fd, &saved) == 0;
  if (echo_off) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  if (tty) {
    ssize_t ignored = write(fd, prompt.data(), prompt.size());
    (void)ignored;
  }
  std::string out;
  char ch = 0;
  while (read(fd, &ch, 1) == 1 && ch != '\n') {
    if (ch != '\r') out += ch;
    if (out.size() > 4096) break;
  }
  if (echo_off) {
    tcsetattr(fd, TCSAFLUSH, &saved);
    ssize_t ignored = write(fd, "\n", 1);
    (void)ignored;
  }
  if (tty) close(fd);
  if (out.empty()) throw std::runtime_error("--ask-password: no password given");
  return out;
}

}  // namespace parley::cli
