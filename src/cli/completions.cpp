#include "cli/completions.hpp"

#include <vector>

namespace parley::cli {

namespace {

struct Opt {
  std::vector<std::string> names;  ///< "-v", "--verbose"
  bool takes_value = false;
  std::string help;
};

struct Sub {
  std::string name, help;
  std::vector<Opt> opts;
};

// Descriptions go into single-quoted shell words and zsh specs: keep them plain.
std::string plain(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\'' || c == '[' || c == ']' || c == ':' || c == '\\' || c == '`' || c == '$') {
      continue;
    }
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::vector<Sub> describe(const CLI::App& app) {
  std::vector<Sub> subs;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_group().empty()) continue;  // hidden
    Sub s{sub->get_name(), plain(sub->get_description()), {}};
    for (const CLI::Option* o : sub->get_options()) {
      if (o->get_positional() || o->get_group().empty()) continue;
      Opt opt;
      for (const auto& n : o->get_snames()) opt.names.push_back("-" + n);
      for (const auto& n : o->get_lnames()) opt.names.push_back("--" + n);
      opt.takes_value = o->get_expected_max() > 0;  // flags expect 0
      opt.help = plain(o->get_description());
      s.opts.push_back(std::move(opt));
    }
    subs.push_back(std::move(s));
  }
  return subs;
}

std::string bash(const std::vector<Sub>& subs) {
  std::string out =
      "# bash completion for parley (generated from its command line: parley completion bash)\n"
      "_parley() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
      "  local opts='' valued=''\n"
      "  if ((COMP_CWORD == 1)); then\n"
      "    COMPREPLY=($(compgen -W '";
  std::string names;
  for (const auto& s : subs) names += (names.empty() ? "" : " ") + s.name;
  out += names + " --help --version' -- \"$cur\"))\n    return\n  fi\n";
  out += "  case ${COMP_WORDS[1]} in\n";
  for (const auto& s : subs) {
    std::string opts, valued;
    for (const auto& o : s.opts) {
      for (const auto& n : o.names) {
        opts += (opts.empty() ? "" : " ") + n;
        if (o.takes_value) valued += (valued.empty() ? "" : " ") + n;
      }
    }
    out += "    " + s.name + ") opts='" + opts + "' valued='" + valued + "' ;;\n";
  }
  out +=
      "  esac\n"
      "  if [[ \" $valued \" == *\" $prev \"* ]]; then\n"
      "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "    return\n"
      "  fi\n"
      "  if [[ $cur == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
      "    return\n"
      "  fi\n"
      "  COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "}\n"
      "complete -o filenames -o bashdefault -F _parley parley\n";
  return out;
}

std::string zsh(const std::vector<Sub>& subs) {
  std::string out =
      "#compdef parley\n"
      "# zsh completion for parley (generated from its command line: parley completion zsh)\n"
      "_parley() {\n"
      "  local -a subcommands\n"
      "  subcommands=(\n";
  for (const auto& s : subs) out += "    '" + s.name + ":" + s.help + "'\n";
  out +=
      "  )\n"
      "  if (( CURRENT == 2 )); then\n"
      "    _describe 'subcommand' subcommands\n"
      "    return\n"
      "  fi\n"
      "  local sub=$words[2]\n"
      "  shift words\n"
      "  (( CURRENT-- ))\n"
      "  case $sub in\n";
  for (const auto& s : subs) {
    out += "    " + s.name + ")\n      _arguments -s";
    for (const auto& o : s.opts) {
      for (const auto& n : o.names) {
        out += " \\\n        '" + n + "[" + o.help + "]" + (o.takes_value ? ":value:_files" : "") +
               "'";
      }
    }
    out += " \\\n        '*:argument:_files'\n      ;;\n";
  }
  out += "  esac\n}\n_parley \"$@\"\n";
  return out;
}

std::string fish(const std::vector<Sub>& subs) {
  std::string out =
      "# fish completion for parley (generated from its command line: parley completion fish)\n"
      "complete -c parley -f -n __fish_use_subcommand -l help -d 'show the help'\n"
      "complete -c parley -f -n __fish_use_subcommand -l version -d 'show the version'\n";
  for (const auto& s : subs) {
    out += "complete -c parley -f -n __fish_use_subcommand -a " + s.name + " -d '" + s.help + "'\n";
  }
  for (const auto& s : subs) {
    for (const auto& o : s.opts) {
      out += "complete -c parley -n '__fish_seen_subcommand_from " + s.name + "'";
      for (const auto& n : o.names) {
        out += n.size() == 2 ? " -s " + n.substr(1) : " -l " + n.substr(2);
      }
      if (o.takes_value) out += " -r";
      out += " -d '" + o.help + "'\n";
    }
  }
  return out;
}

}  // namespace

std::string completion_script(const CLI::App& app, const std::string& shell) {
  std::vector<Sub> subs = describe(app);
  if (shell == "bash") return bash(subs);
  if (shell == "zsh") return zsh(subs);
  if (shell == "fish") return fish(subs);
  return "";
}

}  // namespace parley::cli
