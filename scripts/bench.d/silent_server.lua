-- scripts/bench (4): accepts connections and says nothing; each connection is held by its own
-- conversation until the client leaves. Prints its port. Args: seconds (how long to serve).
local parley = require "parley"
local srv = listen { host = "127.0.0.1", port = 0 }
io.stdout:write(srv.port, "\n")
io.stdout:flush()
local stop = parley.clock() + tonumber(args.seconds or 120)
while parley.clock() < stop do
  local ok, c = pcall(srv.accept, srv, stop - parley.clock())
  if not ok then break end
  spawn(function()
    c:read(0, stop - parley.clock()) -- nil at eof: the client left
    c:close()
  end)
end
