#include "cli/cli.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace parley::cli {

std::vector<CommandInfo>& commands() {
  static std::vector<CommandInfo> all;
  return all;
}

double parse_seconds(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || *end != '\0' || !(v > 0)) {
    throw UsageError(flag + " wants a number of seconds above 0, not \"" + value + "\"");
  }
  return v;
}

long parse_count(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  long v = std::strtol(value.c_str(), &end, 10);
  if (end == value.c_str() || *end != '\0' || v <= 0) {
    throw UsageError(flag + " wants a whole number above 0, not \"" + value + "\"");
  }
  return v;
}

Common parse_common(const std::vector<std::string>& args, const FlagHandler& extra) {
  Common c;
  std::size_t i = 0;
  auto value = [&]() -> std::string {
    if (i + 1 >= args.size()) throw UsageError(args[i] + " needs a value");
    return args[++i];
  };
  for (; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.empty() || a[0] != '-' || a == "-") break;
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "-v" || a == "--verbose") {
      c.options.verbose = true;
    } else if (a == "-q" || a == "--quiet") {
      c.options.quiet = true;
    } else if (a == "--transcript") {
      c.transcript_file = value();
    } else if (a == "--show-secrets") {
      c.options.transcript.show_secrets = true;
    } else if (a == "--timeout") {
      c.options.timeout = parse_seconds(a, value());
    } else if (a == "-I") {
      c.options.include_dirs.push_back(value());
    } else if (a.rfind("-I", 0) == 0) {
      c.options.include_dirs.push_back(a.substr(2));
    } else if (a == "--strict") {
      c.options.strict = true;
    } else if (a == "--no-color") {
      c.color_off = true;
    } else if (!extra || !extra(a, value)) {
      throw UsageError("unknown option " + a);
    }
  }
  for (; i < args.size(); ++i) c.rest.push_back(args[i]);
  return c;
}

void take_args(Common& c, std::size_t from, std::vector<std::string>* paths) {
  for (std::size_t j = from; j < c.rest.size(); ++j) {
    const std::string& a = c.rest[j];
    std::size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      if (paths != nullptr && eq == std::string::npos) {
        paths->push_back(a);
        continue;
      }
      throw UsageError("arguments after the script are NAME=VALUE, not \"" + a + "\"");
    }
    c.options.args.emplace_back(a.substr(0, eq), a.substr(eq + 1));
  }
}

std::FILE* setup_transcript(Common& c) {
  auto& t = c.options.transcript;
  t.enabled = !c.options.quiet;
  t.verbose = c.options.verbose;
  std::FILE* file = nullptr;
  if (!c.transcript_file.empty()) {
    file = std::fopen(c.transcript_file.c_str(), "w");
    if (file == nullptr) {
      throw UsageError("cannot write the transcript to " + c.transcript_file + ": " +
                       std::strerror(errno));
    }
    t.out = file;
    t.enabled = true;
  }
  const char* no_color = std::getenv("NO_COLOR");
  t.color = !c.color_off && (no_color == nullptr || *no_color == '\0') && file == nullptr &&
            isatty(fileno(stderr)) != 0;
  return file;
}

}  // namespace parley::cli
