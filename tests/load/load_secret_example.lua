-- load_secret_example.lua: the failure example `parley load` reports (JSON and the human
-- summary) masks the password a failure message quotes, and its base64 form.
-- exit: 0
-- args: --timeout 30
-- stdout: load secret example ok
-- stderr-not: bad password hunter2x|aHVudGVyMng
-- within: 30

local h = require "helpers"
local res, status = h.load { "-c", "2", "-n", "4", h.client("echo_secret"), "password=hunter2x" }
assert(status == 1, "exit 1, got " .. status)
assert(res.conversations.failed == 4, "failed: " .. res.conversations.failed)
local example = res.failures[1].example
assert(example == "535 5.7.8 bad password **** (b64 ****)", "the example: " .. example)
local out, st = h.parley { "load", "-c", "1", "-n", "2", h.client("echo_secret"), "password=hunter2x" }
assert(st == 1, "exit 1, got " .. st)
assert(out:find("bad password **** (b64 ****)", 1, true), "the human summary masks it:\n" .. out)
assert(not out:find("hunter2x", 1, true) and not out:find("aHVudGVyMng", 1, true), out)
print("load secret example ok")
