-- spawn_join_timeout_message.lua: join with a fractional timeout fails (exit 1) and its message
-- states the timeout as given: "within 0.5 s", not a truncated "within 0 s".
-- exit: 1
-- args: --timeout 5
-- stderr: spawn_join_timeout_message\.lua:[0-9]+: spawned conversation [0-9]+ did not finish within 0\.5 s
-- within: 4

local t = spawn(function() sleep(3) end)
t:join(0.5)
