// Shared pieces of the subcommands: the common options, usage errors, and the command registry
// (each subcommand registers itself from its own file). The command line is parsed by CLI11:
// every subcommand is a CLI::App of its own, so `parley SUB --help` lists SUB's options,
// `--opt=value` and `--opt value` both work, errors name the option, and the installed shell
// completions are generated from the same definitions (completions.cpp, `parley completion`).
//
// Adding a subcommand: a new file src/cli/cmd_NAME.cpp (picked up by CMake's glob) holding
//
//   namespace parley::cli {
//   namespace {
//   Runner define(CLI::App& app) {
//     auto c = std::make_shared<Common>();   // state outlives define(): captured by the runner
//     add_common(app, *c);                  // -v, -q, --timeout, ... (if SUB runs scripts)
//     app.add_option("SCRIPT", c->script, "the conversation script")->required();
//     add_args(app, *c);                    // NAME=VALUE ... after the script
//     return [c] { take_args(*c); return run_it(*c); };   // after a successful parse
//   }
//   RegisterCommand reg{"name", "one line for `parley --help`", define};
//   }  // namespace
//   }  // namespace parley::cli
//
// Options come before the script; everything after the first positional argument is
// positional (`positionals_at_end`), so NAME=VALUE and paths never collide with options.
// Check option values with the parse_* helpers (or validators) so that errors name the option;
// a UsageError thrown by a runner exits with status 2 like a parse error.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "script/engine.hpp"

namespace parley::cli {

/// A usage error: printed with a pointer to `--help`, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The options every script-running subcommand takes, and what follows them.
struct Common {
  script::EngineOptions options;
  std::string transcript_file;
  bool color_off = false;
  std::string script;             ///< SCRIPT, for subcommands that take one
  std::vector<std::string> rest;  ///< the positional arguments after SCRIPT (NAME=VALUE ...)
};

/// "512M", "4G", "1024K", bytes; 0 is no limit. Throws UsageError naming `flag`.
std::size_t parse_size(const std::string& flag, const std::string& value);
/// Adds -v, -q, --transcript, --show-secrets, --timeout, -I, --strict, --max-memory,
/// --no-color to `app`,
/// stored into `c` (which must outlive the parse).
void add_common(CLI::App& app, Common& c);
/// Adds the trailing positional NAME=VALUE ... (or `what`) collected into c.rest.
void add_args(CLI::App& app, Common& c, const std::string& what = "NAME=VALUE",
              const std::string& help = "script arguments, seen by the script as args.NAME");
/// Moves NAME=VALUE arguments of c.rest into options.args; with `paths`, arguments without
/// '=' are collected there instead of being an error.
void take_args(Common& c, std::vector<std::string>* paths = nullptr);
/// Applies -q/-v/--transcript/--no-color to the transcript options; returns the file opened
/// for --transcript (to be closed by the caller), or nullptr.
std::FILE* setup_transcript(Common& c);
/// Runs `body` with an engine made from c.options once the transcript is set up (as
/// setup_transcript does; the --transcript file is closed after the engine, also when `body`
/// throws). Returns what `body` returns: the exit status.
int run_engine(Common& c, const std::function<int(script::Engine&)>& body);
/// Runs `require(module).main(cfg)` as the chunk `chunk_name`, cfg being the table on top of
/// the engine's Lua stack (popped): how a subcommand hands its settings to its Lua half.
int run_module_main(script::Engine& engine, const std::string& chunk_name,
                    const std::string& module);

double parse_seconds(const std::string& flag, const std::string& value);
long parse_count(const std::string& flag, const std::string& value);
/// "I/N" with 1 <= I <= N, for --shard.
std::pair<long, long> parse_shard(const std::string& flag, const std::string& value);
/// An option NAMES whose value goes through `parse` once the command line is read; `parse`
/// throws a UsageError naming the option (the parse_* above do) when the value is wrong.
CLI::Option* add_checked(CLI::App& app, const std::string& names, const std::string& help,
                         std::function<void(const std::string& value)> parse);

/// What a subcommand runs once its command line parsed: returns the exit status.
using Runner = std::function<int()>;

struct CommandInfo {
  std::string name;
  std::string summary;  ///< one line for `parley --help`
  std::function<Runner(CLI::App&)> define;
};

std::vector<CommandInfo>& commands();

/// `static RegisterCommand r{"name", "summary", define};` in a subcommand's file.
struct RegisterCommand {
  RegisterCommand(std::string name, std::string summary, std::function<Runner(CLI::App&)> define) {
    commands().push_back({std::move(name), std::move(summary), std::move(define)});
  }
};

}  // namespace parley::cli
