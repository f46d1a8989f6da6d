-- sleep_timing.lua: sleep(s) waits about s seconds without blocking other conversations (a
-- server answers while the main script sleeps), sleep(0) returns, negative sleeps are refused.
-- exit: 0
-- args: --timeout 3
-- stdout: sleep ok
-- within: 4

local parley = require "parley"
local t0 = parley.clock()
sleep(0.3)
local slept = parley.clock() - t0
assert(slept >= 0.29 and slept < 0.8, "sleep(0.3) took " .. slept)
sleep(0)

local srv = listen { host = "127.0.0.1", port = 0 }
local got
spawn(function()
  local s = srv:accept()
  got = s:read_line()
end)
local c = connect("127.0.0.1", srv.port)
c:send("HELLO")
sleep(0.2) -- the server runs meanwhile
assert(got == "HELLO", "the server ran while main slept: " .. tostring(got))

local ok, err = pcall(sleep, -1)
assert(not ok, "sleep(-1) refused")
print("sleep ok")
