// parley's entry point: picks the subcommand; the one place errors become exit statuses.
#include <signal.h>

#include <algorithm>
#include <cstdio>

#include "cli/cli.hpp"

namespace {

void usage(std::FILE* out) {
  using parley::cli::commands;
  auto all = commands();
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::fputs("usage:\n", out);
  for (const auto& c : all) std::fprintf(out, "  parley %s\n", c.usage.c_str());
  std::fputs(
      "  parley version\n"
      "\n"
      "common options (before the script):\n"
      "  -v, --verbose        timestamps, server-side connections, tracebacks\n"
      "  -q, --quiet          no transcript (errors and warnings only)\n"
      "  --transcript FILE    write the transcript to FILE instead of stderr\n"
      "  --show-secrets       do not mask secret() values in the transcript\n"
      "  --timeout S          default timeout of every wait, in seconds (30)\n"
      "  -I DIR               look for Lua modules in DIR first\n"
      "  --strict             protocol-grammar violations and unread input are failures\n"
      "  --no-color           no colors (also when NO_COLOR is set)\n"
      "\n"
      "exit: 0 ok, 1 an expectation failed, 2 usage or script error, 3 network or TLS failure\n",
      out);
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // a peer that hangs up is an error to report, not a signal to die of
  using parley::cli::UsageError;
  try {
    if (argc < 2) throw UsageError("no command given");
    std::string name = argv[1];
    std::vector<std::string> args(argv + 2, argv + argc);
    if (name == "version" || name == "--version") {
      std::printf("parley 0.1.0\n");
      return 0;
    }
    if (name == "help" || name == "--help" || name == "-h") {
      usage(stdout);
      return 0;
    }
    for (const auto& c : parley::cli::commands()) {
      if (c.name == name) return c.run(args);
    }
    throw UsageError("unknown command " + name);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "parley: %s\n\n", e.what());
    usage(stderr);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley: %s\n", e.what());
    return 2;
  }
}
