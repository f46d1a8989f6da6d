-- secret_short.lua: a secret shorter than 6 bytes is masked only in the client's lines (the
-- commands parley sends, and what a client sends to a server parley plays), with one warning
-- however many short secrets there are; what the server says stays readable, so password=mail
-- leaves "220 mail.test ESMTP" alone. A long secret is masked everywhere, and the encodings of
-- the short one are long enough to be masked everywhere too.
-- exit: 0
-- args: -v --timeout 3 --transcript /tmp/parley-conversation-secret_short.txt
-- params: password=mail tfile=/tmp/parley-conversation-secret_short.txt
-- stdout: short secrets ok
-- within: 5

local crypto = require "parley.crypto"
local parley = require "parley"
local other = secret("pw")
local long = secret("longer-secret")
local srv = listen { host = "127.0.0.1", port = 0 }
local server = spawn(function()
  local s = srv:accept()
  s:send("220 mail.test ESMTP")
  local got = {}
  for n = 1, 3 do got[n] = s:read_line() end
  s:send("535 mail.test says no to longer-secret")
  return got
end)
local c = connect("127.0.0.1", srv.port)
c:expect("^mail%.test ESMTP$")
c:send("PASS " .. args.password)
c:send("AUTH PLAIN " .. crypto.b64encode("\0alice\0" .. args.password))
c:send("X " .. other .. " " .. long)
c:expect(535)
local got = server:join()
assert(got[1] == "PASS mail" and got[3] == "X pw longer-secret", "the real bytes were sent")

-- print and other shown text: the short secret is not masked there, the long one is
assert(parley.mask("mail pw longer-secret") == "mail pw ****")
assert(parley.mask("mail pw", true) == "**** ****", "a client's line masks them")

local f = assert(io.open(args.tfile, "r"))
local text = f:read("a")
f:close()
os.remove(args.tfile)
local function has(s) assert(text:find(s, 1, true), "missing " .. s .. " in:\n" .. text) end
has("<- 220 mail.test ESMTP")             -- the server's line, as the client saw it
has("[2] <- 220 mail.test ESMTP")         -- and as the server sent it
has(" -> PASS ****")                      -- the client's line, sent
has("[2]  -> PASS ****")                  -- the client's line, received by the server
has(" -> AUTH PLAIN ****")                -- the blob: long enough to be masked everywhere
has(" -> X **** ****")
has("<- 535 mail.test says no to ****")
assert(not text:find("AGFsaWNlAG1haWw", 1, true), "the blob leaked:\n" .. text)
local _, warnings = text:gsub("too short to mask everywhere", "")
assert(warnings == 1, "one warning for all the short secrets, got " .. warnings .. ":\n" .. text)
print("short secrets ok")
