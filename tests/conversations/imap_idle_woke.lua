-- imap_idle_woke.lua: imap:idle() says why it ended: "timeout" when nothing came within the
-- time, "news" as soon as a new message is reported (well before the time is up).
-- exit: 0
-- args: --timeout 10
-- stdout: quiet: timeout
-- stdout: delivered: news
-- within: 12
local store = require("parley.mock.store").new()
local m = require("parley.mock.imap").start { users = { alice = "pw" }, store = store }
local s = require("parley.imap").connect { port = m.port }
s:login("alice", "pw")
s:select("INBOX")

local _, r, woke = s:idle(0.3)
assert(woke == "timeout" and r.status == "OK", "quiet mailbox: " .. tostring(woke))
print("quiet: " .. woke)

spawn(function()
  sleep(0.2)
  store:deliver("alice", "Subject: new\r\n\r\nhi\r\n")
end)
local started = os.time()
_, _, woke = s:idle(8)
assert(woke == "news", "a delivery wakes IDLE: " .. tostring(woke) .. " after " .. (os.time() - started) .. " s")
assert(os.time() - started < 5, "woke early, not at the end of the time")
print("delivered: " .. woke)
s:logout()
m:stop()
