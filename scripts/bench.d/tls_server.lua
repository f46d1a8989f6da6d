-- scripts/bench (6): a TLS listener (implicit TLS, certificate made on the fly): every
-- connection is handed to its own conversation, which runs the server side of the handshake
-- and waits for the client to leave. Prints its port. Args: seconds (how long to serve).
local parley = require "parley"
local srv = listen { host = "127.0.0.1", port = 0, tls = "starttls" }
io.stdout:write(srv.port, "\n")
io.stdout:flush()
local stop = parley.clock() + tonumber(args.seconds or 60)
while parley.clock() < stop do
  local ok, c = pcall(srv.accept, srv, stop - parley.clock())
  if not ok then break end
  spawn(function()
    if pcall(c.starttls, c, {}) then pcall(c.read, c, 0, 5) end -- until the client leaves
    c:close()
  end)
end
