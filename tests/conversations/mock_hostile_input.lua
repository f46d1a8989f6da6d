-- mock_hostile_input.lua: the mocks attacked as a real server would be (issue 12). For each
-- attack: the answer, and a second client served within 1 s (of CPU) meanwhile (one process,
-- one event loop: a mock stuck on a line would hold that client too). Lines that made the mocks
-- backtrack for seconds, SMTP smuggling, BDAT over SIZE, IMAP literals before login, IMAP
-- input that ended sessions without a tagged reply, names differing in case, AUTH PLAIN with
-- another authorization identity.
-- exit: 0
-- args: --timeout 10
-- stdout: hostile input ok
-- within: 50
local parley = require "parley"
local crypto = require "parley.crypto"
local smtpm = require "parley.mock.smtp"
local pop3m = require "parley.mock.pop3"
local imapm = require "parley.mock.imap"
local store = require("parley.mock.store").new()

local users = { alice = "secret", bob = "hunter22" }
local ms = smtpm.start { users = users, store = store, max_size = 100000 }
local mp = pop3m.start { users = users, store = store }
local mi = imapm.start { users = users, store = store }

-- Runs `attack()` (which sends its input and returns a function that reads the answer), then
-- serves a second client (an SMTP NOOP) and reads the answer. Both sides run in this process,
-- so its CPU time is the mock's work: the second client must be served, and the answer come,
-- within 1 s of it (and within 5 s of the wall clock, which on a loaded machine or in an ASan
-- build says more about the machine than about the mock).
local function within_1s(what, attack)
  local t0, c0 = parley.clock(), os.clock()
  local answer = attack()
  local other = connect("127.0.0.1", ms.port)
  other:expect(220, 5)
  other:send("NOOP")
  other:expect(250, 5)
  other:close()
  local served = os.clock() - c0
  local result = answer()
  local took, wall = os.clock() - c0, parley.clock() - t0
  assert(served < 1 and took < 1 and wall < 5,
    string.format("%s: another client served after %.3f s of CPU, the answer after %.3f s " ..
      "(%.3f s of the wall clock)", what, served, took, wall))
  return result
end

local function smtp_client(ehlo)
  local c = connect("127.0.0.1", ms.port)
  c:expect(220)
  if ehlo then
    c:send("EHLO client.example")
    c:expect(250)
  end
  return c
end

-- Reads IMAP responses up to the one tagged `tag`; fails unless that one matches `want`.
-- Returns a reply-like table whose raw holds every response read.
local function tagged(c, tag, want)
  local all = {}
  while true do
    local r = c:read_reply()
    assert(r, "no tagged reply " .. tag .. " (the mock closed the connection)")
    all[#all + 1] = r.raw
    if r.raw:sub(1, #tag + 1) == tag .. " " then
      assert(r.raw:find(want), "wanted " .. want .. ", got " .. r.raw)
      return { raw = table.concat(all), last = r.raw }
    end
  end
end

local function imap_client(login)
  local c = connect { port = mi.port, framing = "imap" }
  c:expect("^%* OK")
  if login then
    c:send("l LOGIN alice secret")
    tagged(c, "l", "^l OK")
  end
  return c
end

-- 1. Lines that backtracking patterns took tens of seconds over
local noop = "NOOP x" .. string.rep(" ", 65528) .. "y"
do
  local c = smtp_client(false)
  within_1s("smtp NOOP + 64 KB of spaces", function()
    c:send(noop)
    return function() return c:expect(250) end
  end)
  c:close()
  local p = connect { port = mp.port, framing = "pop3" }
  p:expect("^%+OK")
  within_1s("pop3 NOOP + 64 KB of spaces", function()
    p:send(noop)
    return function() return p:expect("^%+OK") end
  end)
  p:close()
  local i = imap_client(false)
  within_1s("imap NOOP + 64 KB of spaces", function()
    i:send("a NOOP x" .. string.rep(" ", 65526) .. "y")
    return function() return tagged(i, "a", "^a OK") end
  end)
  c = smtp_client(true)
  within_1s("smtp MAIL FROM + 64 KB of parameter", function()
    c:send("MAIL FROM:<a@x> " .. string.rep("a", 65516))
    return function() return c:expect(250) end
  end)
  c:close()
  i:send("l LOGIN alice secret")
  tagged(i, "l", "^l OK")
  local r = within_1s("imap LIST with 64 KB of wildcards", function()
    i:send('b LIST "" "' .. string.rep("*", 65510) .. 'Z"')
    return function() return tagged(i, "b", "^b OK") end
  end)
  assert(not r.raw:find("INBOX"), r.raw)
  r = within_1s("imap LIST with %* runs", function()
    i:send('b LIST "" "' .. string.rep("%*", 200) .. 'Z"')
    return function() return tagged(i, "b", "^b OK") end
  end)
  -- the wildcards still mean what they mean
  i:send('c LIST "" "*"')
  assert(tagged(i, "c", "^c OK").raw:find('%* LIST %(.-%) "/" INBOX'))
  i:send('c LIST "" "I%X"')
  assert(tagged(i, "c", "^c OK").raw:find("INBOX"))
  i:send('c LIST "" "I*Y"')
  assert(not tagged(i, "c", "^c OK").raw:find("INBOX"))
  i:send('c LIST "" "inbo%"')
  assert(tagged(i, "c", "^c OK").raw:find("INBOX"))
  i:close()
end

-- 2. SMTP smuggling: a bare LF is no line end inside DATA; only <CRLF>.<CRLF> ends it
local function smuggle(c)
  c:send("MAIL FROM:<carol@example.org>")
  c:expect(250)
  c:send("RCPT TO:<alice@example.net>")
  c:expect(250)
  c:send("DATA")
  c:expect(354)
  c:send_raw("Subject: one\r\n\r\nbody\n.\nMAIL FROM:<evil@example.org>\r\n" ..
    "RCPT TO:<alice@example.net>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n")
end
do
  local before = store:count("alice")
  local c = smtp_client(true)
  within_1s("smtp smuggling", function()
    smuggle(c)
    return function() return c:expect("^2%.0%.0 Ok: queued") end
  end)
  c:send("NOOP")
  c:expect(250)
  assert(store:count("alice") == before + 1, "one message, not two")
  local text = store:messages("alice")[before + 1].text
  assert(text:find("MAIL FROM:<evil@example.org>", 1, true) and text:find("Subject: smuggled", 1, true),
    text)
  c:close()
  -- a fault emulates a server open to smuggling, on purpose
  local lax = smtpm.start { users = users, store = store, faults = { DATA = { bare_lf_end = true } } }
  c = connect("127.0.0.1", lax.port)
  c:expect(220)
  c:send("EHLO client.example")
  c:expect(250)
  smuggle(c)
  c:expect("queued")
  c:expect(250) -- the smuggled MAIL FROM
  c:expect(250)
  c:expect(354)
  c:expect("queued")
  assert(store:count("alice") == before + 3, "the vulnerable mock takes the smuggled message")
  c:close()
  lax:stop()
end

-- 3. BDAT: SIZE limits the message's running total, and chunks over it are not held
do
  local before = store:count("alice")
  local c = smtp_client(true)
  c:send("MAIL FROM:<carol@example.org>")
  c:expect(250)
  c:send("RCPT TO:<alice@example.net>")
  c:expect(250)
  c:send_raw("BDAT 60000\r\n" .. string.rep("a", 60000))
  c:expect(250)
  within_1s("BDAT over SIZE", function()
    c:send_raw("BDAT 60000\r\n" .. string.rep("b", 60000))
    return function() return c:expect(552) end
  end)
  c:send_raw("BDAT 10 LAST\r\n" .. string.rep("c", 10))
  c:expect(552)
  c:send("DATA")
  c:expect(503) -- the transaction is over
  c:send("NOOP")
  c:expect(250)
  assert(store:count("alice") == before, "nothing delivered")
  -- a message under the limit in chunks still goes through
  c:send("MAIL FROM:<carol@example.org>")
  c:expect(250)
  c:send("RCPT TO:<alice@example.net>")
  c:expect(250)
  c:send_raw("BDAT 5\r\nHello")
  c:expect(250)
  c:send_raw("BDAT 8 LAST\r\n world\r\n")
  c:expect("queued")
  assert(store:count("alice") == before + 1)
  c:close()
end

-- 4. IMAP literals: small before login, bounded after; crashers answered with a tagged BAD
do
  local i = imap_client(false)
  within_1s("imap 40 MB literal before login", function()
    i:send("a LOGIN {40000000}")
    return function() return tagged(i, "a", "^a BAD .*literal too large before login") end
  end)
  i:send("b NOOP")
  tagged(i, "b", "^b OK")
  -- a login in literals, as a client quoting odd bytes sends it
  i:send("c LOGIN {5}")
  i:expect("^%+")
  i:send_raw("alice {6}\r\n")
  i:expect("^%+")
  i:send_raw("secret\r\n")
  tagged(i, "c", "^c OK")
  within_1s("imap APPEND {18446744073709551616}", function()
    i:send("d APPEND INBOX {18446744073709551616}")
    return function() return tagged(i, "d", "^d BAD .*literal too large") end
  end)
  i:send("e SELECT INBOX")
  tagged(i, "e", "^e OK")
  within_1s("imap FETCH BODY[]<30 nines.5>", function()
    i:send("f FETCH 1 (BODY[]<" .. string.rep("9", 30) .. ".5>)")
    return function() return tagged(i, "f", "^f BAD") end
  end)
  within_1s("imap SEARCH nested 60,000 deep", function()
    i:send("g SEARCH " .. string.rep("(", 60000) .. "ALL")
    return function() return tagged(i, "g", "^g BAD .*nested too deep") end
  end)
  within_1s("imap SEARCH NOT x 16,000", function()
    i:send("h SEARCH " .. string.rep("NOT ", 16000) .. "ALL")
    return function() return tagged(i, "h", "^h BAD .*nested too deep") end
  end)
  within_1s("imap FETCH of a 30,000-piece set", function()
    i:send("k FETCH " .. string.rep("1,", 30000) .. "1 FLAGS")
    return function() return tagged(i, "k", "^k OK") end
  end)
  i:send("j NOOP")
  tagged(i, "j", "^j OK")
  i:close()
  -- LITERAL+ over the limit: the bytes come anyway, so the mock says BYE and hangs up
  i = imap_client(false)
  i:send("a LOGIN {40000000+}")
  i:expect("^%* BYE .*literal too large")
  assert(i:read_reply(2) == nil, "closed")
end

-- 5. user names are case-insensitive: one user, one mailbox, and no two that differ in case
do
  local ok, err = pcall(smtpm.start, { users = { alice = "x", Alice = "y" } })
  assert(not ok and tostring(err.message or err):find("differ only in case"), tostring(err))
  local p = connect { port = mp.port, framing = "pop3" }
  p:expect("^%+OK")
  p:send("USER ALICE")
  p:expect("^%+OK")
  p:send("PASS secret")
  local r = p:expect("^%+OK")
  assert(r.text:find("alice has " .. store:count("alice")), r.text)
  p:send("QUIT")
  p:expect("^%+OK")
  p:close()
end

-- 6. AUTH PLAIN with an authorization identity other than the authenticated one
do
  local plain = crypto.b64encode("bob\0alice\0secret")
  local c = smtp_client(true)
  c:send("AUTH PLAIN " .. plain)
  c:expect(535)
  c:close()
  local i = imap_client(false)
  i:send("a AUTHENTICATE PLAIN " .. plain)
  tagged(i, "a", "^a NO %[AUTHORIZATIONFAILED%]")
  i:close()
  local p = connect { port = mp.port, framing = "pop3" }
  p:expect("^%+OK")
  p:send("AUTH PLAIN " .. plain)
  p:expect("^%-ERR")
  p:close()
  -- unless the mock is told that alice may act for bob
  local m = smtpm.start { users = users, store = store, act_as = { alice = { "bob" } } }
  c = connect("127.0.0.1", m.port)
  c:expect(220)
  c:send("EHLO client.example")
  c:expect(250)
  c:send("AUTH PLAIN " .. plain)
  c:expect(235)
  c:close()
  m:stop()
end

assert(#ms.errors == 0 and #mp.errors == 0 and #mi.errors == 0,
  table.concat(ms.errors, "; ") .. table.concat(mp.errors, "; ") .. table.concat(mi.errors, "; "))
print("hostile input ok")
