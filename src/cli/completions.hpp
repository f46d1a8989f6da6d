// Shell completion scripts (bash, zsh, fish) generated from the CLI11 definitions of the
// subcommands, so that they cannot drift from the command line. The build runs the hidden
// `parley completion SHELL` to make the installed files.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace parley::cli {

/// The completion script for `shell` (bash, zsh or fish), or "" for another shell.
std::string completion_script(const CLI::App& app, const std::string& shell);

}  // namespace parley::cli
