// parley record --listen PORT --to HOST:PORT: the recording proxy. The proxy is Lua
// (lua/parley/record.lua, on parley.relay); this file turns the flags into its settings.
#include "cli/cli.hpp"
#include "cli/signals.hpp"

namespace parley::cli {

namespace {

struct RecordFlags {
  std::string listen_host = "127.0.0.1";
  long listen_port = -1;
  std::string to_host;
  long to_port = 0;
  std::string proto;
  std::string output;
  std::string format = "lua";
  std::string tls = "starttls";
  std::string ca;
  std::string sni;
  std::string write_ca;
  long sessions = 0;
  double idle = 300;
};

long parse_port(const std::string& flag, const std::string& value) {
  char* end = nullptr;
  long v = std::strtol(value.c_str(), &end, 10);
  if (end == value.c_str() || *end != '\0' || v < 0 || v > 65535) {
    throw UsageError(flag + " wants a port number (0 to 65535), not \"" + value + "\"");
  }
  return v;
}

void set_string(lua_State* L, const char* key, const std::string& v) {
  if (v.empty()) return;
  lua_pushlstring(L, v.data(), v.size());
  lua_setfield(L, -2, key);
}

void push_config(lua_State* L, const RecordFlags& f) {
  lua_createtable(L, 0, 14);
  set_string(L, "listen_host", f.listen_host);
  lua_pushinteger(L, f.listen_port);
  lua_setfield(L, -2, "listen_port");
  set_string(L, "to_host", f.to_host);
  lua_pushinteger(L, f.to_port);
  lua_setfield(L, -2, "to_port");
  set_string(L, "proto", f.proto);
  set_string(L, "output", f.output);
  set_string(L, "format", f.format);
  set_string(L, "tls", f.tls);
  set_string(L, "ca", f.ca);
  set_string(L, "sni", f.sni);
  set_string(L, "write_ca", f.write_ca);
  if (f.sessions > 0) {
    lua_pushinteger(L, f.sessions);
    lua_setfield(L, -2, "sessions");
  }
  lua_pushnumber(L, f.idle);
  lua_setfield(L, -2, "idle");
}

int record(Common& c, const RecordFlags& f) {
  take_args(c);
  if (f.listen_port < 0) throw UsageError("record: --listen PORT is needed (0: any free port)");
  if (f.to_host.empty()) throw UsageError("record: --to HOST:PORT is needed");
  return run_engine(c, [&f](script::Engine& engine) {
    InterruptOnSignals signals(engine);  // Ctrl-C ends the recording: open sessions are closed
    push_config(engine.lua(), f);
    return run_module_main(engine, "=record", "parley.record");
  });
}

Runner define(CLI::App& app) {
  auto c = std::make_shared<Common>();
  auto f = std::make_shared<RecordFlags>();
  add_common(app, *c);
  add_checked(app, "--listen", "the port clients connect to (0: the kernel picks one)",
              [f](const std::string& value) {
                std::string v = value;
                auto colon = v.rfind(':');
                if (colon != std::string::npos) {
                  f->listen_host = v.substr(0, colon);
                  v = v.substr(colon + 1);
                }
                f->listen_port = parse_port("--listen", v);
              })
      ->type_name("[HOST:]PORT");
  add_checked(app, "--to", "the server to relay to", [f](const std::string& v) {
    auto colon = v.rfind(':');
    if (colon == std::string::npos || colon == 0) throw UsageError("--to wants HOST:PORT");
    f->to_host = v.substr(0, colon);
    f->to_port = parse_port("--to", v.substr(colon + 1));
  })->type_name("HOST:PORT");
  add_checked(app, "--proto", "smtp, pop3 or imap (default: from the greeting)",
              [f](const std::string& v) {
                if (v != "smtp" && v != "pop3" && v != "imap") {
                  throw UsageError("--proto wants smtp, pop3 or imap");
                }
                f->proto = v;
              })
      ->type_name("PROTO");
  app.add_option("-o,--output", f->output,
                 "where sessions go: FILE, FILE.2, ... or DIR/session-N (default: stdout)")
      ->type_name("FILE|DIR");
  add_checked(app, "--format", "lua (the default) or transcript", [f](const std::string& v) {
    if (v != "lua" && v != "transcript") throw UsageError("--format wants lua or transcript");
    f->format = v;
  })->type_name("FORMAT");
  add_checked(app, "--tls", "starttls (the default: upgrades where the client asks) or implicit",
              [f](const std::string& v) {
                if (v != "starttls" && v != "implicit") {
                  throw UsageError("--tls wants starttls or implicit");
                }
                f->tls = v;
              })
      ->type_name("MODE");
  app.add_option("--ca", f->ca, "trust these certificates when verifying the server")
      ->type_name("FILE");
  app.add_option("--sni", f->sni, "the name to check the server's certificate against")
      ->type_name("NAME");
  app.add_option("--write-ca", f->write_ca,
                 "write the certificate parley shows clients, for them to trust")
      ->type_name("FILE");
  add_checked(app, "--sessions", "stop after N sessions", [f](const std::string& v) {
    f->sessions = parse_count("--sessions", v);
  })->type_name("N");
  add_checked(app, "--idle-timeout", "end a session silent for S seconds (300)",
              [f](const std::string& v) { f->idle = parse_seconds("--idle-timeout", v); })
      ->type_name("S");
  add_args(app, *c);
  return [c, f] { return record(*c, *f); };
}

RegisterCommand record_command{
    "record", "recording proxy: real traffic -> a runnable script (Lua or transcript)", define};

}  // namespace

}  // namespace parley::cli
