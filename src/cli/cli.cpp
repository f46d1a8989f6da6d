#include "cli/cli.hpp"

#include <unistd.h>

#include <algorithm>
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
  errno = 0;
  long v = std::strtol(value.c_str(), &end, 10);
  if (end == value.c_str() || *end != '\0' || v <= 0 || errno == ERANGE) {
    throw UsageError(flag + " wants a whole number above 0, not \"" + value + "\"");
  }
  return v;
}

std::pair<long, long> parse_shard(const std::string& flag, const std::string& value) {
  std::size_t slash = value.find('/');
  if (slash == std::string::npos) {
    throw UsageError(flag + " wants I/N, e.g. 1/4, not \"" + value + "\"");
  }
  long shard = parse_count(flag, value.substr(0, slash));
  long shards = parse_count(flag, value.substr(slash + 1));
  if (shard > shards) throw UsageError(flag + " I/N wants I between 1 and N, not " + value);
  return {shard, shards};
}

std::size_t default_max_memory() {
  // 4 GiB, or half the machine's memory when it has less: a script that allocates without end
  // gets a clear error long before the kernel's OOM killer picks a process.
  std::size_t limit = std::size_t{4} << 30;
  long pages = sysconf(_SC_PHYS_PAGES);
  long page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) {
    limit = std::min(limit, static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 2);
  }
  return limit;
}

std::size_t parse_size(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(value.c_str(), &end);
  double unit = 1;
  std::string suffix = end != nullptr ? end : "";
  if (suffix == "K" || suffix == "k") unit = 1024.0;
  if (suffix == "M" || suffix == "m") unit = 1024.0 * 1024;
  if (suffix == "G" || suffix == "g") unit = 1024.0 * 1024 * 1024;
  bool known = suffix.empty() || unit > 1;
  if (end == value.c_str() || !known || !(v >= 0) || errno == ERANGE || v * unit > 1e18) {
    throw UsageError(flag + " wants a size such as 512M or 4G (0: no limit), not \"" + value +
                     "\"");
  }
  return static_cast<std::size_t>(v * unit);
}

CLI::Option* add_checked(CLI::App& app, const std::string& names, const std::string& help,
                         std::function<void(const std::string& value)> parse) {
  return app.add_option_function<std::string>(names, std::move(parse), help);
}

void add_common(CLI::App& app, Common& c) {
  auto& o = c.options;
  app.add_flag("-v,--verbose", o.verbose, "timestamps, server-side connections, tracebacks");
  app.add_flag("-q,--quiet", o.quiet, "no transcript (errors and warnings only)");
  app.add_option("--transcript", c.transcript_file,
                 "write the transcript to FILE instead of stderr")
      ->type_name("FILE");
  app.add_flag("--show-secrets", o.transcript.show_secrets,
               "do not mask secret() values in the transcript");
  add_checked(app, "--timeout", "default timeout of every wait, in seconds (30)",
              [&o](const std::string& v) { o.timeout = parse_seconds("--timeout", v); })
      ->type_name("S");
  app.add_option("-I", o.include_dirs, "look for Lua modules in DIR first (repeatable)")
      ->type_name("DIR")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_flag("--strict", o.strict, "protocol-grammar violations and unread input are failures");
  o.max_memory = default_max_memory();
  add_checked(app, "--max-memory",
              "memory the script's Lua state may hold: 512M, 4G, 0 for no limit (4G, at most "
              "half the machine's)",
              [&o](const std::string& v) { o.max_memory = parse_size("--max-memory", v); })
      ->type_name("SIZE");
  app.add_flag("--no-color", c.color_off, "no colors (also when NO_COLOR is set)");
  app.positionals_at_end();
}

void add_args(CLI::App& app, Common& c, const std::string& what, const std::string& help) {
  app.add_option(what, c.rest, help)->type_name("");
  app.positionals_at_end();
}

void take_args(Common& c, std::vector<std::string>* paths) {
  for (const std::string& a : c.rest) {
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

int run_engine(Common& c, const std::function<int(script::Engine&)>& body) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(setup_transcript(c), &std::fclose);
  script::Engine engine(c.options);
  return body(engine);
}

int run_module_main(script::Engine& engine, const std::string& chunk_name,
                    const std::string& module) {
  lua_setglobal(engine.lua(), "PARLEY_MAIN_CONFIG");
  return engine.run_chunk(chunk_name,
                          "local cfg = PARLEY_MAIN_CONFIG\n"
                          "PARLEY_MAIN_CONFIG = nil\n"
                          "require('" +
                              module + "').main(cfg)\n");
}

}  // namespace parley::cli
