-- tls_options.lua: the other TLS options of connect. ca=FILE (a PEM file: the listener's own
-- certificate written out) verifies; connecting by the name "localhost" matches the DNS SAN and
-- the peer shows name and address; tls_max="1.2" negotiates TLSv1.2; a CA file that does not
-- exist and an unknown TLS version are script errors (exit 2) naming the problem; an impossible
-- tls_min/tls_max range fails the handshake (exit 3).
-- exit: 0
-- args: --timeout 5
-- stdout: tls options ok
-- within: 6

local srv = listen { host = "127.0.0.1", port = 0, tls = true }
spawn(function()
  while true do
    local ok, s = pcall(srv.accept, srv)
    if ok then
      spawn(function() pcall(function() s:send("220 x"); s:read_line(2) end) end)
    end
  end
end)

local file = os.tmpname()
local h = assert(io.open(file, "w"))
h:write(srv.cert_pem)
h:close()

local c = connect { host = "127.0.0.1", port = srv.port, tls = true, ca = file }
assert(c.tls.verified == true, "ca=FILE verifies")
c:expect(220)
c:close()

local l = connect { host = "localhost", port = srv.port, tls = true, ca = file }
assert(l.tls.verified == true, "the DNS SAN matches localhost")
assert(l.host == "localhost", "host as given")
assert(l.peer:find("^localhost %(") , "peer names the host and the address: " .. l.peer)
l:close()

local d = connect { host = "127.0.0.1", port = srv.port, tls = true, ca = file, tls_max = "1.2" }
assert(d.tls.version == "TLSv1.2", "tls_max=1.2: " .. d.tls.version)
d:close()
os.remove(file)

local ok, err = pcall(connect, { host = "127.0.0.1", port = srv.port, tls = true,
  ca = "/nonexistent/parley-ca.pem" })
assert(not ok and err.exit == 2 and tostring(err):find("/nonexistent/parley-ca.pem", 1, true),
  "missing CA file: " .. tostring(err))

ok, err = pcall(connect, { host = "127.0.0.1", port = srv.port, tls = true, verify = false,
  tls_min = "banana" })
assert(not ok and err.exit == 2 and tostring(err):find("banana"), "unknown version: " .. tostring(err))

ok, err = pcall(connect, { host = "127.0.0.1", port = srv.port, tls = true, verify = false,
  tls_min = "1.3", tls_max = "1.2" })
assert(not ok and err.exit == 3, "impossible range: " .. tostring(err))
print("tls options ok")
