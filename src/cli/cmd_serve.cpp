// parley serve: the mock SMTP, POP3 and IMAP servers (lua/parley/mock/) on one shared mailbox
// store, until interrupted. The servers are Lua; this file turns the flags into a call of
// parley.mock.serve.main and ends the run cleanly on SIGINT / SIGTERM.
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "cli/signals.hpp"

namespace parley::cli {

namespace {

// A Lua string literal holding exactly `s`.
std::string lua_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 32 || c >= 127) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03u", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string parse_port(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || v < 0 || v > 65535) {
    throw UsageError(flag +
                     " wants a port number from 0 to 65535 (0: the kernel picks one), not \"" +
                     value + "\"");
  }
  return std::to_string(v);
}

struct ServeConfig {
  std::string smtp, pop3, imap;  // ports, or empty
  std::string tls = "none";
  std::string host = "127.0.0.1";
  std::string script, cert, key, cert_profile;
  std::string idle;
  std::string max_connections;  // empty: from the descriptor limit
  std::string write_ca;
  bool allow_plaintext_auth = false;
  std::vector<std::string> user_args;  // NAME:PASSWORD, as given
  std::vector<std::pair<std::string, std::string>> users;
  std::vector<std::string> faults;
  std::string replay, port;  // --replay TRANSCRIPT [--port P]: lua/parley/replay.lua
};

std::string chunk_for(const ServeConfig& s) {
  if (!s.replay.empty()) {
    return "return require(\"parley.replay\").main{path=" + lua_quote(s.replay) +
           ",host=" + lua_quote(s.host) + ",port=" + (s.port.empty() ? "0" : s.port) +
           ",tls=" + lua_quote(s.tls) + (s.cert.empty() ? "" : ",cert=" + lua_quote(s.cert)) +
           (s.key.empty() ? "" : ",key=" + lua_quote(s.key)) + "}";
  }
  std::string c = "return require(\"parley.mock.serve\").main{";
  auto field = [&c](const char* name, const std::string& value, bool quote = true) {
    if (value.empty()) return;
    c += std::string(name) + "=" + (quote ? lua_quote(value) : value) + ",";
  };
  field("smtp", s.smtp, false);
  field("pop3", s.pop3, false);
  field("imap", s.imap, false);
  field("tls", s.tls);
  field("host", s.host);
  field("script", s.script);
  field("cert", s.cert);
  field("key", s.key);
  field("cert_profile", s.cert_profile);
  field("idle_timeout", s.idle, false);
  field("max_connections", s.max_connections, false);
  field("write_ca", s.write_ca);
  if (s.allow_plaintext_auth) c += "allow_plaintext_auth=true,";
  c += "users={";
  for (const auto& [name, pass] : s.users)
    c += "{" + lua_quote(name) + "," + lua_quote(pass) + "},";
  c += "},faults={";
  for (const auto& f : s.faults) c += lua_quote(f) + ",";
  c += "}}";
  return c;
}

// The default --max-connections: 1000, or half the descriptors the process may open when that
// is less (the other half answers a flood with "too many connections" and serves the rest).
// The soft descriptor limit is raised to the hard one first.
std::string default_max_connections() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return "1000";
  if (lim.rlim_cur != RLIM_INFINITY &&
      (lim.rlim_max == RLIM_INFINITY || lim.rlim_cur < lim.rlim_max)) {
    rlimit raised = lim;
    raised.rlim_cur =
        lim.rlim_max == RLIM_INFINITY ? std::max<rlim_t>(lim.rlim_cur, 65536) : lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= 2000) return "1000";
  return std::to_string(std::max<rlim_t>(1, lim.rlim_cur / 2));
}

int serve(Common& c, ServeConfig& s) {
  for (const std::string& v : s.user_args) {
    std::size_t colon = v.find(':');
    if (colon == std::string::npos || colon == 0) throw UsageError("--user wants NAME:PASSWORD");
    s.users.emplace_back(v.substr(0, colon), v.substr(colon + 1));
  }
  take_args(c);
  if (!s.write_ca.empty() && !s.cert.empty()) {
    throw UsageError(
        "--write-ca writes the CA of the certificate made on the fly: with --cert, give clients "
        "the CA of your own certificate");
  }
  if (s.max_connections.empty()) s.max_connections = default_max_connections();
  return run_engine(c, [&s](script::Engine& engine) {
    if (!s.script.empty()) {
      std::size_t slash = s.script.rfind('/');
      engine.prepend_module_dir(slash == std::string::npos ? "." : s.script.substr(0, slash));
    }
    InterruptOnSignals signals(engine);  // Ctrl-C: every session stopped, every socket closed
    int status = engine.run_chunk("=serve", chunk_for(s));
    if (engine.interrupted()) {
      std::printf("parley serve: stopped\n");
      std::fflush(stdout);
    }
    return status;
  });
}

Runner define(CLI::App& app) {
  auto c = std::make_shared<Common>();
  auto s = std::make_shared<ServeConfig>();
  add_common(app, *c);
  auto port = [&app, s](const char* name, std::string ServeConfig::*field, const char* help) {
    add_checked(app, name, help, [s, name, field](const std::string& v) {
      (*s).*field = parse_port(name, v);
    })->type_name("PORT");
  };
  port("--smtp", &ServeConfig::smtp, "serve SMTP on PORT (0: the kernel picks one)");
  port("--pop3", &ServeConfig::pop3, "serve POP3 on PORT");
  port("--imap", &ServeConfig::imap, "serve IMAP on PORT");
  add_checked(app, "--tls", "none (the default), starttls or implicit", [s](const std::string& v) {
    if (v != "none" && v != "starttls" && v != "implicit") {
      throw UsageError("--tls wants none, starttls or implicit, not \"" + v + "\"");
    }
    s->tls = v;
  })->type_name("MODE");
  app.add_option("--user", s->user_args, "a user of every server (repeatable)")
      ->type_name("NAME:PASS")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  app.add_option("--script", s->script, "Lua hooks that change the servers' behaviour")
      ->type_name("FILE");
  app.add_option("--fault", s->faults, "inject a fault, [PROTO:]WHEN:WHAT[=VALUE] (repeatable)")
      ->type_name("FAULT")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  app.add_option("--host", s->host, "the address to listen on (127.0.0.1)")->type_name("ADDR");
  app.add_option("--cert", s->cert, "the server certificate (PEM)")->type_name("FILE");
  app.add_option("--key", s->key, "its private key (PEM)")->type_name("FILE");
  add_checked(app, "--cert-profile", "a generated certificate that is expired or for another host",
              [s](const std::string& v) {
                if (v != "expired" && v != "wrong-host") {
                  throw UsageError("--cert-profile wants expired or wrong-host");
                }
                s->cert_profile = v;
              })
      ->type_name("expired|wrong-host");
  add_checked(
      app, "--idle-timeout", "close connections idle for S seconds",
      [s](const std::string& v) { s->idle = std::to_string(parse_seconds("--idle-timeout", v)); })
      ->type_name("S");
  add_checked(
      app, "--max-connections", "connections at once, all servers together (default 1000)",
      [s](const std::string& v) {
        char* end = nullptr;
        long n = std::strtol(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || n < 1 || n > 1000000) {
          throw UsageError("--max-connections wants a number from 1 to 1000000, not \"" + v + "\"");
        }
        s->max_connections = std::to_string(n);
      })
      ->type_name("N");
  app.add_flag("--allow-plaintext-auth", s->allow_plaintext_auth,
               "accept logins before STARTTLS (refused by default)");
  add_checked(app, "--write-ca", "write the on-the-fly certificate's CA to FILE",
              [s](const std::string& v) {
                if (v.empty()) throw UsageError("--write-ca wants a file name");
                s->write_ca = v;
              })
      ->type_name("FILE");
  app.add_option("--replay", s->replay,
                 "play the server side of a transcript to one client per conversation in it")
      ->type_name("TRANSCRIPT");
  port("--port", &ServeConfig::port, "with --replay: the port (0, the default: the kernel picks)");
  add_args(app, *c);
  return [c, s] { return serve(*c, *s); };
}

RegisterCommand serve_command{"serve", "mock SMTP/POP3/IMAP servers sharing one mailbox store",
                              define};

}  // namespace

}  // namespace parley::cli
