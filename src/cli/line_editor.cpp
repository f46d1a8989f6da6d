#include "cli/line_editor.hpp"

#include <editline/readline.h>

#include <type_traits>

#ifndef PARLEY_LINKED_LIBEDIT
#include <dlfcn.h>
#endif

namespace parley::cli {

namespace {

// The struct spells the types out (readline.h's names stay out of cmd_shell.cpp): they must be
// the header's.
static_assert(std::is_same_v<decltype(&rl_callback_handler_install),
                             decltype(LineEditor::callback_handler_install)>);
static_assert(std::is_same_v<decltype(&rl_callback_handler_remove),
                             decltype(LineEditor::callback_handler_remove)>);
static_assert(
    std::is_same_v<decltype(&rl_callback_read_char), decltype(LineEditor::callback_read_char)>);
static_assert(std::is_same_v<decltype(&using_history), decltype(LineEditor::using_history)>);
static_assert(std::is_same_v<decltype(&stifle_history), decltype(LineEditor::stifle_history)>);
static_assert(std::is_same_v<decltype(&read_history), decltype(LineEditor::read_history)>);
static_assert(std::is_same_v<decltype(&write_history), decltype(LineEditor::write_history)>);
static_assert(std::is_same_v<decltype(&add_history), decltype(LineEditor::add_history)>);
static_assert(std::is_same_v<decltype(&rl_catch_signals), decltype(LineEditor::catch_signals)>);
static_assert(std::is_same_v<decltype(&rl_instream), decltype(LineEditor::instream)>);
static_assert(std::is_same_v<decltype(&rl_outstream), decltype(LineEditor::outstream)>);

#ifdef PARLEY_LINKED_LIBEDIT

// Linked into the binary (the static build): nothing to load.
struct Loaded {
  LineEditor editor{&rl_callback_handler_install,
                    &rl_callback_handler_remove,
                    &rl_callback_read_char,
                    &using_history,
                    &stifle_history,
                    &read_history,
                    &write_history,
                    &add_history,
                    &rl_catch_signals,
                    &rl_instream,
                    &rl_outstream};
  bool ok = true;
  std::string why;
};

#else

constexpr const char* kLibrary = "libedit.so.2";

struct Loaded {
  LineEditor editor{};
  bool ok = false;
  std::string why;

  Loaded() {
    // Never closed: the shell uses it until the process ends.
    void* lib = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* err = ::dlerror();
      why = std::string(err != nullptr ? err : kLibrary) + " (Debian: apt install libedit2)";
      return;
    }
    ok = get(lib, "rl_callback_handler_install", editor.callback_handler_install) &&
         get(lib, "rl_callback_handler_remove", editor.callback_handler_remove) &&
         get(lib, "rl_callback_read_char", editor.callback_read_char) &&
         get(lib, "using_history", editor.using_history) &&
         get(lib, "stifle_history", editor.stifle_history) &&
         get(lib, "read_history", editor.read_history) &&
         get(lib, "write_history", editor.write_history) &&
         get(lib, "add_history", editor.add_history) &&
         get(lib, "rl_catch_signals", editor.catch_signals) &&
         get(lib, "rl_instream", editor.instream) && get(lib, "rl_outstream", editor.outstream);
  }

  template <typename T>
  bool get(void* lib, const char* name, T& to) {
    void* sym = ::dlsym(lib, name);
    if (sym == nullptr) {
      why = std::string(kLibrary) + " has no " + name;
      return false;
    }
    to = reinterpret_cast<T>(sym);
    return true;
  }
};

#endif

}  // namespace

const LineEditor* line_editor(std::string& why) {
  static const Loaded loaded;
  why = loaded.why;
  return loaded.ok ? &loaded.editor : nullptr;
}

}  // namespace parley::cli
