-- accept_timeout.lua: srv:accept(seconds) with no client fails after that long (exit 1) naming
-- the listening address; srv:close() makes a later accept a script error; a listener on a host
-- that is not an IP address is refused.
-- exit: 1
-- args: --timeout 10
-- stderr: accept_timeout\.lua:[0-9]+: no client connected to 127\.0\.0\.1:[0-9]+ within 0\.4 s
-- stdout: listener checks ok
-- within: 3

local closed = listen { host = "127.0.0.1", port = 0 }
closed:close()
local ok, err = pcall(closed.accept, closed, 0.1)
assert(not ok and tostring(err):find("closed"), "accept on a closed listener: " .. tostring(err))
ok, err = pcall(listen, { host = "localhost.invalid", port = 0 })
assert(not ok and tostring(err):find("IP address"), "listen on a name: " .. tostring(err))
print("listener checks ok")

local srv = listen { host = "127.0.0.1", port = 0 }
srv:accept(0.4)
