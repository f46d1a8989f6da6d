// Connection methods: send, send_raw, read_reply, read_line, read, starttls, close, and the
// fields (c.tls, c.host, ...). expect, on and off are Lua, in lua/parley/core.lua (loaded on
// first use: see load_core_methods).
#include <boost/asio/ssl/context.hpp>
#include <cmath>
#include <cstring>
#include <utility>

#include "script/conn.hpp"
#include "script/engine.hpp"
#include "script/lua_util.hpp"

namespace parley::script {

namespace {

const char* kConnMeta = "parley.conn";
const char kMethodsKey = 'M';

using framing::InputBuffer;

// Known by its size and mark (ConnUserdata), without its metatable: ~50 instructions instead
// of ~150, and every method of every command checks its connection.
std::shared_ptr<ScriptConn>& check_conn(lua_State* L, int idx = 1) {
  void* p = lua_touserdata(L, idx);
  // (lua_rawlen is 0 for a light userdata; the size is checked before the mark is read)
  if (p != nullptr && lua_rawlen(L, idx) == sizeof(ConnUserdata) &&
      static_cast<ConnUserdata*>(p)->mark == &kConnMark) {
    return static_cast<ConnUserdata*>(p)->conn;
  }
  return static_cast<ConnUserdata*>(check_udata(L, idx, kConnMeta))->conn;
}

// A usable connection: open and with no other operation pending.
std::shared_ptr<ScriptConn>& usable_conn(lua_State* L, const char* op) {
  std::shared_ptr<ScriptConn>& conn = check_conn(L);
  ScriptConn& c = *conn;
  if (c.net->closed()) {
    raise(
        L, kScriptError, "script",
        std::string(op) + ": connection " + std::to_string(c.id) + " to " + c.label + " is closed");
  }
  if (c.net->busy()) {
    raise(L, kScriptError, "script",
          std::string(op) + ": connection " + std::to_string(c.id) +
              " is busy: another conversation is waiting on it (one waiter per connection)");
  }
  return conn;
}

ScriptConn& usable(lua_State* L, const char* op) {
  return *usable_conn(L, op);
}

double op_timeout(lua_State* L, int idx, const ScriptConn& c) {
  if (lua_isnoneornil(L, idx)) return c.timeout;
  if (lua_istable(L, idx)) {
    auto t = opt_number_field(L, idx, "timeout");
    return t ? *t : c.timeout;
  }
  return check_number(L, idx);
}

//---------------------------------------------------------------------------------------------
// Reading

// What a read wants from the buffer; take() returns true when satisfied or failed (error set).
// A read that has to wait is its own net::ReadWaiter: while it waits it holds the connection
// and the task to wake, and nothing else is allocated for it.
struct Reader : net::ReadWaiter {
  virtual bool take(ScriptConn& c, InputBuffer& in, bool eof) = 0;
  virtual int push(lua_State* L) = 0;
  std::string error;

  // While waiting:
  std::shared_ptr<ScriptConn> conn;
  Engine* engine = nullptr;
  int task = 0;
  bool extract(InputBuffer& in, bool eof) override { return take(*conn, in, eof); }
  void done(std::shared_ptr<net::ReadWaiter> self, const net::Outcome& o) override;
};

// A response whose big literals were received into blocks (framing::Unit::literal_blocks):
// Lua took them over as the strings of `literals`, and `raw` would be as big again. It is put
// together when first read (r.raw, or pairs(r)) from what its metatable keeps: [1] the bytes of
// raw without those literals, [2] {position in [1], literal string, ...}. Then the reply is a
// plain table again.
void materialize_raw(lua_State* L, int reply) {
  if (!lua_getmetatable(L, reply)) return;
  int meta = lua_gettop(L);
  if (lua_rawgeti(L, meta, 1) != LUA_TSTRING || lua_rawgeti(L, meta, 2) != LUA_TTABLE) {
    lua_settop(L, meta - 1);
    return;
  }
  std::size_t rest_size = 0;
  const char* rest = lua_tolstring(L, meta + 1, &rest_size);
  auto pieces = static_cast<lua_Integer>(lua_rawlen(L, meta + 2));
  std::size_t size = rest_size;
  for (lua_Integer i = 2; i <= pieces; i += 2) {
    lua_rawgeti(L, meta + 2, i);
    size += lua_rawlen(L, -1);
    lua_pop(L, 1);
  }
  framing::Block whole(Engine::of(L).string_head());
  whole.reserve(size);
  std::size_t taken = 0;
  for (lua_Integer i = 1; i + 1 <= pieces; i += 2) {
    lua_rawgeti(L, meta + 2, i);
    auto at = static_cast<std::size_t>(lua_tointeger(L, -1));
    lua_rawgeti(L, meta + 2, i + 1);
    std::size_t length = 0;
    const char* literal = lua_tolstring(L, -1, &length);
    whole.append(std::string_view(rest + taken, at - taken));
    whole.append(std::string_view(literal, length));
    taken = at;
    lua_pop(L, 2);
  }
  whole.append(std::string_view(rest + taken, rest_size - taken));
  lua_pushliteral(L, "raw");
  if (lua_rawget(L, reply) == LUA_TNIL) {  // (unless the script has set one)
    lua_pop(L, 1);
    Engine::push_block(L, whole);
    lua_setfield(L, reply, "raw");
  } else {
    lua_pop(L, 1);
  }
  lua_settop(L, meta - 1);
  lua_pushnil(L);
  lua_setmetatable(L, reply);
}

int l_reply_index(lua_State* L) {
  if (lua_type(L, 2) != LUA_TSTRING || std::string_view(lua_tostring(L, 2)) != "raw") return 0;
  materialize_raw(L, 1);
  lua_getfield(L, 1, "raw");
  return 1;
}

int l_reply_next(lua_State* L) {
  lua_settop(L, 2);
  if (lua_next(L, 1) != 0) return 2;
  lua_pushnil(L);
  return 1;
}

int l_reply_pairs(lua_State* L) {
  materialize_raw(L, 1);
  lua_pushcfunction(L, l_reply_next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

// Takes the unit's blocks (Unit::literal_blocks) over as strings.
void push_unit(lua_State* L, framing::Unit& u, std::string_view framing_name) {
  // Sized to the fields it gets: a bigger hash part is more memory to allocate and collect
  // for every reply (a load test makes thousands a second).
  bool pop3 = framing_name == "pop3";
  int fields = 3 + (u.code ? 2 : 0) + (u.enhanced.empty() ? 0 : 1) +
               (u.status.empty() ? 0 : (pop3 ? 2 : 1)) +
               (u.literals.empty() && u.literal_spans.empty() ? 0 : 1) +
               (u.violations.empty() ? 0 : 1);
  lua_createtable(L, 0, fields);
  int reply = lua_gettop(L);
  if (u.code) {
    lua_pushinteger(L, *u.code);
    lua_setfield(L, -2, "code");
    lua_pushinteger(L, *u.code / 100);
    lua_setfield(L, -2, "class");
  }
  if (!u.enhanced.empty()) {
    lua_pushlstring(L, u.enhanced.data(), u.enhanced.size());
    lua_setfield(L, -2, "enhanced");
  }
  if (!u.status.empty()) {
    lua_pushlstring(L, u.status.data(), u.status.size());
    lua_setfield(L, -2, framing_name == "imap" ? "tag" : "status");
    if (pop3) {
      lua_pushboolean(L, u.status == "+OK");
      lua_setfield(L, -2, "ok");
    }
  }
  lua_pushlstring(L, u.text.data(), u.text.size());
  lua_pushvalue(L, -1);
  lua_setfield(L, reply, "text");  // (and kept below it: the line of a one-line reply)
  bool blocks = u.has_blocks();
  if (!blocks) {
    lua_pushlstring(L, u.raw.data(), u.raw.size());
    lua_setfield(L, reply, "raw");
  }
  auto push_list = [L, reply](const std::vector<std::string>& list, const char* name) {
    lua_createtable(L, static_cast<int>(list.size()), 0);
    for (std::size_t i = 0; i < list.size(); ++i) {
      lua_pushlstring(L, list[i].data(), list[i].size());
      lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
    }
    lua_setfield(L, reply, name);
  };
  if (u.lines.size() == 1 && u.lines[0] == u.text) {
    // Most replies are one line, whose text it is: the same string, not made again.
    lua_createtable(L, 1, 0);
    lua_rotate(L, -2, 1);
    lua_rawseti(L, -2, 1);
    lua_setfield(L, reply, "lines");
  } else {
    lua_pop(L, 1);
    push_list(u.lines, "lines");
  }
  if (!u.literals.empty()) {
    push_list(u.literals, "literals");
  } else if (!u.literal_spans.empty()) {
    // Literals left in raw by the framer (literals_as_spans), big ones in blocks of their own
    // (literals_in_blocks): one copy less of each, and none of those.
    lua_createtable(L, static_cast<int>(u.literal_spans.size()), 0);
    int literals = lua_gettop(L);
    if (blocks) lua_createtable(L, 2, 0);  // the pieces for materialize_raw
    std::size_t held = 0;  // bytes of the literals before this one that are not in u.raw
    for (std::size_t i = 0; i < u.literal_spans.size(); ++i) {
      auto [offset, length] = u.literal_spans[i];
      if (i < u.literal_blocks.size() && u.literal_blocks[i].allocated()) {
        auto n = static_cast<lua_Integer>(lua_rawlen(L, literals + 1));
        lua_pushinteger(L, static_cast<lua_Integer>(offset - held));  // where it goes in u.raw
        lua_rawseti(L, literals + 1, n + 1);
        held += u.literal_blocks[i].size();
        Engine::push_block(L, u.literal_blocks[i]);
        lua_pushvalue(L, -1);
        lua_rawseti(L, literals + 1, n + 2);
      } else {
        lua_pushlstring(L, u.raw.data() + (offset - held), length);
      }
      lua_rawseti(L, literals, static_cast<lua_Integer>(i + 1));
    }
    if (blocks) {
      lua_createtable(L, 2, 2);
      lua_pushlstring(L, u.raw.data(), u.raw.size());
      lua_rawseti(L, -2, 1);
      lua_pushvalue(L, -2);
      lua_rawseti(L, -2, 2);
      lua_pushcfunction(L, protect<l_reply_index>);
      lua_setfield(L, -2, "__index");
      lua_pushcfunction(L, protect<l_reply_pairs>);
      lua_setfield(L, -2, "__pairs");
      lua_setmetatable(L, reply);
      lua_pop(L, 1);  // the pieces
    }
    lua_setfield(L, reply, "literals");
  }
  if (!u.violations.empty()) push_list(u.violations, "violations");
}

struct UnitReader final : Reader {
  // Made when the first byte is there: a conversation waiting for a reply that has not come
  // holds no Unit (memory per idle conversation).
  std::unique_ptr<framing::Unit> unit;
  const char* framing_name = "";  // "pop3", "imap" or another: what push_unit tells apart
  bool take(ScriptConn& c, InputBuffer& in, bool eof) override {
    if (!unit && in.empty() && !eof) return false;
    // push_unit takes literals from raw, and big ones as the blocks they were received in
    c.framer->literals_in_blocks(c.engine->string_head());
    c.framer->literals_as_spans(true);
    framing::Status s = c.framer->next_unit(in, unit, error);
    if (s == framing::Status::error) c.framer->reset();
    if (s == framing::Status::unit) {
      // A response with big literals is put together for the transcript only when it shows
      // (-q or transcript=false: a 50 MB FETCH is not copied to be dropped); the login mask
      // still sees its lines.
      if (unit->has_blocks() && c.show && c.engine->transcript().active()) {
        c.log_received(unit->whole_raw());
      } else {
        c.log_received(unit->raw);
      }
    }
    framing_name = c.framing_name == "pop3" ? "pop3" : c.framing_name == "imap" ? "imap" : "";
    return s != framing::Status::need_more;
  }
  int push(lua_State* L) override {
    push_unit(L, *unit, framing_name);
    return 1;
  }
};

struct LineReader final : Reader {
  std::string line;
  bool bare_lf = false;
  bool take(ScriptConn& c, InputBuffer& in, bool) override {
    auto got = framing::take_line(in, c.limits, bare_lf, error);
    if (!got) return !error.empty();
    line = std::move(*got);
    c.log_received_line(line);
    return true;
  }
  // A line ended by a bare LF says so: a server that must not take LF for a line end (SMTP
  // DATA, where <LF>.<LF> would smuggle a second message) can tell.
  int push(lua_State* L) override {
    lua_pushlstring(L, line.data(), line.size());
    if (!bare_lf) return 1;
    lua_pushliteral(L, "bare_lf");
    return 2;
  }
};

struct BytesReader final : Reader {
  std::size_t want = 0;  // 0: whatever is there
  std::string bytes;
  bool take(ScriptConn& c, InputBuffer& in, bool eof) override {
    if (in.empty()) return false;
    if (want > 0 && in.size() < want && !eof) return false;
    std::size_t n = want == 0 ? in.size() : std::min(want, in.size());
    bytes.assign(in.view().substr(0, n));
    in.consume(n);
    c.log_received(bytes);
    return true;
  }
  int push(lua_State* L) override {
    lua_pushlstring(L, bytes.data(), bytes.size());
    return 1;
  }
};

void push_framing_error(lua_State* co, const ScriptConn& c, const std::string& error) {
  push_error(co, kFailed, "protocol",
             "malformed input from " + c.label + ": " + error + "; last bytes received: \"" +
                 report::printable(c.net->recent(), 200) + "\"");
}

// After a read that gave up, the bytes of a partly framed unit go back into the buffer, so
// that the next read (of any kind) sees everything that was received.
void restore_partial(ScriptConn& c) {
  c.net->input().unread(c.framer->take_partial());
}

// Reads with `reader`: at once when the buffer satisfies it (returns the results), else starts
// waiting (returns suspend(L)). Results: the reader's values, or nil and "eof" / "timeout" /
// "closed".
int start_read(lua_State* L, std::shared_ptr<Reader> reader, int timeout_idx, const char* op) {
  std::shared_ptr<ScriptConn>& conn = usable_conn(L, op);
  ScriptConn& c = *conn;
  if (reader->take(c, c.net->input(), c.net->at_eof())) {
    if (!reader->error.empty()) {
      push_framing_error(L, c, reader->error);
      raise_top(L);
    }
    return reader->push(L);
  }
  if (c.net->at_eof()) {
    restore_partial(c);
    lua_pushnil(L);
    lua_pushliteral(L, "eof");
    return 2;
  }
  if (c.net->take_wake()) {
    restore_partial(c);
    lua_pushnil(L);
    lua_pushliteral(L, "woken");
    return 2;
  }
  double timeout = op_timeout(L, timeout_idx, c);
  reader->engine = c.engine;
  reader->task = c.engine->prepare_wait(L);
  reader->conn = conn;
  c.net->wait_for(deadline_after(timeout), std::move(reader));
  return suspend(L);
}

void Reader::done(std::shared_ptr<net::ReadWaiter> self, const net::Outcome& o) {
  // The reader holds its connection only while it waits.
  std::shared_ptr<ScriptConn> c = std::move(conn);
  if (o.end != net::End::done) restore_partial(*c);
  engine->wake(task,
               [c, reader = std::static_pointer_cast<Reader>(std::move(self)), o](lua_State* co) {
                 switch (o.end) {
                   case net::End::done:
                     if (!reader->error.empty()) {
                       lua_pushboolean(co, 0);
                       push_framing_error(co, *c, reader->error);
                       return 2;
                     }
                     lua_pushboolean(co, 1);
                     return 1 + reader->push(co);
                   case net::End::error:
                     lua_pushboolean(co, 0);
                     push_error(co, kNetworkError, "network",
                                "reading from " + c->label + " failed: " + o.error);
                     return 2;
                   default:
                     lua_pushboolean(co, 1);
                     lua_pushnil(co);
                     lua_pushstring(co, o.end == net::End::eof       ? "eof"
                                        : o.end == net::End::timeout ? "timeout"
                                        : o.end == net::End::woken   ? "woken"
                                                                     : "closed");
                     return 3;
                 }
               });
}

// An allocator that keeps the blocks it is given back (up to kKeep, on this thread) for the
// next allocation of the same size: a reply's reader is made and dropped for every reply, and
// malloc and free cost ~150 instructions where this costs ~10.
template <typename T>
struct Recycled {
  using value_type = T;
  static constexpr std::size_t kKeep = 64;
  Recycled() = default;
  template <typename U>
  Recycled(const Recycled<U>&) {}  // NOLINT(google-explicit-constructor): rebinding
  T* allocate(std::size_t n) {
    Pool& pool = pool_of();
    if (n == 1 && pool.head != nullptr) {
      void* block = pool.head;
      pool.head = *static_cast<void**>(block);
      --pool.kept;
      return static_cast<T*>(block);
    }
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) {
    Pool& pool = pool_of();
    if (n == 1 && pool.kept < kKeep) {
      *reinterpret_cast<void**>(p) = pool.head;
      pool.head = p;
      ++pool.kept;
      return;
    }
    ::operator delete(p);
  }
  template <typename U>
  bool operator==(const Recycled<U>&) const {
    return true;
  }

 private:
  static_assert(sizeof(T) >= sizeof(void*));
  struct Pool {
    void* head = nullptr;
    std::size_t kept = 0;
    Pool() = default;
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    ~Pool() {
      while (head != nullptr) ::operator delete(std::exchange(head, *static_cast<void**>(head)));
    }
  };
  static Pool& pool_of() {
    thread_local Pool pool;
    return pool;
  }
};

// c:read_reply([timeout]) -> reply | nil, "eof"|"timeout"|"closed"
int l_read_reply(lua_State* L) {
  return start_read(L, std::allocate_shared<UnitReader>(Recycled<UnitReader>()), 2, "read_reply");
}

// c:read_line([timeout]) -> line without its line end | nil, why
int l_read_line(lua_State* L) {
  return start_read(L, std::make_shared<LineReader>(), 2, "read_line");
}

// c:read([n], [timeout]) -> n bytes (fewer at the end of the stream) or what is there | nil, why
int l_read(lua_State* L) {
  auto reader = std::make_shared<BytesReader>();
  lua_Integer n = opt_integer(L, 2, 0);
  arg_check(L, n >= 0, 2, "a byte count from 0 up");
  reader->want = static_cast<std::size_t>(n);
  return start_read(L, reader, 3, "read");
}

//---------------------------------------------------------------------------------------------
// Writing

// Writes `data`: at once when the socket takes it all (returns the results), else starts an
// asynchronous write of the rest (returns suspend(L)).
// `data` is only looked at here: what the socket does not take at once is copied.
int start_write(lua_State* L, ScriptConn& c, std::string_view data, double timeout) {
  // What the socket takes at once needs no wait: the conversation goes on without yielding
  // (a wait costs a yield, a round through the event loop and a resume).
  std::size_t sent = c.net->write_now(data);
  if (sent == data.size()) {
    lua_pushboolean(L, 1);
    return 1;
  }
  std::shared_ptr<ScriptConn> conn = check_conn(L);
  Engine& engine = *c.engine;
  int task = engine.prepare_wait(L);
  c.net->write(
      std::string(data.substr(sent)), deadline_after(timeout),
      [conn, task, &engine, timeout](const net::Outcome& o) {
        engine.wake(task, [conn, o, timeout](lua_State* co) {
          if (o.end == net::End::done) {
            lua_pushboolean(co, 1);
            lua_pushboolean(co, 1);
            return 2;
          }
          lua_pushboolean(co, 0);
          std::string why = o.end == net::End::timeout ? "the peer did not take the data within " +
                                                             seconds_text(timeout) + " s"
                            : o.end == net::End::closed ? "the connection was closed"
                                                        : o.error;
          push_error(co, kNetworkError, "network", "sending to " + conn->label + " failed: " + why);
          return 2;
        });
      });
  return suspend(L);
}

// c.last_command: the verb of the line sent last ("MAIL", "RCPT", ...), which --strict uses to
// check that a reply code is one the command may get. A script field: libraries may set it.
void remember_command(lua_State* L, std::string_view line) {
  std::size_t end = 0;
  while (end < line.size() && line[end] != ' ' && line[end] != ':') ++end;
  // (the verb up to a NUL byte, as it was when it went through lua_pushstring)
  std::string_view verb = line.substr(0, std::min(end, line.find('\0')));
  std::string upper;
  char small[64];
  char* out = small;
  if (verb.size() > sizeof small) {
    upper.resize(verb.size());
    out = upper.data();
  }
  for (std::size_t i = 0; i < verb.size(); ++i) {
    char ch = verb[i];
    out[i] = ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 'a' + 'A') : ch;
  }
  lua_getiuservalue(L, 1, 1);
  lua_pushlstring(L, out, verb.size());
  lua_setfield(L, -2, "last_command");
  lua_pop(L, 1);
}

// c:send(line): the line and CRLF. A CR or LF inside would smuggle a second command: refused.
int l_send(lua_State* L) {
  ScriptConn& c = usable(L, "send");
  std::string_view line = check_bytes(L, 2);
  // (find_first_of("\r\n") calls memchr for every byte of the line)
  std::size_t bad = 0;
  while (bad < line.size() && line[bad] != '\r' && line[bad] != '\n') ++bad;
  if (bad < line.size()) {
    raise(L, kScriptError, "script",
          "send: the line holds a " + std::string(line[bad] == '\r' ? "CR" : "LF") + " at byte " +
              std::to_string(bad + 1) +
              " (it would start another command); use send_raw to send raw bytes");
  }
  c.log_sent_line(line);
  remember_command(L, line);
  double timeout = op_timeout(L, 3, c);
  // The line and its CRLF: on the stack when it is short (a command), no allocation.
  char small[512];
  if (line.size() + 2 <= sizeof small) {
    std::memcpy(small, line.data(), line.size());
    small[line.size()] = '\r';
    small[line.size() + 1] = '\n';
    return start_write(L, c, std::string_view(small, line.size() + 2), timeout);
  }
  std::string data;
  data.reserve(line.size() + 2);
  data.append(line).append("\r\n");
  return start_write(L, c, data, timeout);
}

// c:send_raw(bytes): exactly these bytes.
int l_send_raw(lua_State* L) {
  ScriptConn& c = usable(L, "send_raw");
  std::string_view bytes = check_bytes(L, 2);
  c.log_sent_bytes(bytes);
  return start_write(L, c, bytes, op_timeout(L, 3, c));
}

//---------------------------------------------------------------------------------------------
// TLS

void read_tls_options(lua_State* L, int idx, net::ClientTlsOptions& o) {
  if (!lua_istable(L, idx)) return;
  if (auto v = opt_string_field(L, idx, "sni")) o.sni = *v;
  if (auto v = opt_bool_field(L, idx, "verify")) o.verify = *v;
  if (auto v = opt_string_field(L, idx, "ca")) o.ca_file = *v;
  if (auto v = opt_string_field(L, idx, "ca_pem")) o.ca_pem = *v;
  if (auto v = opt_string_field(L, idx, "cert")) o.cert_file = *v;
  if (auto v = opt_string_field(L, idx, "key")) o.key_file = *v;
  if (auto v = opt_string_field(L, idx, "tls_min")) o.min_version = *v;
  if (auto v = opt_string_field(L, idx, "tls_max")) o.max_version = *v;
}

}  // namespace

std::string settle_handshake(ScriptConn& conn, const net::Outcome& o, double timeout, bool check,
                             const std::string& checked) {
  if (o.end != net::End::done) {
    std::string why = o.end == net::End::timeout
                          ? "it did not finish within " + seconds_text(timeout) + " s"
                      : o.end == net::End::closed ? "the connection was closed"
                                                  : o.error;
    conn.net->close();
    return "TLS handshake with " + conn.label + " failed: " + why;
  }
  conn.facts =
      std::make_unique<net::TlsFacts>(net::collect_facts(conn.net->transport().native_ssl()));
  conn.framer->reset();
  conn.note(describe_handshake(*conn.facts, check));
  const net::TlsFacts& f = *conn.facts;
  if (!check || f.verified) return {};
  conn.net->close();
  return "the certificate of " + conn.label + " did not pass the check: " + f.verify_error +
         " (subject " + f.subject + ", issuer " + f.issuer + "). " + net::verify_advice(f, checked);
}

std::string describe_handshake(const net::TlsFacts& f, bool checked) {
  std::string s = "TLS " + f.version + " " + f.cipher;
  if (f.has_peer_cert) {
    s += ", certificate " + f.subject;
    if (f.verified) {
      s += " (verified)";
    } else {
      s += " (NOT verified: " + f.verify_error + (checked ? ")" : "; verify=false)");
    }
  }
  return s;
}

void push_facts(lua_State* L, const net::TlsFacts& f) {
  lua_createtable(L, 0, 16);
  auto set = [L](const char* k, const std::string& v) {
    lua_pushlstring(L, v.data(), v.size());
    lua_setfield(L, -2, k);
  };
  set("version", f.version);
  set("cipher", f.cipher);
  lua_pushboolean(L, f.verified);
  lua_setfield(L, -2, "verified");
  if (!f.verify_error.empty()) set("verify_error", f.verify_error);
  if (!f.sni.empty()) set("sni", f.sni);
  if (!f.alpn.empty()) set("alpn", f.alpn);
  if (f.has_peer_cert) {
    lua_createtable(L, 0, 10);
    set("subject", f.subject);
    set("issuer", f.issuer);
    set("serial", f.serial);
    set("not_before", f.not_before);
    set("not_after", f.not_after);
    lua_pushinteger(L, f.not_after_epoch);
    lua_setfield(L, -2, "not_after_epoch");
    set("sha256", f.sha256);
    set("pem", f.pem);
    lua_createtable(L, static_cast<int>(f.sans.size()), 0);
    for (std::size_t i = 0; i < f.sans.size(); ++i) {
      lua_pushstring(L, f.sans[i].c_str());
      lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
    }
    lua_setfield(L, -2, "sans");
    lua_setfield(L, -2, "cert");
  }
}

namespace {

// Bytes the peer sent that nobody has read: in our buffer or still in the kernel.
// Under TLS the kernel's bytes are records, not input (a close_notify is no unread data).
std::size_t unread_bytes(ScriptConn& c) {
  return c.net->input().size() + (c.tls() ? 0 : c.net->transport().available());
}

// Plaintext that would be taken as if it came under TLS. A client's peer says nothing between
// its "220" and our ClientHello, so anything received or waiting in the kernel was injected.
// A server's peer sends its ClientHello right after reading our "220": only bytes we had read
// already (pipelined after STARTTLS) count.
std::size_t injected_bytes(ScriptConn& c) {
  return c.server_role ? c.net->input().size() : unread_bytes(c);
}

// c:starttls{sni=, verify=, ca=, ...}: TLS on the live socket (server side on accepted ones).
int l_starttls(lua_State* L) {
  ScriptConn& c = usable(L, "starttls");
  std::shared_ptr<ScriptConn> conn = check_conn(L);
  if (!c.net->transport().can_tls()) {
    raise(L, kScriptError, "script", "starttls: connection " + c.label + " cannot carry TLS");
  }
  if (c.tls()) raise(L, kScriptError, "script", "starttls: connection is under TLS already");
  if (std::size_t n = injected_bytes(c); n > 0) {
    std::string seen = report::printable(c.net->input().view(), 200);
    c.net->close();
    raise(L, kNetworkError, "security",
          "STARTTLS refused: " + std::to_string(n) + " byte(s) of plaintext arrived from " +
              c.label + " before the TLS handshake (\"" + seen +
              "\"). Something injected data that would be read as if it came under TLS "
              "(the STARTTLS injection attack, CVE-2011-0411); the connection is closed.");
  }
  double timeout = op_timeout(L, 2, c);
  std::shared_ptr<net::ssl::context> ctx;
  auto client = std::make_shared<net::ClientTlsOptions>(c.tls_settings());
  if (c.server_role) {
    if (!c.server_ctx) {
      std::string pem;
      c.server_ctx = net::make_server_context("", "", pem);
    }
    ctx = c.server_ctx;
  } else {
    read_tls_options(L, 2, *client);
    ctx = net::make_client_context(*client);
  }
  Engine& engine = *c.engine;
  int task = engine.prepare_wait(L);
  c.net->handshake(ctx, c.server_role ? nullptr : client.get(), deadline_after(timeout),
                   [conn, client, task, &engine, timeout](const net::Outcome& o) {
                     bool check = client->verify && !conn->server_role;
                     const std::string& name = client->sni.empty() ? client->host : client->sni;
                     std::string failure = settle_handshake(*conn, o, timeout, check, name);
                     engine.wake(task, [conn, failure](lua_State* co) {
                       lua_pushboolean(co, failure.empty() ? 1 : 0);
                       if (failure.empty()) {
                         push_facts(co, *conn->facts);
                       } else {
                         push_error(co, kNetworkError, "tls", failure);
                       }
                       return 2;
                     });
                   });
  return suspend(L);
}

//---------------------------------------------------------------------------------------------
// Closing and fields

void close_conn(ScriptConn& c, bool reset = false) {
  if (c.net->closed()) return;
  c.net->close(reset);
  c.engine->remove_canceller(c.canceller);
  c.note(reset ? "closed (reset)" : "closed");
}

// c:close([{reset = true}]): unread input is a warning, or with --strict an error. reset: a TCP
// reset instead of the FIN exchange, as Postfix's smtp-source ends its sessions (a load test's
// server then keeps no TIME_WAIT socket per conversation).
// What to say about input nobody read when a connection closes, or "" when there is none.
std::string unread_message(ScriptConn& c) {
  std::size_t n = c.net->busy() ? 0 : unread_bytes(c);
  if (n == 0) return {};
  return "connection " + std::to_string(c.id) + " to " + c.label + " closed with " +
         std::to_string(n) + " byte(s) unread: \"" + report::printable(c.net->input().view(), 200) +
         "\"";
}

// c:close(): unread input is a warning, or with --strict an error.
int l_close(lua_State* L) {
  ScriptConn& c = *check_conn(L);
  if (c.net->closed()) return 0;
  bool reset = false;
  if (lua_istable(L, 2)) reset = opt_bool_field(L, 2, "reset").value_or(false);
  std::string msg = unread_message(c);
  close_conn(c, reset);
  if (!msg.empty()) {
    if (c.engine->options().strict) raise(L, kFailed, "protocol", msg + " (--strict)");
    c.engine->transcript().warn(where(L) + ": " + msg);
  }
  return 0;
}

int l_gc(lua_State* L) {
  auto& conn = check_conn(L);
  if (conn) close_conn(*conn);
  conn.~shared_ptr();
  return 0;
}

int l_set_framing(lua_State* L) {
  ScriptConn& c = *check_conn(L);
  if (lua_istable(L, 3)) {
    if (auto v = opt_number_field(L, 3, "max_line"))
      c.limits.max_line = static_cast<std::size_t>(*v);
    if (auto v = opt_number_field(L, 3, "max_reply"))
      c.limits.max_unit = static_cast<std::size_t>(*v);
  }
  set_framing(L, c, check_string(L, 2));
  return 0;
}

int l_want_block(lua_State* L) {
  check_conn(L)->framer->want_block();
  return 0;
}

int l_set_timeout(lua_State* L) {
  double t = check_number(L, 2);
  arg_check(L, t > 0, 2, "a number of seconds above 0");
  check_conn(L)->timeout = t;
  return 0;
}

// c:wake(): ends a read pending on the connection (in another conversation) at once: it
// returns nil, "woken". With no read pending, the next read returns so. A mock server's IDLE
// waits on the client and on the mailbox at once this way, without polling.
int l_wake(lua_State* L) {
  check_conn(L)->net->wake();
  return 0;
}

int l_pending(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(check_conn(L)->net->input().size()));
  return 1;
}

int l_last_bytes(lua_State* L) {
  const std::string& r = check_conn(L)->net->recent();
  lua_pushlstring(L, r.data(), r.size());
  return 1;
}

int l_is_open(lua_State* L) {
  auto& c = check_conn(L);
  lua_pushboolean(L, !c->net->closed() && !(c->net->at_eof() && c->net->input().empty()));
  return 1;
}

int l_tostring(lua_State* L) {
  auto& c = check_conn(L);
  lua_pushfstring(L, "connection %d to %s", c->id, c->label.c_str());
  return 1;
}

// What a connection shows besides its methods (c.last_command is nil until a line is sent).
const char* const kConnFields[] = {"tls",     "peer",    "host",        "port",         "id",
                                   "framing", "timeout", "server_side", "last_command", nullptr};

// parley.core adds expect, on and off to the methods when it loads: the first time a script
// asks a connection for a method the bindings lack, it is loaded (once; a start that never
// does need not pay for it). Returns whether it was loaded now.
bool load_core_methods(lua_State* L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushliteral(L, "parley.core");
  bool loaded = lua_rawget(L, -2) != LUA_TNIL;
  lua_pop(L, 2);
  if (loaded) return false;
  lua_getfield(L, LUA_REGISTRYINDEX, kRequireKey);
  lua_pushliteral(L, "parley.core");
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) raise_top(L);
  return true;
}

// Fields: methods first, then what the connection knows, then the script's own fields. Any
// other name is a mistake ("no method 'sned' on a connection; did you mean 'send'?"), as on
// the sessions; names starting with "_" read as nil.
int l_index(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));  // the methods (a registry lookup costs more)
  lua_pushvalue(L, 2);
  if (lua_rawget(L, -2) != LUA_TNIL) return 1;
  lua_pop(L, 2);
  ScriptConn& c = *check_conn(L);
  std::string_view key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
  bool field = false;
  for (const char* const* f = kConnFields; *f != nullptr; ++f) field = field || key == *f;
  if (!key.empty() && !field && load_core_methods(L)) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 2);
    if (lua_rawget(L, -2) != LUA_TNIL) return 1;
    lua_pop(L, 2);
  }
  if (key == "tls") {
    if (c.facts) {
      push_facts(L, *c.facts);
    } else {
      lua_pushnil(L);
    }
  } else if (key == "host") {
    lua_pushstring(L, c.host.c_str());
  } else if (key == "port") {
    lua_pushinteger(L, c.port);
  } else if (key == "id") {
    lua_pushinteger(L, c.id);
  } else if (key == "peer") {
    lua_pushstring(L, c.label.c_str());
  } else if (key == "framing") {
    lua_pushstring(L, c.framing_name.c_str());
  } else if (key == "timeout") {
    lua_pushnumber(L, c.timeout);
  } else if (key == "server_side") {
    lua_pushboolean(L, c.server_role);
  } else {
    lua_getiuservalue(L, 1, 1);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, -2) == LUA_TNIL && !key.empty() && key[0] != '_' && key != "last_command") {
      lua_rawgetp(L, LUA_REGISTRYINDEX, &kMethodsKey);
      raise_no_method(L, "a connection", 2, -1, kConnFields);
    }
  }
  return 1;
}

// c:method(): the methods table (the closure's upvalue) has it. Not through protect<>, which
// costs more than the lookup (a load test looks a method up for every command and reply):
// nothing here can raise.
int l_index_method(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  return protect<l_index>(L);
}

int l_newindex(lua_State* L) {
  lua_getiuservalue(L, 1, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_rawset(L, -3);
  return 0;
}

}  // namespace

//---------------------------------------------------------------------------------------------

// With a login mask, the client's side of the conversation goes through it (and the server's
// tells it when an AUTH exchange ends); --show-secrets shows the lines as they are.
void ScriptConn::show_line(report::Speaker who, std::string_view line) {
  auto& t = engine->transcript();
  if (!login_mask) return t.line(id, who, tls(), line);
  if (who == report::Speaker::server) {
    login_mask->server_line(line);
    return t.line(id, who, tls(), line);
  }
  std::string shown = login_mask->client_line(line);
  t.line(id, who, tls(), t.options().show_secrets ? line : std::string_view(shown));
}

void ScriptConn::show_bytes(report::Speaker who, std::string_view bytes) {
  auto& t = engine->transcript();
  if (login_mask && who == report::Speaker::server) login_mask->server_line(bytes);
  if (login_mask && who == report::Speaker::client && login_mask->hides_client_bytes() &&
      !t.options().show_secrets) {
    return t.line(id, who, tls(), "****");
  }
  t.bytes(id, who, tls(), bytes);
}

void ScriptConn::log_received(std::string_view bytes) {
  if (show) show_bytes(peer_speaker(), bytes);
}

void ScriptConn::log_received_line(std::string_view line) {
  if (show) show_line(peer_speaker(), line);
}

void ScriptConn::log_sent_line(std::string_view line) {
  if (show) show_line(own_speaker(), line);
}

void ScriptConn::log_sent_bytes(std::string_view bytes) {
  if (show) show_bytes(own_speaker(), bytes);
}

void ScriptConn::note(const std::string& text) {
  if (show) engine->transcript().note(id, text);
}

bool ScriptConn::noting() const {
  return show && engine->transcript().active();
}

void set_framing(lua_State* L, ScriptConn& c, const std::string& name) {
  auto framer = framing::make_framer(name, c.limits);
  if (!framer) {
    raise_text(L, "unknown framing \"%s\" (line, smtp, pop3 or imap)", name.c_str());
  }
  c.framer = std::move(framer);
  c.framing_name = name;
}

std::shared_ptr<ScriptConn> make_conn(Engine& engine, std::unique_ptr<net::Transport> transport,
                                      std::string label, bool server_role, int owner,
                                      std::unique_ptr<framing::Framer> framer,
                                      std::string_view framing_name) {
  auto c = std::make_shared<ScriptConn>();
  c->engine = &engine;
  c->net = std::make_shared<net::Connection>(engine.io(), std::move(transport), label);
  c->label = std::move(label);
  c->id = engine.next_connection_id();
  c->server_role = server_role;
  c->timeout = engine.options().timeout;
  if (framer) {
    c->framer = std::move(framer);
    c->framing_name = framing_name;
  } else {
    c->framing_name = server_role ? "line" : "smtp";
    c->framer = framing::make_framer(c->framing_name, c->limits);
  }
  std::weak_ptr<ScriptConn> weak = c;
  engine.register_conn(c->id, owner >= 0                     ? owner
                              : Engine::running() != nullptr ? Engine::running()->id
                                                             : 0);
  c->canceller = engine.add_canceller(
      [weak] {
        // The run ended (or the owner was cancelled) with the connection still open.
        auto conn = weak.lock();
        if (!conn || conn->net->closed()) return;
        std::string msg = unread_message(*conn);
        conn->net->close();
        if (msg.empty()) return;
        conn->engine->transcript().warn(msg + " when the conversation ended");
        if (conn->engine->options().strict) conn->engine->record_failure(kFailed);
      },
      owner);
  return c;
}

void push_conn(lua_State* L, std::shared_ptr<ScriptConn> conn) {
  auto* p = static_cast<ConnUserdata*>(lua_newuserdatauv(L, sizeof(ConnUserdata), 1));
  new (p) ConnUserdata{std::move(conn)};
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  luaL_setmetatable(L, kConnMeta);
}

void open_connection_methods(lua_State* L) {
  const luaL_Reg methods[] = {{"send", protect<l_send>},
                              {"send_raw", protect<l_send_raw>},
                              {"read_reply", protect<l_read_reply>},
                              {"read_line", protect<l_read_line>},
                              {"read", protect<l_read>},
                              {"starttls", protect<l_starttls>},
                              {"close", protect<l_close>},
                              {"set_framing", protect<l_set_framing>},
                              {"want_block", protect<l_want_block>},
                              {"set_timeout", protect<l_set_timeout>},
                              {"pending", protect<l_pending>},
                              {"wake", protect<l_wake>},
                              {"last_bytes", protect<l_last_bytes>},
                              {"is_open", protect<l_is_open>},
                              {nullptr, nullptr}};
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kMethodsKey);

  luaL_newmetatable(L, kConnMeta);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kMethodsKey);
  lua_pushcclosure(L, l_index_method, 1);
  lua_setfield(L, -2, "__index");
  const luaL_Reg meta[] = {{"__newindex", protect<l_newindex>},
                           {"__gc", protect<l_gc>},
                           {"__close", protect<l_close>},
                           {"__tostring", protect<l_tostring>},
                           {nullptr, nullptr}};
  luaL_setfuncs(L, meta, 0);
  lua_pushliteral(L, "connection");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  // parley.conn_methods: where lua/parley/core.lua adds expect, on, ...; parley.conn_meta:
  // where it puts a Lua __index in front of l_index.
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "parley");
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kMethodsKey);
  lua_setfield(L, -2, "conn_methods");
  luaL_getmetatable(L, kConnMeta);
  lua_setfield(L, -2, "conn_meta");
  lua_pop(L, 2);
}

}  // namespace parley::script
