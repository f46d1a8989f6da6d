// parley's entry point: builds the command line from the registered subcommands (CLI11),
// runs the one given; the one place errors become exit statuses.
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "cli/cli.hpp"
#include "cli/completions.hpp"

#ifndef PARLEY_VERSION
#error "PARLEY_VERSION comes from CMake's PROJECT_VERSION"
#endif

namespace {

constexpr const char* footer =
    "Options come before the script, NAME=VALUE arguments after it.\n"
    "`parley SUBCOMMAND --help` lists the options of each.\n"
    "Exit: 0 ok, 1 an expectation failed, 2 usage or script error, 3 network or TLS failure.";

// The subcommand the parse reached (for the pointer to its --help), or the app itself.
const CLI::App* reached(const CLI::App& app) {
  auto subs = app.get_subcommands();
  return subs.empty() ? &app : subs.front();
}

std::string help_hint(const CLI::App& app) {
  const CLI::App* sub = reached(app);
  return sub == &app ? "parley --help" : "parley " + sub->get_name() + " --help";
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // a peer that hangs up is an error to report, not a signal to die of
  using parley::cli::UsageError;

  CLI::App app{"parley: conversation scripts against mail servers (SMTP, POP3, IMAP)", "parley"};
  app.set_version_flag("--version", "parley " PARLEY_VERSION, "print the version and exit");
  app.require_subcommand(1);
  app.footer(footer);
  app.get_formatter()->column_width(28);

  auto all = parley::cli::commands();
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  // When the first word names a subcommand, only that one is defined: defining every
  // subcommand's options took ~1 M instructions, and even an empty CLI::App for each of the
  // others (its --help flag, its defaults) ~0.2 M, more than Lua's own start-up.
  std::string chosen = argc >= 2 ? argv[1] : "";
  bool one = std::any_of(all.begin(), all.end(), [&](const auto& c) { return c.name == chosen; });
  std::vector<std::pair<CLI::App*, parley::cli::Runner>> runners;
  for (const auto& c : all) {
    if (one && c.name != chosen) continue;
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    sub->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    runners.emplace_back(sub, c.define(*sub));
  }

  CLI::App* version = nullptr;
  CLI::App* help = nullptr;
  CLI::App* completion = nullptr;
  std::string help_on, shell;
  if (!one) {
    version = app.add_subcommand("version", "print the version");
    help = app.add_subcommand("help", "this text, or `parley help SUBCOMMAND`: its options");
    help->add_option("SUBCOMMAND", help_on, "the subcommand to describe");
    completion = app.add_subcommand("completion", "a shell completion script");
    completion->group("");  // hidden: the build generates the installed completions with it
    completion->add_option("SHELL", shell, "bash, zsh or fish")->required();
  }

  try {
    try {
      if (argc < 2) throw UsageError("no subcommand given");
      std::string first = argv[1];
      auto named = [&first](CLI::App* sub) { return sub->get_name() == first; };
      if (!first.empty() && first[0] != '-' && app.get_subcommands(named).empty()) {
        throw UsageError("unknown subcommand \"" + first + "\"");
      }
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      std::cout << app.help();
      return 0;
    } catch (const CLI::CallForAllHelp&) {
      std::cout << app.help("", CLI::AppFormatMode::All);
      return 0;
    } catch (const CLI::CallForVersion&) {
      std::cout << "parley " PARLEY_VERSION "\n";
      return 0;
    } catch (const CLI::ParseError& e) {
      throw UsageError(e.what());
    }
    if (version != nullptr && version->parsed()) {
      std::cout << "parley " PARLEY_VERSION "\n";
      return 0;
    }
    if (help != nullptr && help->parsed()) {
      if (help_on.empty()) {
        std::cout << app.help();
        return 0;
      }
      for (const auto& [sub, run] : runners) {
        if (sub->get_name() == help_on) {
          std::cout << sub->help();
          return 0;
        }
      }
      throw UsageError("help: no subcommand \"" + help_on + "\"");
    }
    if (completion != nullptr && completion->parsed()) {
      std::string text = parley::cli::completion_script(app, shell);
      if (text.empty()) throw UsageError("completion: bash, zsh or fish, not \"" + shell + "\"");
      std::cout << text;
      return 0;
    }
    for (const auto& [sub, run] : runners) {
      if (sub->parsed()) return run();
    }
    throw UsageError("no subcommand given");
  } catch (const UsageError& e) {
    std::fprintf(stderr, "parley: %s\n(see %s)\n", e.what(), help_hint(app).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parley: %s\n", e.what());
    return 2;
  }
}
