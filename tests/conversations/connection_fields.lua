-- connection_fields.lua: what a connection tells about itself: host, port, id, peer, framing,
-- timeout (the run's --timeout by default, connect's timeout=, set_timeout), server_side, a
-- field the script sets, tostring; and the listener's port/host/tls.
-- exit: 0
-- args: --timeout 7
-- stdout: fields ok
-- within: 8

local srv = listen { host = "127.0.0.1", port = 0 }
assert(type(srv.port) == "number" and srv.port > 0, "listener port")
assert(srv.host == "127.0.0.1", "listener host")
assert(srv.tls == "none", "listener tls mode: " .. tostring(srv.tls))
assert(srv.cert_pem == nil, "a plain listener has no certificate")

local server = spawn(function()
  local s = srv:accept()
  assert(s.framing == "line", "accepted connections frame by line: " .. s.framing)
  assert(s.server_side == true, "server side")
  assert(s.host == "127.0.0.1", "accepted host is the client's address")
  assert(s.timeout == 7, "default timeout is --timeout: " .. s.timeout)
  assert(s.tls == nil, "no TLS yet")
  s:send("220 hi")
  assert(s:read_line() == "QUIT")
  s:close()
  return s.id
end)

local c = connect("127.0.0.1", srv.port, { timeout = 3 })
assert(c.host == "127.0.0.1", "host")
assert(c.port == srv.port, "port")
assert(type(c.id) == "number", "id")
assert(c.peer == "127.0.0.1:" .. srv.port, "peer: " .. c.peer)
assert(c.framing == "smtp", "connect defaults to smtp framing: " .. c.framing)
assert(c.timeout == 3, "connect's timeout= option: " .. c.timeout)
assert(c.server_side == false, "client side")
assert(c.tls == nil, "no TLS")
c:set_timeout(2.5)
assert(c.timeout == 2.5, "set_timeout")
c.note = "mine"
c.count = 3
assert(c.note == "mine" and c.count == 3, "script fields")
assert(tostring(c):find("^connection %d+ to 127%.0%.0%.1:%d+$"), "tostring: " .. tostring(c))
local ok = pcall(c.set_timeout, c, 0)
assert(not ok, "set_timeout(0) is refused")

c:expect(220)
c:send("QUIT")
local sid = server:join()
assert(sid ~= c.id, "each connection has its own id")

local d = connect { host = "127.0.0.1", port = srv.port, timeout = 0.5 }
-- no accept: the connection sits in the backlog; expect honours the connect timeout
local r, why = d:read_reply()
assert(r == nil and why == "timeout", "read_reply with the connection's own 0.5 s timeout")
d:close()
print("fields ok")
