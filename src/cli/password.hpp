// Asking for a password: on the terminal without echo, from a file, or from the environment.
#pragma once

#include <optional>
#include <string>

namespace parley::cli {

/// Reads a line from the controlling terminal with echo off, after printing `prompt` there.
/// Returns nothing when there is no terminal or the user ended the input (Ctrl-D).
std::optional<std::string> ask_password_on_tty(const std::string& prompt);

/// The first line of `path` (without its line end). Throws a UsageError naming the file.
std::string read_password_file(const std::string& path);

}  // namespace parley::cli
