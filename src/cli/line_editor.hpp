// parley shell's line editing and history: what it uses of libedit's readline-compatible
// interface, and where that comes from. The default (shared) build does not link libedit: every
// other command would pay for relocating it and its libraries (libtinfo, libbsd, libmd) at each
// start, ~0.53 M instructions, a tenth of an empty script's. It is loaded (dlopen of
// libedit.so.2) when a shell on a terminal first asks for it. The static build
// (PARLEY_STATIC_DEPS) links it into the binary instead.
#pragma once

#include <cstdio>
#include <string>

namespace parley::cli {

/// The calls and variables of readline's interface that `parley shell` uses, by their readline
/// names without the `rl_` prefix.
struct LineEditor {
  using LineHandler = void(char*);
  void (*callback_handler_install)(const char* prompt, LineHandler* handler);
  void (*callback_handler_remove)();
  void (*callback_read_char)();
  void (*using_history)();
  void (*stifle_history)(int max);
  int (*read_history)(const char* path);
  int (*write_history)(const char* path);
  int (*add_history)(const char* line);
  int* catch_signals;
  std::FILE** instream;
  std::FILE** outstream;
};

/// The line editor, loaded on the first call: nullptr when it cannot be (libedit2 is not
/// installed), with what is missing in `why`. Later calls return the same.
const LineEditor* line_editor(std::string& why);

}  // namespace parley::cli
