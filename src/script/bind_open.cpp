// Opening connections: connect (TCP, implicit TLS, unix sockets), exec (a program's
// stdin/stdout), listen and accept (parley as the server).
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cmath>
#include <optional>
#include <system_error>

#include "script/conn.hpp"
#include "script/engine.hpp"
#include "script/lua_util.hpp"

namespace parley::script {

void open_connection_methods(lua_State* L);

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

const char* kListenerMeta = "parley.listener";
// The registry key of the methods table of listeners (also parley.listener_methods).
const char kListenerMethodsKey = 'L';

struct ConnectSpec {
  std::string host = "127.0.0.1";
  std::string port;
  std::string path;
  bool tls = false;
  double timeout = 30;
  std::string framing = "smtp";
  framing::Limits limits;
  net::ClientTlsOptions tls_options;
  bool show = true;
  /// The framer of `framing` with `limits`, made when connect() checked the name: the
  /// connection takes it over (moved out of a spec that is otherwise only read).
  mutable std::unique_ptr<framing::Framer> framer;
};

ConnectSpec read_spec(lua_State* L, Engine& engine) {
  ConnectSpec s;
  s.timeout = engine.options().timeout;
  if (!lua_istable(L, 1)) {
    s.host = check_string(L, 1);
    s.port = check_string(L, 2);  // numbers convert
    if (lua_istable(L, 3))
      lua_replace(L, 1);  // connect(host, port, {options})
    else
      return s;
  }
  if (auto v = opt_string_field(L, 1, "host")) s.host = *v;
  if (auto v = opt_string_field(L, 1, "port")) s.port = *v;
  if (auto v = opt_string_field(L, 1, "path")) s.path = *v;
  if (auto v = opt_number_field(L, 1, "timeout")) s.timeout = *v;
  if (auto v = opt_string_field(L, 1, "framing")) s.framing = *v;
  if (auto v = opt_number_field(L, 1, "max_line")) s.limits.max_line = static_cast<std::size_t>(*v);
  if (auto v = opt_number_field(L, 1, "max_reply"))
    s.limits.max_unit = static_cast<std::size_t>(*v);
  if (auto v = opt_bool_field(L, 1, "transcript")) s.show = *v;
  if (raw_field(L, 1, "tls") == LUA_TSTRING) {
    std::string_view mode = lua_tostring(L, -1);
    if (mode != "implicit") {
      raise_text(L, "connect: tls must be true, false or \"implicit\" (STARTTLS is c:starttls())");
    }
    s.tls = true;
  } else {
    s.tls = lua_toboolean(L, -1) != 0;
  }
  lua_pop(L, 1);
  net::ClientTlsOptions& o = s.tls_options;
  if (auto v = opt_string_field(L, 1, "sni")) o.sni = *v;
  if (auto v = opt_bool_field(L, 1, "verify")) o.verify = *v;
  if (auto v = opt_string_field(L, 1, "ca")) o.ca_file = *v;
  if (auto v = opt_string_field(L, 1, "ca_pem")) o.ca_pem = *v;
  if (auto v = opt_string_field(L, 1, "cert")) o.cert_file = *v;
  if (auto v = opt_string_field(L, 1, "key")) o.key_file = *v;
  if (auto v = opt_string_field(L, 1, "tls_min")) o.min_version = *v;
  if (auto v = opt_string_field(L, 1, "tls_max")) o.max_version = *v;
  if (s.path.empty() && s.port.empty()) raise_text(L, "connect: no port (or path) given");
  return s;
}

// The pieces of a connect in flight; the timer bounds resolve + connect together.
struct ConnectOp {
  explicit ConnectOp(asio::io_context& io) : resolver(io), socket(io), timer(io) {}
  tcp::resolver resolver;
  tcp::socket socket;
  asio::steady_timer timer;
  bool timed_out = false;
};

void push_connect_error(lua_State* co, const std::string& what) {
  lua_pushboolean(co, 0);
  push_error(co, kNetworkError, "network", what);
}

// Runs the TLS handshake of a connection being opened (client side when `client` is given),
// then wakes the task with the connection, or with why it cannot be used.
void handshake_then_wake(Engine& engine, int task, std::shared_ptr<ScriptConn> conn,
                         std::shared_ptr<net::ssl::context> ctx,
                         const net::ClientTlsOptions* client, double timeout) {
  bool check = client != nullptr && client->verify;
  std::string name = client == nullptr ? "" : client->sni.empty() ? client->host : client->sni;
  conn->net->handshake(std::move(ctx), client, deadline_after(timeout),
                       [conn, task, &engine, timeout, check, name](const net::Outcome& o) {
                         std::string failure = settle_handshake(*conn, o, timeout, check, name);
                         engine.wake(task, [conn, failure](lua_State* co) {
                           lua_pushboolean(co, failure.empty() ? 1 : 0);
                           if (failure.empty()) {
                             push_conn(co, conn);
                           } else {
                             push_error(co, kNetworkError, "tls", failure);
                           }
                           return 2;
                         });
                       });
}

// Finishes a connection attempt: wraps the transport, runs the TLS handshake when asked, and
// wakes the task with the connection or the error.
// The script's connection over a transport that has just connected.
std::shared_ptr<ScriptConn> wrap_connected(Engine& engine, int owner, const ConnectSpec& spec,
                                           std::unique_ptr<net::Transport> transport,
                                           const std::string& label) {
  auto framer =
      spec.framer ? std::move(spec.framer) : framing::make_framer(spec.framing, spec.limits);
  auto conn =
      make_conn(engine, std::move(transport), label, false, owner, std::move(framer), spec.framing);
  conn->host = spec.host;
  conn->port = spec.port.empty() ? 0 : std::atoi(spec.port.c_str());
  conn->timeout = spec.timeout;
  conn->limits = spec.limits;
  conn->show = spec.show;
  const net::ClientTlsOptions& o = spec.tls_options;
  bool given = !o.sni.empty() || !o.verify || !o.ca_file.empty() || !o.ca_pem.empty() ||
               !o.cert_file.empty() || !o.key_file.empty() || !o.min_version.empty() ||
               !o.max_version.empty();
  if (spec.tls || given) {
    conn->tls_options = std::make_unique<net::ClientTlsOptions>(o);
    conn->tls_options->host = spec.host;
  }
  if (conn->noting()) conn->note("connected to " + label);
  return conn;
}

void complete(Engine& engine, int task, const ConnectSpec& spec,
              std::unique_ptr<net::Transport> transport, std::string label) {
  auto conn = wrap_connected(engine, task, spec, std::move(transport), label);
  if (!spec.tls) {
    engine.wake(task, [conn](lua_State* co) {
      lua_pushboolean(co, 1);
      push_conn(co, conn);
      return 2;
    });
    return;
  }
  std::shared_ptr<net::ssl::context> ctx;
  try {
    ctx = net::make_client_context(*conn->tls_options);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    conn->net->close();
    engine.wake(task, [msg](lua_State* co) {
      lua_pushboolean(co, 0);
      push_error(co, kScriptError, "script", msg);
      return 2;
    });
    return;
  }
  handshake_then_wake(engine, task, conn, ctx, conn->tls_options.get(), spec.timeout);
}

void connect_unix(Engine& engine, int task, std::shared_ptr<ConnectSpec> spec) {
  using asio::local::stream_protocol;
  auto socket = std::make_shared<stream_protocol::socket>(engine.io());
  auto timer = std::make_shared<asio::steady_timer>(engine.io());
  timer->expires_at(deadline_after(spec->timeout));
  timer->async_wait([socket](const error_code& ec) {
    if (!ec) socket->close();
  });
  socket->async_connect(stream_protocol::endpoint(spec->path), [&engine, task, spec, socket,
                                                                timer](const error_code& ec) {
    timer->cancel();
    if (ec) {
      std::string why = ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor
                            ? "no answer within " + seconds_text(spec->timeout) + " s"
                            : ec.message();
      engine.wake(task, [spec, why](lua_State* co) {
        push_connect_error(co, "cannot connect to " + spec->path + ": " + why);
        return 2;
      });
      return;
    }
    complete(engine, task, *spec, std::make_unique<net::UnixTransport>(std::move(*socket)),
             spec->path);
  });
}

// A port given as digits, or nullopt (a service name is for the resolver).
std::optional<unsigned short> numeric_port(const std::string& port) {
  if (port.empty() || port.size() > 5) return std::nullopt;
  if (port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  unsigned long v = std::stoul(port);
  if (v > 65535) return std::nullopt;
  return static_cast<unsigned short>(v);
}

// An address as inet_ntop writes it; IPv4 by hand (inet_ntop took ~1,700 instructions of the
// ~10,000 of a loopback connect: every conversation of a load test opens one).
std::string address_text(const asio::ip::address& address) {
  if (!address.is_v4()) return address.to_string();
  auto bytes = address.to_v4().to_bytes();
  char text[16];
  char* out = text;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    unsigned v = bytes[i];
    if (i > 0) *out++ = '.';
    if (v >= 100) *out++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *out++ = static_cast<char>('0' + v / 10 % 10);
    *out++ = static_cast<char>('0' + v % 10);
  }
  return std::string(text, static_cast<std::size_t>(out - text));
}

// "127.0.0.1:25", or "[::1]:25" (and "name (address:port)" when the script gave a name).
std::string endpoint_label(const ConnectSpec& spec, const tcp::endpoint& ep) {
  std::string address = address_text(ep.address());
  std::string label =
      ep.address().is_v6() ? "[" + address + "]:" + spec.port : address + ":" + spec.port;
  if (spec.host != address) label = spec.host + " (" + label + ")";
  return label;
}

enum class Now { connected, refused, later };

// On loopback the kernel runs both ends of the handshake within connect(): the connection is
// up when it returns, and the conversation need not wait for it (a wait is a yield, which is
// the costliest step of a conversation). Anything else (a name, another address, a handshake
// still in progress) goes the asynchronous way, with its timeout.
Now connect_now(const ConnectSpec& spec, tcp::socket& socket, tcp::endpoint& ep,
                error_code& error) {
  error_code ec;
  auto address = asio::ip::make_address(spec.host, ec);
  auto port = numeric_port(spec.port);
  if (ec || !port || !address.is_loopback()) return Now::later;
  ep = tcp::endpoint(address, *port);
  socket.open(ep.protocol(), ec);
  if (!ec) socket.non_blocking(true, ec);
  if (ec) return Now::later;
  int fd = socket.native_handle();
  int rc = ::connect(fd, ep.data(), static_cast<socklen_t>(ep.size()));
  int err = rc == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    // Asked again, connect() says how the handshake went in one call (poll + SO_ERROR took
    // two): EISCONN when it is up, EALREADY while it goes on, else why it failed.
    rc = ::connect(fd, ep.data(), static_cast<socklen_t>(ep.size()));
    err = rc == 0 || errno == EISCONN ? 0 : errno == EALREADY ? EINPROGRESS : errno;
  }
  if (err == 0) return Now::connected;
  socket.close(ec);
  if (err != ECONNREFUSED) return Now::later;
  error = error_code(err, boost::system::system_category());
  return Now::refused;
}

void connect_tcp(Engine& engine, int task, std::shared_ptr<ConnectSpec> spec) {
  auto op = std::make_shared<ConnectOp>(engine.io());
  std::string where = spec->host + ":" + spec->port;
  auto fail = [&engine, task](std::string msg) {
    engine.wake(task, [msg](lua_State* co) {
      push_connect_error(co, msg);
      return 2;
    });
  };
  op->timer.expires_at(deadline_after(spec->timeout));
  op->timer.async_wait([op](const error_code& ec) {
    if (ec) return;
    op->timed_out = true;
    op->resolver.cancel();
    error_code ignored;
    op->socket.close(ignored);
  });
  auto connected = [&engine, task, spec, op, where, fail](const error_code& ec,
                                                          const tcp::endpoint& ep) {
    op->timer.cancel();
    if (ec) {
      return fail(op->timed_out ? "cannot connect to " + where + ": no answer within " +
                                      seconds_text(spec->timeout) + " s"
                                : "cannot connect to " + where + ": " + ec.message());
    }
    error_code ignored;
    op->socket.set_option(tcp::no_delay(true), ignored);
    complete(engine, task, *spec, std::make_unique<net::TcpTransport>(std::move(op->socket)),
             endpoint_label(*spec, ep));
  };
  // An address and a port in digits need no resolver, whose lookups run on a thread of their
  // own (a hand-over each way per connection): connect at once.
  error_code numeric;
  auto address = asio::ip::make_address(spec->host, numeric);
  if (auto port = numeric_port(spec->port); !numeric && port) {
    tcp::endpoint ep(address, *port);
    op->socket.async_connect(ep, [connected, ep](const error_code& ec) { connected(ec, ep); });
    return;
  }
  op->resolver.async_resolve(
      spec->host, spec->port,
      [spec, op, fail, connected](const error_code& ec, tcp::resolver::results_type results) {
        if (ec) {
          op->timer.cancel();
          return fail(op->timed_out ? "cannot resolve " + spec->host + ": no answer within " +
                                          seconds_text(spec->timeout) + " s"
                                    : "cannot resolve " + spec->host + ": " + ec.message());
        }
        asio::async_connect(op->socket, results, connected);
      });
}

// connect(host, port [, options]) or connect{host=, port=, tls=, sni=, verify=, ca=, ...}
// Returns 1 with the connection pushed when it is up at once (plain TCP on loopback), else
// starts connecting and waits (suspend).
int l_connect(lua_State* L) {
  Engine& engine = Engine::of(L);
  auto spec = std::make_shared<ConnectSpec>(read_spec(L, engine));
  spec->framer = framing::make_framer(spec->framing, spec->limits);
  if (!spec->framer) raise_text(L, "connect: unknown framing \"%s\"", spec->framing.c_str());
  if (spec->tls) net::make_client_context(spec->tls_options);  // a bad ca= fails here, at once
  Task* running = Engine::task_of(L);
  if (running != nullptr && spec->path.empty() && !spec->tls) {
    tcp::socket socket(engine.io());
    tcp::endpoint ep;
    error_code refused;
    Now now = connect_now(*spec, socket, ep, refused);
    if (now == Now::refused) {
      raise(L, kNetworkError, "network",
            "cannot connect to " + spec->host + ":" + spec->port + ": " + refused.message());
    }
    if (now == Now::connected) {
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::string label = endpoint_label(*spec, ep);
      push_conn(L, wrap_connected(engine, running->id, *spec,
                                  std::make_unique<net::TcpTransport>(std::move(socket)), label));
      return 1;
    }
  }
  int task = engine.prepare_wait(L);
  if (!spec->path.empty()) {
    connect_unix(engine, task, spec);
  } else {
    connect_tcp(engine, task, spec);
  }
  return suspend(L);
}

// exec{"program", "arg", ..., framing=, timeout=}: talk to a program over its stdin/stdout.
int l_exec(lua_State* L) {
  Engine& engine = Engine::of(L);
  check_type(L, 1, LUA_TTABLE);
  std::vector<std::string> argv;
  for (lua_Integer i = 1;; ++i) {
    if (lua_rawgeti(L, 1, i) == LUA_TNIL) break;
    argv.emplace_back(check_bytes(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (argv.empty()) raise_text(L, "exec: no program given");
  std::string label = argv[0];
  for (std::size_t i = 1; i < argv.size(); ++i) label += " " + argv[i];
  std::unique_ptr<net::Transport> transport;
  try {
    transport = net::spawn_process(engine.io(), argv);
  } catch (const std::system_error& e) {
    raise(L, kNetworkError, "network", "cannot run " + label + ": " + e.code().message());
  }
  auto conn = make_conn(engine, std::move(transport), label, false, -1);
  if (auto v = opt_number_field(L, 1, "timeout")) conn->timeout = *v;
  if (auto v = opt_string_field(L, 1, "framing")) set_framing(L, *conn, *v);
  conn->note("started " + label);
  push_conn(L, conn);
  return 1;
}

//---------------------------------------------------------------------------------------------
// Listeners

struct Listener {
  explicit Listener(asio::io_context& io) : acceptor(io) {}
  tcp::acceptor acceptor;
  std::string host;
  int port = 0;
  std::string tls_mode = "none";  // none, implicit, starttls
  std::shared_ptr<net::ssl::context> ctx;
  std::string cert_pem;
  bool show = false;
  std::optional<report::LoginProtocol> hide_logins;
  int canceller = 0;
  bool busy = false;
};

std::shared_ptr<Listener>& check_listener(lua_State* L) {
  return *static_cast<std::shared_ptr<Listener>*>(check_udata(L, 1, kListenerMeta));
}

// listen{host="127.0.0.1", port=0, tls=false|true|"starttls", cert=, key=, transcript=,
//        cert_profile="expired"|"wrong-host", hide_logins="smtp"|"pop3"|"imap"}
int l_listen(lua_State* L) {
  Engine& engine = Engine::of(L);
  if (lua_isnoneornil(L, 1)) lua_newtable(L), lua_replace(L, 1);
  check_type(L, 1, LUA_TTABLE);
  auto lst = std::make_shared<Listener>(engine.io());
  lst->host = opt_string_field(L, 1, "host").value_or("127.0.0.1");
  lst->port = static_cast<int>(opt_number_field(L, 1, "port").value_or(0));
  lst->show = opt_bool_field(L, 1, "transcript").value_or(engine.options().verbose);
  if (auto proto = opt_string_field(L, 1, "hide_logins")) {
    lst->hide_logins = report::login_protocol(*proto);
    if (!lst->hide_logins)
      raise_text(L, "listen: hide_logins must be \"smtp\", \"pop3\" or \"imap\"");
  }
  if (raw_field(L, 1, "tls") == LUA_TSTRING) {
    std::string mode = lua_tostring(L, -1);
    if (mode != "starttls" && mode != "implicit") {
      raise_text(L, "listen: tls must be false, true, \"implicit\" or \"starttls\"");
    }
    lst->tls_mode = mode;
  } else if (lua_toboolean(L, -1)) {
    lst->tls_mode = "implicit";
  }
  lua_pop(L, 1);
  std::string cert = opt_string_field(L, 1, "cert").value_or("");
  std::string key = opt_string_field(L, 1, "key").value_or("");
  std::string profile = opt_string_field(L, 1, "cert_profile").value_or("");
  if (lst->tls_mode != "none" || !cert.empty() || !profile.empty()) {
    lst->ctx = net::make_server_context(cert, key, lst->cert_pem, profile);
  }
  error_code ec;
  auto address = asio::ip::make_address(lst->host, ec);
  if (ec) raise_text(L, "listen: host must be an IP address, not \"%s\"", lst->host.c_str());
  tcp::endpoint ep(address, static_cast<unsigned short>(lst->port));
  lst->acceptor.open(ep.protocol(), ec);
  if (!ec) lst->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) lst->acceptor.bind(ep, ec);
  if (!ec) lst->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    raise(L, kNetworkError, "network",
          "cannot listen on " + lst->host + ":" + std::to_string(lst->port) + ": " + ec.message());
  }
  lst->port = lst->acceptor.local_endpoint().port();
  std::weak_ptr<Listener> weak = lst;
  lst->canceller = engine.add_canceller([weak] {
    if (auto l = weak.lock()) {
      error_code ignored;
      l->acceptor.close(ignored);
    }
  });
  auto* p = static_cast<std::shared_ptr<Listener>*>(
      lua_newuserdatauv(L, sizeof(std::shared_ptr<Listener>), 0));
  new (p) std::shared_ptr<Listener>(std::move(lst));
  luaL_setmetatable(L, kListenerMeta);
  return 1;
}

// srv:accept([timeout | {timeout=}]) -> connection
int l_accept(lua_State* L) {
  std::shared_ptr<Listener> lst = check_listener(L);
  Engine& engine = Engine::of(L);
  if (!lst->acceptor.is_open()) raise_text(L, "accept: the listener is closed");
  if (lst->busy) raise_text(L, "accept: another conversation is already waiting on this listener");
  double timeout = engine.options().timeout;
  if (lua_isnumber(L, 2)) timeout = lua_tonumber(L, 2);
  if (lua_istable(L, 2)) timeout = opt_number_field(L, 2, "timeout").value_or(timeout);
  int task = engine.prepare_wait(L);
  lst->busy = true;
  auto socket = std::make_shared<tcp::socket>(engine.io());
  auto timer = std::make_shared<asio::steady_timer>(engine.io());
  auto timed_out = std::make_shared<bool>(false);
  timer->expires_at(deadline_after(timeout));
  timer->async_wait([lst, timed_out](const error_code& ec) {
    if (ec) return;
    *timed_out = true;
    error_code ignored;
    lst->acceptor.cancel(ignored);
  });
  lst->acceptor.async_accept(
      *socket, [&engine, task, lst, socket, timer, timed_out, timeout](const error_code& ec) {
        timer->cancel();
        lst->busy = false;
        std::string where = lst->host + ":" + std::to_string(lst->port);
        if (ec) {
          std::string msg = *timed_out ? "no client connected to " + where + " within " +
                                             seconds_text(timeout) + " s"
                                       : "accepting on " + where + " failed: " + ec.message();
          int exit = *timed_out ? kFailed : kNetworkError;
          engine.wake(task, [msg, exit](lua_State* co) {
            lua_pushboolean(co, 0);
            push_error(co, exit, exit == kFailed ? "timeout" : "network", msg);
            return 2;
          });
          return;
        }
        error_code ignored;
        socket->set_option(tcp::no_delay(true), ignored);
        auto remote = socket->remote_endpoint(ignored);
        std::string label = remote.address().to_string() + ":" + std::to_string(remote.port());
        auto conn = make_conn(engine, std::make_unique<net::TcpTransport>(std::move(*socket)),
                              label, true, task);
        conn->show = lst->show;
        if (lst->hide_logins) conn->login_mask.emplace(*lst->hide_logins);
        conn->server_ctx = lst->ctx;
        conn->host = remote.address().to_string();
        conn->port = remote.port();
        conn->note("accepted " + label + " on " + where);
        if (lst->tls_mode != "implicit") {
          engine.wake(task, [conn](lua_State* co) {
            lua_pushboolean(co, 1);
            push_conn(co, conn);
            return 2;
          });
          return;
        }
        handshake_then_wake(engine, task, conn, lst->ctx, nullptr, conn->timeout);
      });
  return suspend(L);
}

int l_listener_close(lua_State* L) {
  auto& lst = check_listener(L);
  if (!lst) return 0;
  error_code ignored;
  lst->acceptor.close(ignored);
  Engine::of(L).remove_canceller(lst->canceller);
  return 0;
}

int l_listener_gc(lua_State* L) {
  l_listener_close(L);
  check_listener(L).~shared_ptr();
  return 0;
}

const char* const kListenerFields[] = {"port", "host", "cert_pem", "tls", nullptr};

// Methods, then fields; any other name says what a listener has.
int l_listener_index(lua_State* L) {
  auto& lst = check_listener(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kListenerMethodsKey);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, -2) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  std::string_view key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
  if (key == "port") {
    lua_pushinteger(L, lst->port);
  } else if (key == "host") {
    lua_pushstring(L, lst->host.c_str());
  } else if (key == "cert_pem") {
    if (lst->cert_pem.empty()) return lua_pushnil(L), 1;
    lua_pushlstring(L, lst->cert_pem.data(), lst->cert_pem.size());
  } else if (key == "tls") {
    lua_pushstring(L, lst->tls_mode.c_str());
  } else if (key.empty() || key[0] == '_') {
    lua_pushnil(L);
  } else {
    raise_no_method(L, "a listener", 2, -1, kListenerFields);
  }
  return 1;
}

}  // namespace

void open_connections(lua_State* L) {
  open_connection_methods(L);
  luaL_newmetatable(L, kListenerMeta);
  const luaL_Reg meta[] = {{"__index", protect<l_listener_index>},
                           {"__gc", protect<l_listener_gc>},
                           {"__close", protect<l_listener_close>},
                           {nullptr, nullptr}};
  luaL_setfuncs(L, meta, 0);
  lua_pushliteral(L, "listener");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
  const luaL_Reg methods[] = {
      {"accept", protect<l_accept>}, {"close", protect<l_listener_close>}, {nullptr, nullptr}};
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kListenerMethodsKey);

  const luaL_Reg globals[] = {{"connect", protect<l_connect>},
                              {"exec", protect<l_exec>},
                              {"listen", protect<l_listen>},
                              {nullptr, nullptr}};
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "parley");
  for (const luaL_Reg* r = globals; r->name != nullptr; ++r) {
    lua_pushcfunction(L, r->func);
    lua_pushvalue(L, -1);
    lua_setglobal(L, r->name);
    lua_setfield(L, -2, r->name);
  }
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kListenerMethodsKey);
  lua_setfield(L, -2, "listener_methods");
  lua_pop(L, 2);
}

}  // namespace parley::script
