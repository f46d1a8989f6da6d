// parley send: the swaks one-liner. The options become `args` of lua/parley/send.lua, which
// writes the conversation script (parley.smtp) and runs it, or prints it with --script.
#include <unistd.h>

#include <cstdlib>

#include "cli/cli.hpp"
#include "cli/password.hpp"

namespace parley::cli {

namespace {

struct SendOptions {
  std::string server, from, user, password_file, subject, body, body_file, ehlo, quit_after, dsn,
      ca, sni, auth;
  std::vector<std::string> to, headers, attachments;
  bool starttls = false, tls = false, size = false, eightbit = false, smtputf8 = false,
       no_verify = false, print_script = false;
  CLI::Option* auth_option = nullptr;
};

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// A list as one argument: its items on lines of their own (none may hold a line end).
std::string lines_of(const std::vector<std::string>& items, const char* what) {
  std::string out;
  for (const auto& v : items) {
    if (v.find_first_of("\r\n") != std::string::npos) {
      throw UsageError(std::string("send: ") + what + " holds a line break");
    }
    out += (out.empty() ? "" : "\n") + v;
  }
  return out;
}

int send(Common& c, const SendOptions& o) {
  auto& args = c.options.args;
  auto set = [&](const char* name, const std::string& v) {
    if (!v.empty()) args.emplace_back(name, v);
  };
  if (o.tls && o.starttls) throw UsageError("send: --tls or --starttls, not both");
  set("server", o.server);
  set("from", o.from);
  set("to", lines_of(o.to, "--to"));
  set("tls", o.tls ? "implicit" : o.starttls ? "starttls" : "none");
  bool auth = o.auth_option->count() > 0 || !o.user.empty();
  if (o.auth_option->count() > 0) args.emplace_back("auth", o.auth);
  set("user", o.user);
  set("header", lines_of(o.headers, "--header"));
  set("subject", o.subject);
  set("body", o.body);
  set("body_file", o.body_file);
  set("attach", lines_of(o.attachments, "--attach"));
  set("ehlo", o.ehlo.empty() ? host_name() : o.ehlo);
  set("quit_after", o.quit_after);
  set("dsn", o.dsn);
  set("ca", o.ca);
  set("sni", o.sni);
  if (o.size) set("size", "1");
  if (o.eightbit) set("eightbit", "1");
  if (o.smtputf8) set("smtputf8", "1");
  if (o.no_verify) set("verify", "0");
  if (o.print_script) set("print_script", "1");
  if (auth && !o.print_script) {
    std::string pass;
    if (!o.password_file.empty()) {
      pass = read_password_file(o.password_file);
    } else if (const char* env = std::getenv("PARLEY_PASSWORD"); env != nullptr && *env != 0) {
      pass = env;
    } else {
      auto typed = ask_password("Password for " + (o.user.empty() ? "AUTH" : o.user) + ": ");
      if (!typed) {
        throw UsageError(
            "send: AUTH needs a password: --password-file FILE, PARLEY_PASSWORD, or a terminal "
            "to ask on");
      }
      pass = *typed;
    }
    args.emplace_back("password", pass);  // an argument named password is a secret: masked
  }
  if (o.print_script) c.options.quiet = true;
  return run_engine(c, [](script::Engine& engine) {
    return engine.run_chunk("=parley send", "require('parley.send').main(args)");
  });
}

Runner define(CLI::App& app) {
  auto c = std::make_shared<Common>();
  auto o = std::make_shared<SendOptions>();
  add_common(app, *c);
  app.footer(
      "The password is asked without echo, or read from --password-file or PARLEY_PASSWORD;\n"
      "never from the command line. --script prints the parley script that does the same.\n"
      "exit: 0 sent, 1 a reply was not the one wanted, 2 usage, 3 network or TLS failure");
  app.add_option("-s,--server", o->server,
                 "HOST[:PORT] (default 127.0.0.1; port 25, 465 with --tls)")
      ->type_name("HOST[:PORT]");
  app.add_option("-f,--from", o->from, "envelope sender and From:")->type_name("ADDRESS");
  app.add_option("-t,--to", o->to, "recipient (repeat, or separate with commas)")
      ->type_name("ADDRESS")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_flag("--starttls", o->starttls, "STARTTLS first (never goes on in the clear)");
  app.add_flag("--tls", o->tls, "implicit TLS (as on port 465)");
  o->auth_option =
      app.add_option("-a,--auth", o->auth,
                     "AUTH with MECH (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256, XOAUTH2); without "
                     "MECH the best both sides speak")
          ->type_name("[MECH]")
          ->expected(0, 1);
  app.add_option("-u,--user", o->user, "AUTH user name (implies --auth)")->type_name("NAME");
  app.add_option("--password-file", o->password_file, "the password: first line of FILE")
      ->type_name("FILE");
  app.add_option("--header", o->headers, "a header line (repeat)")
      ->type_name("'NAME: VALUE'")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--subject", o->subject, "Subject: (default \"test DATE\")")->type_name("TEXT");
  app.add_option("--body", o->body, "the text of the message")->type_name("TEXT");
  app.add_option("--body-file", o->body_file, "the text of the message, from FILE")
      ->type_name("FILE");
  app.add_option("--attach", o->attachments, "attach FILE (repeat)")
      ->type_name("FILE")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--ehlo", o->ehlo, "the EHLO name (default: this host's name)")->type_name("NAME");
  app.add_option("--quit-after", o->quit_after,
                 "stop (QUIT) after CONNECT|BANNER, FIRST-EHLO, TLS, EHLO, AUTH, MAIL|FROM, "
                 "RCPT|TO")
      ->type_name("STEP");
  app.add_option("--dsn", o->dsn, "DSN on every RCPT: SUCCESS,FAILURE,DELAY or NEVER")
      ->type_name("NOTIFY");
  app.add_flag("--size", o->size, "declare the message size in MAIL FROM");
  app.add_flag("--8bit", o->eightbit, "MAIL FROM ... BODY=8BITMIME");
  app.add_flag("--smtputf8", o->smtputf8, "MAIL FROM ... SMTPUTF8");
  app.add_option("--ca", o->ca, "trust the CAs in FILE")->type_name("FILE");
  app.add_option("--sni", o->sni, "the TLS server name")->type_name("NAME");
  app.add_flag("--no-verify", o->no_verify, "do not check the certificate");
  app.add_flag("--script", o->print_script,
               "print the equivalent parley script instead of sending");
  return [c, o] { return send(*c, *o); };
}

RegisterCommand send_command{
    "send", "one message, one command (the swaks one-liner): parley send -s HOST -f FROM -t TO",
    define};

}  // namespace

}  // namespace parley::cli
