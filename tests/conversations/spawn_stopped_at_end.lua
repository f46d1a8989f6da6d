-- spawn_stopped_at_end.lua: when the main script ends, spawned conversations still waiting
-- (a server blocked in accept, a task sleeping) are stopped: the run exits 0 at once, not after
-- their waits, and their being stopped is not reported as a failure.
-- exit: 0
-- args: --timeout 20
-- stdout: main ends
-- stderr-not: failed
-- within: 3

local srv = listen { host = "127.0.0.1", port = 0 }
spawn(function() srv:accept() end)
spawn(function() sleep(15) end)
local c = connect("127.0.0.1", srv.port)
spawn(function() c:read_line() end)
sleep(0.1)
print("main ends")
