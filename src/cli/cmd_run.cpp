// parley run SCRIPT (or -e CODE, or - for stdin) and parley demo (the embedded quickstart).
#include <iostream>
#include <iterator>
#include <optional>
#include <stdexcept>

#include "cli/cli.hpp"
#include "cli/password.hpp"
#include "cli/run_transcript.hpp"
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
int run_script(Common& c, const std::string& script, const char* inline_name = nullptr,
               const TranscriptFlags& flags = {}) {
  return run_engine(c, [&](script::Engine& engine) {
    if (inline_name != nullptr) return engine.run_chunk(inline_name, script);
    if (script.empty()) return engine.run_chunk("=quickstart.lua", embedded("example.quickstart"));
    std::size_t slash = script.rfind('/');
    engine.prepend_module_dir(slash == std::string::npos ? "." : script.substr(0, slash));
    return run_script_or_transcript(engine, script, flags);
  });
}

Runner define_run(CLI::App& app) {
  auto c = std::make_shared<Common>();
  auto code = std::make_shared<std::optional<std::string>>();
  auto flags = std::make_shared<TranscriptFlags>();
  add_common(app, *c);
  app.add_flag("--exact", flags->exact,
               "a transcript: compare the replies' text too (volatile words left out)");
  app.add_flag("--ask-password", flags->ask_password,
               "a transcript: replay AUTH/LOGIN/PASS with a password asked for on the terminal");
  app.add_option_function<std::string>(
         "-e", [code](const std::string& v) { *code = v; },
         "run CODE instead of a script file (every argument after it is NAME=VALUE)")
      ->type_name("CODE");
  app.add_option("SCRIPT", c->script,
                 "the conversation script (a Lua file, or a transcript; - reads stdin)")
      ->type_name("");
  add_args(app, *c);
  return [c, code, flags] {
    if (flags->ask_password) {
      auto typed = ask_password("password: ", true);  // no terminal: a line of stdin
      if (!typed || typed->empty()) throw std::runtime_error("--ask-password: no password given");
      c->options.args.emplace_back("password", *typed);
    }
    if (*code) {  // -e CODE: every argument left is NAME=VALUE
      if (!c->script.empty()) c->rest.insert(c->rest.begin(), c->script);
      take_args(*c);
      return run_script(*c, **code, "=(command line)");
    }
    if (c->script.empty()) {
      throw UsageError("run: no script given (a file, - for stdin, or -e CODE)");
    }
    take_args(*c);
    if (c->script == "-") {
      std::string text{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
      return run_script(*c, text, "=stdin");
    }
    return run_script(*c, c->script, nullptr, *flags);
  };
}

Runner define_demo(CLI::App& app) {
  auto c = std::make_shared<Common>();
  add_common(app, *c);
  add_args(app, *c);
  return [c] {
    take_args(*c);
    return run_script(*c, "");
  };
}

RegisterCommand run_command{"run",
                            "run a conversation script or a transcript: parley run [OPTIONS] "
                            "SCRIPT|-|-e CODE [NAME=VALUE ...]",
                            define_run};
RegisterCommand demo_command{"demo", "run the built-in quickstart (offline)", define_demo};

}  // namespace

}  // namespace parley::cli
