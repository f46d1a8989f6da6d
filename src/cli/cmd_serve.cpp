// parley serve: the mock SMTP, POP3 and IMAP servers (lua/parley/mock/) on one shared mailbox
// store, until interrupted. The servers are Lua; this file turns the flags into a call of
// parley.mock.serve.main and ends the run cleanly on SIGINT / SIGTERM.
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/cli.hpp"

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
  std::vector<std::pair<std::string, std::string>> users;
  std::vector<std::string> faults;
};

std::string chunk_for(const ServeConfig& s) {
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
  c += "users={";
  for (const auto& [name, pass] : s.users)
    c += "{" + lua_quote(name) + "," + lua_quote(pass) + "},";
  c += "},faults={";
  for (const auto& f : s.faults) c += lua_quote(f) + ",";
  c += "}}";
  return c;
}

int serve(const std::vector<std::string>& args) {
  ServeConfig s;
  Common c =
      parse_common(args, [&s](const std::string& flag, const std::function<std::string()>& value) {
        if (flag == "--smtp") {
          s.smtp = parse_port(flag, value());
        } else if (flag == "--pop3") {
          s.pop3 = parse_port(flag, value());
        } else if (flag == "--imap") {
          s.imap = parse_port(flag, value());
        } else if (flag == "--tls") {
          s.tls = value();
          if (s.tls != "none" && s.tls != "starttls" && s.tls != "implicit") {
            throw UsageError("--tls wants none, starttls or implicit, not \"" + s.tls + "\"");
          }
        } else if (flag == "--user") {
          std::string v = value();
          std::size_t colon = v.find(':');
          if (colon == std::string::npos || colon == 0) {
            throw UsageError("--user wants NAME:PASSWORD");
          }
          s.users.emplace_back(v.substr(0, colon), v.substr(colon + 1));
        } else if (flag == "--script") {
          s.script = value();
        } else if (flag == "--fault") {
          s.faults.push_back(value());
        } else if (flag == "--host") {
          s.host = value();
        } else if (flag == "--cert") {
          s.cert = value();
        } else if (flag == "--key") {
          s.key = value();
        } else if (flag == "--cert-profile") {
          s.cert_profile = value();
          if (s.cert_profile != "expired" && s.cert_profile != "wrong-host") {
            throw UsageError("--cert-profile wants expired or wrong-host");
          }
        } else if (flag == "--idle-timeout") {
          double v = parse_seconds(flag, value());
          s.idle = std::to_string(v);
        } else {
          return false;
        }
        return true;
      });
  take_args(c, 0);
  std::FILE* file = setup_transcript(c);
  int status;
  {
    script::Engine engine(c.options);
    if (!s.script.empty()) {
      std::size_t slash = s.script.rfind('/');
      engine.prepend_module_dir(slash == std::string::npos ? "." : s.script.substr(0, slash));
    }
    // Ctrl-C and SIGTERM end the run as if the script had finished: every session is stopped
    // and every socket closed. The wait is cancelled with everything else when the run ends.
    boost::asio::signal_set signals(engine.io(), SIGINT, SIGTERM);
    signals.async_wait([&engine](const boost::system::error_code& ec, int) {
      if (!ec) engine.interrupt();
    });
    engine.add_canceller(
        [&signals] {
          boost::system::error_code ignored;
          signals.cancel(ignored);
        },
        0);
    status = engine.run_chunk("=serve", chunk_for(s));
    if (engine.interrupted()) {
      std::printf("parley serve: stopped\n");
      std::fflush(stdout);
    }
  }
  if (file != nullptr) std::fclose(file);
  return status;
}

RegisterCommand serve_command{
    "serve",
    "serve [OPTIONS] [--smtp PORT] [--pop3 PORT] [--imap PORT] [--tls none|starttls|implicit]\n"
    "               [--user NAME:PASS ...] [--script FILE] [--fault [PROTO:]WHEN:WHAT[=VALUE] "
    "...]\n"
    "               [--host ADDR] [--cert FILE --key FILE | --cert-profile expired|wrong-host]\n"
    "               [--idle-timeout S] [NAME=VALUE ...]\n"
    "                                        mock SMTP/POP3/IMAP servers sharing one mailbox store",
    serve};

}  // namespace

}  // namespace parley::cli
