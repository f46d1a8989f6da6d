-- loop_guard.lua: a script that computes without ever waiting is stopped once it has run longer
-- than --timeout (exit 2), with a message saying so; the run ends within a few seconds.
-- exit: 2
-- args: --timeout 1
-- stderr: loop_guard\.lua:[0-9]+: the script ran [0-9.]+ s without waiting on the network \(an endless loop\?\); stopped at the 1 s timeout
-- within: 4

local n = 0
while true do
  n = n + 1
end
