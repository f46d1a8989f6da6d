-- connect_refused.lua: connecting to a closed port is a network failure, exit 3, whose message
-- names host:port and the cause. The port is found by listening on port 0 and closing.
-- exit: 3
-- args: --timeout 3
-- stderr: connect_refused\.lua:[0-9]+: cannot connect to 127\.0\.0\.1:[0-9]+: .*[Rr]efused
-- stdout: refused port [0-9]+
-- within: 5

local srv = listen { host = "127.0.0.1", port = 0 }
local port = srv.port
srv:close()

local ok, err = pcall(connect, "127.0.0.1", port)
assert(not ok and type(err) == "table", "connect to a closed port fails")
assert(err.exit == 3, "exit 3, got " .. tostring(err.exit))
assert(tostring(err):find("127.0.0.1:" .. port, 1, true), "names the port: " .. tostring(err))
print("refused port " .. port)

-- the table form too, and this time the failure ends the run
connect { host = "127.0.0.1", port = port }
