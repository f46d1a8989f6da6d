-- load_short_secret_once.lua: a secret too short to mask everywhere is warned about once per
-- run, not once per thread (each thread of parley load runs its own engine, which registers
-- the password argument again).
-- exit: 0
-- args: --timeout 30
-- stdout: load short secret once ok
-- within: 30

local h = require "helpers"
local out, status = h.parley({ "load", "--json", "--threads", "2", "-c", "2", "-n", "4",
  h.client("echo_secret"), "password=abc" }, 30, true)
assert(status == 1, "exit 1 (every conversation fails), got " .. status .. "\n" .. out)
local json = out:match("(%b{})")
assert(json, "no JSON in:\n" .. out)
local threads = h.decode(json).settings.threads
assert(threads == 2, "two threads ran, got " .. tostring(threads))
local _, warnings = out:gsub("too short to mask everywhere", "")
assert(warnings == 1, "one warning for the run, got " .. warnings .. ":\n" .. out)
print("load short secret once ok")
