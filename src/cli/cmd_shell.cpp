// parley shell HOST [PORT]: the telnet session, done right. The conversation itself is Lua
// (lua/parley/shell.lua); this file gives it the terminal as the module `parley.term`:
// reading a line (libedit, with history) or a password (no echo) without blocking the engine's
// io_context, and Ctrl-C. libedit's callback interface is driven by an Asio descriptor on stdin;
// when stdin is not a terminal a reader thread posts its lines instead (no prompts). libedit is
// loaded only here (cli/line_editor.hpp); a terminal without it still gets prompts and
// passwords without echo, and the terminal's own line editing instead of libedit's.
#include <termios.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "cli/cli.hpp"
#include "cli/line_editor.hpp"
#include "script/lua_util.hpp"

namespace parley::cli {

namespace {

using script::Engine;

// The history file: $PARLEY_HISTORY, else ~/.parley_history.
std::string history_path() {
  if (const char* p = std::getenv("PARLEY_HISTORY"); p != nullptr && *p != 0) return p;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != 0) {
    return std::string(home) + "/.parley_history";
  }
  return {};
}

class Terminal {
 public:
  explicit Terminal(Engine& engine) : engine_(engine), in_(engine.io()), signals_(engine.io()) {
    // A terminal on stdin is typed at: prompts, editing, and passwords without echo. The
    // prompts go to stderr with the transcript (stdout may be piped away).
    interactive_ = isatty(STDIN_FILENO) != 0;
    if (interactive_) {
      in_.assign(::dup(STDIN_FILENO));
      std::string why;
      ed_ = line_editor(why);
      if (ed_ != nullptr) {
        *ed_->catch_signals = 0;
        *ed_->instream = stdin;
        *ed_->outstream = stderr;
        ed_->using_history();
        ed_->stifle_history(1000);
        history_ = history_path();
        if (!history_.empty()) ed_->read_history(history_.c_str());
      } else {
        std::fprintf(stderr, "parley shell: no line editing nor history: %s\n", why.c_str());
      }
      signals_.add(SIGINT);
      arm_signals();
    }
    // When the session ends, nothing of ours may keep the io_context running.
    engine.add_canceller(
        [this] {
          boost::system::error_code ignored;
          work_.reset();
          signals_.cancel(ignored);
          in_.cancel(ignored);
          if (line_pending_) {
            ed_->callback_handler_remove();
            line_pending_ = false;
          }
        },
        0);
  }
  ~Terminal() {
    if (line_pending_) ed_->callback_handler_remove();
    if (echo_off_) restore_echo();
    {
      std::lock_guard<std::mutex> lock(link_->mutex);
      link_->alive = false;  // the reader thread posts nothing more
    }
    if (reader_.joinable()) reader_.detach();  // may sit in a read(); the process ends anyway
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  bool interactive() const { return interactive_; }

  // term.readline(prompt) / term.password(prompt): the line, or nil and "eof" | "interrupt".
  int read(lua_State* L, bool password) {
    std::string prompt = script::opt_string(L, 1, "");
    if (waiter_ != 0) script::raise_text(L, "the terminal is being read already");
    waiter_ = engine_.prepare_wait(L);
    if (!interactive_) {
      // The reader thread's lines come by post(): until one does, the loop must not run dry.
      work_.emplace(engine_.io().get_executor());
      start_reader();
      deliver_piped();
    } else if (password) {
      start_password(prompt);
    } else if (ed_ != nullptr) {
      start_line(prompt);
    } else {
      start_plain(prompt);
    }
    return script::suspend(L);
  }

  // term.interrupted(): whether Ctrl-C was pressed since the last call.
  bool take_interrupt() {
    bool was = interrupted_;
    interrupted_ = false;
    return was;
  }

  void add_history_line(const std::string& line) {
    if (ed_ == nullptr || line.empty()) return;
    ed_->add_history(line.c_str());
    // The whole (stifled) history, at once: nothing is lost when the session ends badly.
    // Passwords never reach it: they are read by `password`, not by readline.
    if (!history_.empty()) ed_->write_history(history_.c_str());
  }

 private:
  static Terminal* current_;

  void finish(std::optional<std::string> line, const char* why) {
    int task = waiter_;
    waiter_ = 0;
    work_.reset();
    if (task == 0) return;
    engine_.wake(task, [line = std::move(line), why](lua_State* co) {
      lua_pushboolean(co, 1);
      if (line) {
        lua_pushlstring(co, line->data(), line->size());
        return 2;
      }
      lua_pushnil(co);
      lua_pushstring(co, why);
      return 3;
    });
  }

  // --- interactive line: libedit's callback interface -----------------------------------
  static void on_line(char* text) {
    Terminal* self = current_;
    self->ed_->callback_handler_remove();
    self->line_pending_ = false;
    std::optional<std::string> line;
    if (text != nullptr) line = std::string(text);
    std::free(text);
    self->finish(std::move(line), "eof");
  }

  void start_line(const std::string& prompt) {
    current_ = this;
    prompt_ = prompt;
    line_pending_ = true;
    ed_->callback_handler_install(prompt_.c_str(), &Terminal::on_line);
    wait_input();
  }

  void wait_input() {
    in_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                   [this](const boost::system::error_code& ec) {
                     if (ec) return;
                     if (line_pending_) {
                       ed_->callback_read_char();
                       if (line_pending_) wait_input();
                     } else if (echo_off_ || plain_pending_) {
                       read_typed_bytes();
                     }
                   });
  }

  // --- interactive line without libedit: the terminal's own editing, no history ------------
  void start_plain(const std::string& prompt) {
    prompt_ = prompt;
    plain_pending_ = true;
    typed_.clear();
    std::fputs(prompt_.c_str(), stderr);
    std::fflush(stderr);
    wait_input();
  }

  // --- interactive password: echo off, bytes up to the line end -----------------------------
  void start_password(const std::string& prompt) {
    termios t{};
    if (tcgetattr(STDIN_FILENO, &t) == 0) {
      saved_ = t;
      t.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      t.c_lflag |= ECHONL | ICANON;
      tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
      echo_off_ = true;
    }
    typed_.clear();
    std::fputs(prompt.c_str(), stderr);
    std::fflush(stderr);
    wait_input();
  }

  void restore_echo() {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
    echo_off_ = false;
  }

  // A password, or a line without libedit: bytes up to the line end.
  void read_typed_bytes() {
    char buf[256];
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      wait_input();
      return;
    }
    bool ended = n <= 0;
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == '\n' || buf[i] == '\r') {
        ended = true;
        break;
      }
      if (typed_.size() < 4096) typed_.push_back(buf[i]);
    }
    if (!ended) {
      wait_input();
      return;
    }
    if (echo_off_) restore_echo();
    plain_pending_ = false;
    std::optional<std::string> typed;
    if (n > 0 || !typed_.empty()) typed = std::move(typed_);
    typed_.clear();
    finish(std::move(typed), "eof");
  }

  // --- Ctrl-C ---------------------------------------------------------------------------------
  void arm_signals() {
    signals_.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      interrupted_ = true;
      if (line_pending_) {
        // A fresh, empty line: the session goes on.
        ed_->callback_handler_remove();
        std::fputs("^C\n", stderr);
        std::fflush(stderr);
        ed_->callback_handler_install(prompt_.c_str(), &Terminal::on_line);
      } else if (plain_pending_) {
        // The same; the terminal has echoed the ^C and dropped what was typed.
        typed_.clear();
        std::fputs("\n", stderr);
        std::fputs(prompt_.c_str(), stderr);
        std::fflush(stderr);
      } else if (echo_off_) {
        restore_echo();
        std::fputs("^C\n", stderr);
        std::fflush(stderr);
        typed_.clear();
        in_.cancel();
        finish(std::nullopt, "interrupt");
      }
      arm_signals();
    });
  }

  // --- piped stdin: a reader thread posts each line ---------------------------------------
  void start_reader() {
    if (reader_started_) return;
    reader_started_ = true;
    auto& io = engine_.io();
    reader_ = std::thread([this, &io, link = link_] {
      auto post = [&](std::optional<std::string> line) {
        std::lock_guard<std::mutex> lock(link->mutex);
        if (!link->alive) return false;
        boost::asio::post(io, [this, line = std::move(line)] {
          piped_.push_back(line);
          deliver_piped();
        });
        return true;
      };
      std::string line;
      while (std::getline(std::cin, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (!post(line)) return;
      }
      post(std::nullopt);
    });
  }

  void deliver_piped() {
    if (waiter_ == 0 || piped_.empty()) return;
    auto line = std::move(piped_.front());
    if (line) piped_.pop_front();  // the end stays: every later read sees it too
    finish(std::move(line), "eof");
  }

  Engine& engine_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  boost::asio::posix::stream_descriptor in_;
  boost::asio::signal_set signals_;
  bool interactive_ = false;
  int waiter_ = 0;                  ///< the id of the task waiting for a line (task ids start at 1)
  const LineEditor* ed_ = nullptr;  ///< libedit, when on a terminal and it could be loaded
  bool line_pending_ = false;       ///< a line is being read by libedit
  bool plain_pending_ = false;      ///< a line is being read without it
  bool echo_off_ = false;           ///< a password is being read
  bool interrupted_ = false;
  termios saved_{};
  std::string prompt_;
  std::string typed_;  ///< the password, or the line without libedit, so far
  std::string history_;
  bool reader_started_ = false;
  struct Link {  // between the reader thread and this object, which may end first
    std::mutex mutex;
    bool alive = true;
  };
  std::shared_ptr<Link> link_ = std::make_shared<Link>();
  std::thread reader_;
  std::deque<std::optional<std::string>> piped_;
};

Terminal* Terminal::current_ = nullptr;

const char kTermKey = 'T';

Terminal& term(lua_State* L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kTermKey);
  auto* t = static_cast<Terminal*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  if (t == nullptr) script::raise_text(L, "no terminal here");
  return *t;
}

int l_readline(lua_State* L) {
  return term(L).read(L, false);
}
int l_password(lua_State* L) {
  return term(L).read(L, true);
}
int l_interrupted(lua_State* L) {
  lua_pushboolean(L, term(L).take_interrupt());
  return 1;
}
int l_history(lua_State* L) {
  term(L).add_history_line(std::string(script::check_bytes(L, 1)));
  return 0;
}

int open_term(lua_State* L) {
  const luaL_Reg fns[] = {{"readline", script::protect<l_readline>},
                          {"password", script::protect<l_password>},
                          {"interrupted", script::protect<l_interrupted>},
                          {"add_history", script::protect<l_history>},
                          {nullptr, nullptr}};
  luaL_newlib(L, fns);
  lua_pushboolean(L, term(L).interactive());
  lua_setfield(L, -2, "interactive");
  return 1;
}

struct ShellOptions {
  std::string host, port, proto, ca, sni, unix_path;
  bool tls = false, no_verify = false;
};

int shell(Common& c, const ShellOptions& o) {
  auto& args = c.options.args;
  auto set = [&](const char* name, const std::string& v) {
    if (!v.empty()) args.emplace_back(name, v);
  };
  if (o.host.empty() && o.unix_path.empty()) {
    throw UsageError("shell: which server? (HOST [PORT], or --unix PATH)");
  }
  set("host", o.host);
  set("port", o.port);
  set("proto", o.proto);
  set("ca", o.ca);
  set("sni", o.sni);
  set("unix", o.unix_path);
  if (o.tls) set("tls", "1");
  if (o.no_verify) set("verify", "0");
  std::FILE* file = setup_transcript(c);
  args.emplace_back("color", c.options.transcript.color ? "1" : "0");
  int status;
  {
    script::Engine engine(c.options);
    Terminal terminal(engine);
    lua_State* L = engine.lua();
    lua_pushlightuserdata(L, &terminal);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &kTermKey);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, open_term);
    lua_setfield(L, -2, "parley.term");
    lua_pop(L, 1);
    status = engine.run_chunk("=parley shell", "require('parley.shell').main(args)");
  }
  if (file != nullptr) std::fclose(file);
  return status;
}

Runner define(CLI::App& app) {
  auto c = std::make_shared<Common>();
  auto o = std::make_shared<ShellOptions>();
  add_common(app, *c);
  app.footer(
      "What you type is sent as a line. Lines starting with '.' are commands (.help lists them);\n"
      "to send a line that starts with '.', type one more: '..' sends '.'.\n"
      "The password of .auth is asked without echo (piped: the next input line, or\n"
      "PARLEY_PASSWORD) and never written to the history (PARLEY_HISTORY, default\n"
      "~/.parley_history) nor by .save.\n"
      "exit: 0 the session ended (Ctrl-D, .quit, the server hung up), 2 usage, 3 network or TLS");
  app.add_flag("--tls", o->tls, "implicit TLS (as on 465, 993, 995)");
  app.add_option("--proto", o->proto,
                 "smtp, pop3, imap or line (default from the port: 25/587/465 smtp, 110/995 "
                 "pop3, 143/993 imap, else smtp)")
      ->type_name("P");
  app.add_option("--ca", o->ca, "trust the CAs in FILE")->type_name("FILE");
  app.add_option("--sni", o->sni, "the TLS server name (default HOST)")->type_name("NAME");
  app.add_flag("--no-verify", o->no_verify, "do not check the certificate (still shown)");
  app.add_option("--unix", o->unix_path, "a unix socket instead of HOST and PORT")
      ->type_name("PATH");
  app.add_option("HOST", o->host, "the server")->type_name("");
  app.add_option("PORT", o->port, "its port")->type_name("");
  return [c, o] { return shell(*c, *o); };
}

RegisterCommand shell_command{
    "shell", "an interactive conversation (telnet done right): parley shell HOST [PORT]", define};

}  // namespace

}  // namespace parley::cli
