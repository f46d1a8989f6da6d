// Asking for a password: on the terminal without echo, from a file, or from the environment.
#pragma once

#include <optional>
#include <string>

namespace parley::cli {

/// Reads a password: a line from the controlling terminal with echo off, after printing
/// `prompt` there; with no terminal and `or_stdin`, a line of standard input (a pipe).
/// Returns nothing when there is nowhere to read from or the input ended (Ctrl-D) before a line.
std::optional<std::string> ask_password(const std::string& prompt, bool or_stdin = false);

/// The first line of `path` (without its line end). Throws a UsageError naming the file.
std::string read_password_file(const std::string& path);

}  // namespace parley::cli
