// Shared pieces of the subcommands: the common flags, usage errors, and the command registry
// (each subcommand registers itself from its own file).
#pragma once

#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "script/engine.hpp"

namespace parley::cli {

/// A usage error: printed with the usage text, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The flags every subcommand takes, and what follows them.
struct Common {
  script::EngineOptions options;
  std::string transcript_file;
  bool color_off = false;
  std::vector<std::string> rest;  ///< the first non-option argument and everything after it
};

/// A subcommand's own flag: called with the flag and a function that takes its value;
/// returns false when the flag is not the subcommand's.
using FlagHandler =
    std::function<bool(const std::string& flag, const std::function<std::string()>& value)>;

/// Parses options (they come before the script) into `Common`; unknown ones go to `extra`.
Common parse_common(const std::vector<std::string>& args, const FlagHandler& extra = nullptr);
/// Moves NAME=VALUE arguments (from index `from` of `rest`) into options.args; with
/// `paths`, arguments without '=' are collected there instead of being an error.
void take_args(Common& c, std::size_t from, std::vector<std::string>* paths = nullptr);
/// Applies -q/-v/--transcript/--no-color to the transcript options; returns the file opened
/// for --transcript (to be closed by the caller), or nullptr.
std::FILE* setup_transcript(Common& c);
double parse_seconds(const std::string& flag, const std::string& value);
long parse_count(const std::string& flag, const std::string& value);

struct CommandInfo {
  std::string name;
  std::string usage;  ///< one line or more for the usage text
  std::function<int(const std::vector<std::string>&)> run;
};

std::vector<CommandInfo>& commands();

/// `static RegisterCommand r{"name", "usage", fn};` in a subcommand's file.
struct RegisterCommand {
  RegisterCommand(std::string name, std::string usage,
                  std::function<int(const std::vector<std::string>&)> run) {
    commands().push_back({std::move(name), std::move(usage), std::move(run)});
  }
};

}  // namespace parley::cli
