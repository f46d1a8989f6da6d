// parley run SCRIPT and parley demo (the embedded quickstart).
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

int run_script(Common& c, const std::string& script) {
  std::FILE* file = setup_transcript(c);
  int status;
  {
    script::Engine engine(c.options);
    if (script.empty()) {
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
  Common c = parse_common(args);
  if (c.rest.empty()) throw UsageError("run: no script given");
  take_args(c, 1);
  return run_script(c, c.rest[0]);
}

int demo(const std::vector<std::string>& args) {
  Common c = parse_common(args);
  take_args(c, 0);
  return run_script(c, "");
}

RegisterCommand run_command{
    "run", "run [OPTIONS] SCRIPT [NAME=VALUE ...]   run a conversation script", run};
RegisterCommand demo_command{
    "demo", "demo [OPTIONS]                          run the built-in quickstart (offline)", demo};

}  // namespace

}  // namespace parley::cli
