// The script's view of a connection: the network connection plus framing, role, timeout and
// TLS settings. Lua userdata hold a shared_ptr to it; completion handlers hold their own.
#pragma once

#include <lua.hpp>
#include <memory>
#include <optional>
#include <string>

#include "framing/framing.hpp"
#include "net/connection.hpp"
#include "net/tls.hpp"
#include "report/login_mask.hpp"
#include "report/transcript.hpp"

namespace parley::script {

class Engine;

struct ScriptConn {
  std::shared_ptr<net::Connection> net;
  std::unique_ptr<framing::Framer> framer;
  std::string framing_name;
  framing::Limits limits;
  int id = 0;
  bool server_role = false;  ///< accepted by listen(): parley is the server
  bool show = true;          ///< appears in the transcript
  /// Hides what the client sends to log in (listen's hide_logins), secret or not.
  std::optional<report::LoginMask> login_mask;
  double timeout = 30;
  std::string host;
  int port = 0;
  std::string label;  ///< "host:port", a socket path, or a command line
  /// TLS settings given at connect (ca=, sni=, ...); null when there were none and the
  /// connection is plain: most connections of a load test never need them (memory per idle
  /// conversation). tls_settings() gives them with `host` filled in.
  std::unique_ptr<net::ClientTlsOptions> tls_options;
  std::shared_ptr<net::ssl::context> server_ctx;  ///< accepted connections: for starttls
  std::unique_ptr<net::TlsFacts> facts;           ///< after a handshake
  int canceller = 0;
  Engine* engine = nullptr;

  report::Speaker peer_speaker() const {
    return server_role ? report::Speaker::client : report::Speaker::server;
  }
  report::Speaker own_speaker() const {
    return server_role ? report::Speaker::server : report::Speaker::client;
  }
  bool tls() const { return net->transport().is_tls(); }
  void show_line(report::Speaker who, std::string_view line);
  void show_bytes(report::Speaker who, std::string_view bytes);
  net::ClientTlsOptions tls_settings() const {
    net::ClientTlsOptions o = tls_options ? *tls_options : net::ClientTlsOptions{};
    o.host = host;
    return o;
  }
  void log_received(std::string_view bytes);
  void log_received_line(std::string_view line);
  void log_sent_line(std::string_view line);
  void log_sent_bytes(std::string_view bytes);
  void note(const std::string& text);
  /// Whether note() writes anything (so that a caller need not build the text for nothing).
  bool noting() const;
};

/// A connection's Lua userdata: the connection, then a mark that no other userdata holds (the
/// address of kConnMark), so that a check can tell one by its size and mark alone.
inline constexpr char kConnMark = 'c';
struct ConnUserdata {
  std::shared_ptr<ScriptConn> conn;
  const char* mark = &kConnMark;
};

/// Wraps a new connection as Lua userdata (registers it to be closed at the end of the run).
void push_conn(lua_State* L, std::shared_ptr<ScriptConn> conn);
/// `owner`: the task id on whose behalf it opens (cancelling that task closes it). `framer`:
/// the framing named `framing_name`, when the caller made it already; else the role's default.
std::shared_ptr<ScriptConn> make_conn(Engine& engine, std::unique_ptr<net::Transport> transport,
                                      std::string label, bool server_role, int owner,
                                      std::unique_ptr<framing::Framer> framer = nullptr,
                                      std::string_view framing_name = {});
void set_framing(lua_State* L, ScriptConn& conn, const std::string& name);
void push_facts(lua_State* L, const net::TlsFacts& facts);
/// Settles a finished handshake: on success records c.tls and notes it in the transcript.
/// Returns why the conversation cannot go on (the handshake failed, or `check` asked for a
/// certificate check that failed; the connection is closed then), or "" when all is well.
/// `checked` is the name or address the certificate was checked against (for the advice).
std::string settle_handshake(ScriptConn& conn, const net::Outcome& outcome, double timeout,
                             bool check, const std::string& checked);
/// One line summing up a handshake for the transcript.
std::string describe_handshake(const net::TlsFacts& facts, bool checked);

}  // namespace parley::script
