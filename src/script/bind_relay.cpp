// parley.relay: both directions of a proxied conversation at once (parley record).
//
// A connection has one waiter at a time, so a script cannot read the client and the server
// together with read(). A relay reads both, straight from their transports, and hands each
// chunk to the script as it arrives (r:next); the script forwards it (r:write) and records
// it. r:stop() ends the reading and puts what was not handed out back into the connections,
// which are then ordinary connections again (for a STARTTLS handshake, say).
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>

#include "script/conn.hpp"
#include "script/engine.hpp"
#include "script/lua_util.hpp"

namespace parley::script {

namespace {

const char* kRelayMeta = "parley.relay";
const char* kConnMeta = "parley.conn";
constexpr std::size_t kChunk = 16 * 1024;

struct Chunk {
  int side;
  std::string bytes;
  std::string end;  ///< "", "eof", or an error message
};

struct Relay : std::enable_shared_from_this<Relay> {
  struct Side {
    std::shared_ptr<ScriptConn> conn;
    bool reading = false;
    bool ended = false;
    std::unique_ptr<char[]> buf{new char[kChunk]};
  };
  Engine* engine = nullptr;
  Side sides[2];
  std::deque<Chunk> queue;
  bool stopping = false;
  int waiter = 0;  ///< the task id of r:next waiting for a chunk (0: none)
  std::shared_ptr<boost::asio::steady_timer> timer;
  int stopper = 0;  ///< the task id of r:stop waiting for the reads to end (0: none)

  void read(int i) {
    Side& s = sides[i];
    if (s.ended || stopping || s.reading || s.conn->net->closed()) return;
    s.reading = true;
    s.conn->net->transport().read_some(
        boost::asio::buffer(s.buf.get(), kChunk),
        [self = shared_from_this(), i](const boost::system::error_code& ec, std::size_t n) {
          self->on_read(i, ec, n);
        });
  }

  void on_read(int i, const boost::system::error_code& ec, std::size_t n) {
    Side& s = sides[i];
    s.reading = false;
    if (n > 0) queue.push_back({i, std::string(s.buf.get(), n), {}});
    if (ec && !(stopping && ec == boost::asio::error::operation_aborted)) {
      s.ended = true;
      bool eof = ec == boost::asio::error::eof || ec == boost::asio::ssl::error::stream_truncated;
      queue.push_back({i, {}, eof ? "eof" : ec.message()});
    }
    if (!ec) read(i);
    hand_out();
    if (stopping && stopper != 0 && !sides[0].reading && !sides[1].reading) {
      int t = stopper;
      stopper = 0;
      put_back();
      engine->wake(t, [](lua_State* co) {
        lua_pushboolean(co, 1);
        return 1;
      });
    }
  }

  // Wakes a waiting r:next with the oldest chunk.
  void hand_out() {
    if (waiter == 0 || queue.empty()) return;
    int t = waiter;
    waiter = 0;
    if (timer) timer->cancel();
    Chunk c = std::move(queue.front());
    queue.pop_front();
    engine->wake(t, [c = std::move(c)](lua_State* co) {
      lua_pushboolean(co, 1);
      return 1 + push_chunk(co, c);
    });
  }

  static int push_chunk(lua_State* L, const Chunk& c) {
    lua_pushinteger(L, c.side + 1);
    if (c.end.empty()) {
      lua_pushlstring(L, c.bytes.data(), c.bytes.size());
      return 2;
    }
    lua_pushnil(L);
    lua_pushlstring(L, c.end.data(), c.end.size());
    return 3;
  }

  // What was read and not handed out goes back to its connection, in order.
  void put_back() {
    std::string rest[2];
    for (const auto& c : queue) rest[c.side] += c.bytes;
    queue.clear();
    for (int i = 0; i < 2; ++i) {
      if (!rest[i].empty()) sides[i].conn->net->input().unread(rest[i]);
    }
  }
};

std::shared_ptr<Relay>& check_relay(lua_State* L) {
  return *static_cast<std::shared_ptr<Relay>*>(check_udata(L, 1, kRelayMeta));
}

std::shared_ptr<ScriptConn>& check_script_conn(lua_State* L, int idx) {
  return static_cast<ConnUserdata*>(check_udata(L, idx, kConnMeta))->conn;
}

int side_arg(lua_State* L, int idx) {
  lua_Integer side = check_integer(L, idx);
  arg_check(L, side == 1 || side == 2, idx, "1 or 2");
  return static_cast<int>(side - 1);
}

// parley.relay.new(a, b) -> relay, reading both
int l_new(lua_State* L) {
  auto relay = std::make_shared<Relay>();
  relay->engine = &Engine::of(L);
  for (int i = 0; i < 2; ++i) {
    auto& conn = check_script_conn(L, i + 1);
    if (conn->net->closed()) arg_error(L, i + 1, "the connection is closed");
    if (conn->net->busy())
      arg_error(L, i + 1, "the connection is busy (one waiter per connection)");
    relay->sides[i].conn = conn;
    // What a framer holds or the buffer has already received comes first.
    conn->net->input().unread(conn->framer->take_partial());
    if (!conn->net->input().empty()) {
      relay->queue.push_back({i, conn->net->input().take_all(), {}});
    }
    if (conn->net->at_eof()) {
      relay->sides[i].ended = true;
      relay->queue.push_back({i, {}, "eof"});
    }
  }
  auto* p =
      static_cast<std::shared_ptr<Relay>*>(lua_newuserdatauv(L, sizeof(std::shared_ptr<Relay>), 0));
  new (p) std::shared_ptr<Relay>(relay);
  luaL_setmetatable(L, kRelayMeta);
  relay->read(0);
  relay->read(1);
  return 1;
}

// r:next([timeout]) -> side, bytes | side, nil, "eof"|error | nil, "timeout"
int l_next(lua_State* L) {
  auto relay = check_relay(L);
  double timeout = opt_number(L, 2, Engine::of(L).options().timeout);
  if (relay->stopping) raise_text(L, "relay: stopped");
  if (relay->waiter != 0) raise_text(L, "relay: another conversation is waiting on it");
  if (!relay->queue.empty()) {
    Chunk c = std::move(relay->queue.front());
    relay->queue.pop_front();
    return Relay::push_chunk(L, c);
  }
  if (relay->sides[0].ended && relay->sides[1].ended) {
    lua_pushnil(L);
    lua_pushliteral(L, "eof");
    return 2;
  }
  Engine& engine = Engine::of(L);
  int task = engine.prepare_wait(L);
  relay->waiter = task;
  relay->timer = std::make_shared<boost::asio::steady_timer>(engine.io());
  relay->timer->expires_at(deadline_after(timeout));
  auto timer = relay->timer;
  int canceller = engine.add_canceller([timer] { timer->cancel(); });
  timer->async_wait([relay, task, canceller, &engine](const boost::system::error_code& ec) {
    engine.remove_canceller(canceller);
    if (ec || relay->waiter != task) return;
    relay->waiter = 0;
    engine.wake(task, [](lua_State* co) {
      lua_pushboolean(co, 1);
      lua_pushnil(co);
      lua_pushliteral(co, "timeout");
      return 3;
    });
  });
  return suspend(L);
}

// r:write(side, bytes): sends the bytes to that side (waits until the transport took them).
int l_write(lua_State* L) {
  auto relay = check_relay(L);
  int side = side_arg(L, 2);
  std::string_view bytes = check_bytes(L, 3);
  auto conn = relay->sides[side].conn;
  if (conn->net->closed()) {
    raise(L, kNetworkError, "network", "relay: the connection to " + conn->label + " is closed");
  }
  auto& transport = conn->net->transport();
  std::size_t sent = transport.write_now(boost::asio::buffer(bytes.data(), bytes.size()));
  if (sent == bytes.size()) return 0;
  Engine& engine = Engine::of(L);
  auto data = std::make_shared<std::string>(bytes.substr(sent));
  int task = engine.prepare_wait(L);
  double timeout = conn->timeout;
  auto timer = std::make_shared<boost::asio::steady_timer>(engine.io());
  timer->expires_at(deadline_after(timeout));
  timer->async_wait([conn](const boost::system::error_code& ec) {
    if (!ec) conn->net->close(true);  // the peer took nothing for the whole timeout
  });
  transport.write_all(
      boost::asio::buffer(*data),
      [data, conn, task, timer, &engine](const boost::system::error_code& ec, std::size_t) {
        timer->cancel();
        engine.wake(task, [ec, conn](lua_State* co) {
          if (!ec) {
            lua_pushboolean(co, 1);
            return 1;
          }
          lua_pushboolean(co, 0);
          push_error(co, kNetworkError, "network",
                     "relay: sending to " + conn->label + " failed: " + ec.message());
          return 2;
        });
      });
  return suspend(L);
}

// r:stop(): ends the reading; unread bytes go back to the connections.
int l_stop(lua_State* L) {
  auto relay = check_relay(L);
  if (relay->stopping) return 0;
  relay->stopping = true;
  bool pending = false;
  for (auto& s : relay->sides) {
    if (s.reading) {
      pending = true;
      s.conn->net->transport().cancel();
    }
  }
  if (!pending) {
    relay->put_back();
    return 0;
  }
  relay->stopper = Engine::of(L).prepare_wait(L);
  return suspend(L);
}

// r:log(side, bytes): shows bytes from side 1 (the client) or 2 (the server) in the
// transcript, as one conversation on the second connection: ` -> ` what the client said,
// `<- ` what the server said (masked like every transcript line).
int l_log(lua_State* L) {
  auto relay = check_relay(L);
  int side = side_arg(L, 2);
  std::string_view bytes = check_bytes(L, 3);
  if (side == 0) {
    relay->sides[1].conn->log_sent_bytes(bytes);
  } else {
    relay->sides[1].conn->log_received(bytes);
  }
  return 0;
}

int l_gc(lua_State* L) {
  auto* p = static_cast<std::shared_ptr<Relay>*>(check_udata(L, 1, kRelayMeta));
  (*p)->stopping = true;  // reads in flight end by themselves
  p->~shared_ptr();
  return 0;
}

}  // namespace

void open_relay(lua_State* L) {
  luaL_newmetatable(L, kRelayMeta);
  const luaL_Reg methods[] = {{"next", protect<l_next>},
                              {"write", protect<l_write>},
                              {"stop", protect<l_stop>},
                              {"log", protect<l_log>},
                              {nullptr, nullptr}};
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, protect<l_gc>);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  const luaL_Reg funcs[] = {{"new", protect<l_new>}, {nullptr, nullptr}};
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  luaL_newlib(L, funcs);
  lua_setfield(L, -2, "parley.relay");
  lua_pop(L, 1);
}

}  // namespace parley::script
