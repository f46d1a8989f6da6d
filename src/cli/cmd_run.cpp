// parley run SCRIPT (or -e CODE, or - for stdin) and parley demo (the embedded quickstart).
#include <iostream>
#include <iterator>

#include "cli/cli.hpp"
#include "script/embedded.hpp"

namespace parley::cli {

namespace {

std::string_view embedded(std::string_view name) {
  for (const auto& f : embedded::files()) {
    if (f.name == name) return f.text;
  }
  return {};
}

// `inline_name` set: `script` is the code itself (from -e or stdin), named so in messages.
int run_script(Common& c, const std::string& script, const char* inline_name = nullptr) {
  std::FILE* file = setup_transcript(c);
  int status;
  {
    script::Engine engine(c.options);
    if (inline_name != nullptr) {
      status = engine.run_chunk(inline_name, script);
    } else if (script.empty()) {
      status = engine.run_chunk("=quickstart.lua", embedded("example.quickstart"));
    } else {
      std::size_t slash = script.rfind('/');
      engine.prepend_module_dir(slash == std::string::npos ? "." : script.substr(0, slash));
      status = engine.run_file(script);
    }
  }
  if (file != nullptr) std::fclose(file);
  return status;
}

int run(const std::vector<std::string>& args) {
  std::string code;
  bool has_code = false;
  Common c = parse_common(args, [&](const std::string& flag, const auto& value) {
    if (flag != "-e") return false;
    code = value();
    has_code = true;
    return true;
  });
  if (has_code) {  // -e CODE: every argument left is NAME=VALUE
    take_args(c, 0);
    return run_script(c, code, "=(command line)");
  }
  if (c.rest.empty()) throw UsageError("run: no script given (a file, - for stdin, or -e CODE)");
  take_args(c, 1);
  if (c.rest[0] == "-") {
    std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
    return run_script(c, text, "=stdin");
  }
  return run_script(c, c.rest[0]);
}

int demo(const std::vector<std::string>& args) {
  Common c = parse_common(args);
  take_args(c, 0);
  return run_script(c, "");
}

RegisterCommand run_command{
    "run",
    "run [OPTIONS] SCRIPT [NAME=VALUE ...]   run a conversation script\n"
    "  parley run [OPTIONS] -e CODE [NAME=VALUE ...]  run CODE; \"run -\" reads the script from stdin",
    run};
RegisterCommand demo_command{
    "demo", "demo [OPTIONS]                          run the built-in quickstart (offline)", demo};

}  // namespace

}  // namespace parley::cli
