// parley's command line: subcommands, flags, and the one place errors become exit statuses.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "script/embedded.hpp"
#include "script/engine.hpp"

namespace {

using parley::script::Engine;
using parley::script::EngineOptions;

const char* kUsage =
    "usage: parley run [OPTIONS] SCRIPT [NAME=VALUE ...]   run a conversation script\n"
    "       parley demo [OPTIONS]                          run the built-in quickstart (offline)\n"
    "       parley explain CODE                            what 250, 5.7.1 or \"550 5.1.1\" means\n"
    "       parley version\n"
    "\n"
    "options:\n"
    "  -v, --verbose        timestamps, server-side connections, tracebacks\n"
    "  -q, --quiet          no transcript (errors and warnings only)\n"
    "  --transcript FILE    write the transcript to FILE instead of stderr\n"
    "  --show-secrets       do not mask secret() values in the transcript\n"
    "  --timeout S          default timeout of every wait, in seconds (30)\n"
    "  -I DIR               look for Lua modules in DIR first\n"
    "  --strict             protocol-grammar violations and unread input are failures\n"
    "  --no-color           no colors (also when NO_COLOR is set)\n"
    "\n"
    "exit: 0 ok, 1 an expectation failed, 2 usage or script error, 3 network or TLS failure\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Command {
  std::string name;
  std::string script;
  std::vector<std::string> rest;
  EngineOptions options;
  std::string transcript_file;
  bool color_off = false;
};

double parse_seconds(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !(v > 0)) {
    throw UsageError("--timeout wants a number of seconds above 0, not \"" + s + "\"");
  }
  return v;
}

// Options come before the script; everything after it is NAME=VALUE.
Command parse(int argc, char** argv) {
  if (argc < 2) throw UsageError("no command given");
  Command cmd;
  cmd.name = argv[1];
  int i = 2;
  auto value = [&](const std::string& flag) -> std::string {
    if (i + 1 >= argc) throw UsageError(flag + " needs a value");
    return argv[++i];
  };
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a.empty() || a[0] != '-' || a == "-") break;
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "-v" || a == "--verbose") {
      cmd.options.verbose = true;
    } else if (a == "-q" || a == "--quiet") {
      cmd.options.quiet = true;
    } else if (a == "--transcript") {
      cmd.transcript_file = value(a);
    } else if (a == "--show-secrets") {
      cmd.options.transcript.show_secrets = true;
    } else if (a == "--timeout") {
      cmd.options.timeout = parse_seconds(value(a));
    } else if (a == "-I") {
      cmd.options.include_dirs.push_back(value(a));
    } else if (a.rfind("-I", 0) == 0) {
      cmd.options.include_dirs.push_back(a.substr(2));
    } else if (a == "--strict") {
      cmd.options.strict = true;
    } else if (a == "--no-color") {
      cmd.color_off = true;
    } else {
      throw UsageError("unknown option " + a);
    }
  }
  for (; i < argc; ++i) cmd.rest.emplace_back(argv[i]);
  return cmd;
}

void take_args(Command& cmd, std::size_t from) {
  for (std::size_t j = from; j < cmd.rest.size(); ++j) {
    const std::string& a = cmd.rest[j];
    std::size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw UsageError("arguments after the script are NAME=VALUE, not \"" + a + "\"");
    }
    cmd.options.args.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
}

FILE* setup_transcript(Command& cmd) {
  auto& t = cmd.options.transcript;
  t.enabled = !cmd.options.quiet;
  t.verbose = cmd.options.verbose;
  FILE* file = nullptr;
  if (!cmd.transcript_file.empty()) {
    file = std::fopen(cmd.transcript_file.c_str(), "w");
    if (file == nullptr) {
      throw UsageError("cannot write the transcript to " + cmd.transcript_file + ": " +
                       std::strerror(errno));
    }
    t.out = file;
    t.enabled = true;
  }
  const char* no_color = std::getenv("NO_COLOR");
  t.color = !cmd.color_off && (no_color == nullptr || *no_color == '\0') && file == nullptr &&
            isatty(fileno(stderr)) != 0;
  return file;
}

std::string_view embedded(std::string_view name) {
  for (const auto& f : parley::embedded::files()) {
    if (f.name == name) return f.text;
  }
  return {};
}

int run(Command& cmd) {
  if (cmd.name == "run") {
    if (cmd.rest.empty()) throw UsageError("run: no script given");
    cmd.script = cmd.rest[0];
  }
  take_args(cmd, cmd.name == "run" ? 1 : 0);
  FILE* file = setup_transcript(cmd);
  int status;
  {
    Engine engine(cmd.options);
    if (cmd.name == "run") {
      std::string dir = cmd.script.find('/') == std::string::npos
                            ? "."
                            : cmd.script.substr(0, cmd.script.rfind('/'));
      engine.prepend_module_dir(dir);
      status = engine.run_file(cmd.script);
    } else {
      status = engine.run_chunk("=quickstart.lua", embedded("example.quickstart"));
    }
  }
  if (file != nullptr) std::fclose(file);
  return status;
}

int explain(Command& cmd) {
  if (cmd.rest.empty()) throw UsageError("explain: what code? (e.g. parley explain 5.7.1)");
  std::string query;
  for (const auto& r : cmd.rest) query += (query.empty() ? "" : " ") + r;
  cmd.options.transcript.enabled = false;
  Engine engine(cmd.options);
  lua_State* L = engine.lua();
  lua_getglobal(L, "require");
  lua_pushliteral(L, "parley.codes");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    std::fprintf(stderr, "parley: %s\n", lua_tostring(L, -1));
    return 2;
  }
  lua_getfield(L, -1, "explain");
  lua_pushstring(L, query.c_str());
  if (lua_pcall(L, 1, 2, 0) != LUA_OK) {
    std::fprintf(stderr, "parley: %s\n", lua_tostring(L, -1));
    return 2;
  }
  if (lua_isnil(L, -2)) {
    std::fprintf(stderr, "parley: %s\n", luaL_optstring(L, -1, "unknown code"));
    return 2;
  }
  std::printf("%s\n", lua_tostring(L, -2));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // a peer that hangs up is an error to report, not a signal to die of
  try {
    Command cmd = parse(argc, argv);
    if (cmd.name == "run" || cmd.name == "demo") return run(cmd);
    if (cmd.name == "explain") return explain(cmd);
    if (cmd.name == "version" || cmd.name == "--version") {
      std::printf("parley 0.1.0\n");
      return 0;
    }
    if (cmd.name == "help" || cmd.name == "--help" || cmd.name == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    throw UsageError("unknown command " + cmd.name);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "parley: %s\n\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley: %s\n", e.what());
    return 2;
  }
}
