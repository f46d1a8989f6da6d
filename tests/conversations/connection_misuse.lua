-- connection_misuse.lua: using a connection after close() is a script error naming the
-- connection; two conversations waiting on one connection at once is refused ("busy"); a
-- conversation waiting on a connection another one closes gets nil, "closed"; close() twice is
-- harmless.
-- exit: 2
-- args: --timeout 3
-- stderr: connection_misuse\.lua:[0-9]+: send: connection [0-9]+ to 127\.0\.0\.1:[0-9]+ is closed
-- stdout: busy refused
-- within: 4

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local s = srv:accept()
  sleep(0.3)
  s:send("220 late")
  s:read_line(2)
  sleep(1)
end)
local c = connect("127.0.0.1", srv.port)
local reader = spawn(function() return c:expect(220) end)
sleep(0.05) -- the reader now waits on c
local ok, err = pcall(c.read_line, c)
assert(not ok and err.exit == 2 and tostring(err):find("busy"), "second waiter: " .. tostring(err))
print("busy refused")
assert(reader:join().text == "late", "the first waiter got its reply")

local waiter = spawn(function() return c:read_line() end)
sleep(0.05)
c:close()
local l, why = waiter:join(1)
assert(l == nil and why == "closed", "a waiter on a closed connection: " .. tostring(why))
c:close()
c:send("QUIT")
