-- mock_imap_raw.lua: the IMAP mock command by command: LOGIN with a literal password, SELECT,
-- FETCH (FLAGS, UID, RFC822.SIZE, ENVELOPE, BODY[], BODY.PEEK[HEADER.FIELDS], partial), UID
-- SEARCH, STORE \Deleted, EXPUNGE, APPEND with a synchronising literal and with LITERAL+, IDLE
-- woken by mail another session delivers, and a second session told of an expunge.
-- exit: 0
-- args: --timeout 5
-- stdout: imap mock ok
-- within: 8
local store = require("parley.mock.store").new()
store:deliver("alice", "From: Bob <bob@example.org>\r\nTo: alice@example.net\r\nSubject: one\r\n\r\nfirst body\r\n")
store:deliver("alice", "From: carol@example.org\r\nSubject: two\r\n\r\nsecond body\r\n")
local m = require("parley.mock.imap").start { users = { alice = "p a\"ss" }, store = store }

local function session()
  local c = connect { port = m.port, framing = "imap" }
  c:expect("IMAP4rev1")
  return c
end
-- Reads up to the tagged response; returns the untagged responses and the tagged one.
local function finish(c, tag)
  local untagged = {}
  while true do
    local r = c:read_reply()
    if r.tag == tag then return untagged, r end
    untagged[#untagged + 1] = r
  end
end
-- Sends a command and reads its responses.
local function run(c, tag, line)
  c:send(tag .. " " .. line)
  return finish(c, tag)
end
local function ok(c, tag, line)
  local u, r = run(c, tag, line)
  assert(r.raw:find("^" .. tag .. " OK"), line .. " -> " .. r.raw)
  return u, r
end

local c = session()
local _, r = run(c, "a0", "LOGIN alice wrong")
assert(r.raw:find("NO %[AUTHENTICATIONFAILED%]"), r.raw)
c:send("a1 LOGIN alice {6}")
assert(c:read_reply().raw:find("^%+"), "a continuation for the literal")
c:send_raw('p a"ss\r\n')
r = c:read_reply()
assert(r.raw:find("^a1 OK"), r.raw)
local u = ok(c, "a2", "SELECT INBOX")
local all = {}
for _, x in ipairs(u) do all[#all + 1] = x.raw end
all = table.concat(all)
assert(all:find("* 2 EXISTS", 1, true) and all:find("UIDVALIDITY " .. store.uidvalidity, 1, true), all)

u = ok(c, "a3", "FETCH 1:2 (UID FLAGS RFC822.SIZE ENVELOPE)")
assert(#u == 2 and u[1].raw:find("UID 1 FLAGS %(%) RFC822.SIZE " .. store:messages("alice")[1].size), u[1].raw)
assert(u[1].raw:find('"one" (("Bob" NIL "bob" "example.org"))', 1, true), u[1].raw)
u = ok(c, "a4", "UID FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
assert(#u == 1 and u[1].literals[1] == "Subject: two\r\n\r\n", u[1].raw)
u = ok(c, "a5", "FETCH 1 BODY.PEEK[]<0.4>")
assert(u[1].literals[1] == "From" and u[1].raw:find("BODY%[%]<0>"), u[1].raw)
u = ok(c, "a6", "FETCH 1 BODY[]")
assert(u[1].literals[1] == store:messages("alice")[1].text)
assert(u[1].raw:find("FLAGS %(\\Seen%)"), "BODY[] sets \\Seen: " .. u[1].raw)

u = ok(c, "a7", "UID SEARCH UNSEEN")
assert(u[1].raw == "* SEARCH 2\r\n", u[1].raw)
u = ok(c, "a8", 'SEARCH FROM "carol"')
assert(u[1].raw == "* SEARCH 2\r\n", u[1].raw)
u = ok(c, "a9", "SEARCH OR SUBJECT one SUBJECT two")
assert(u[1].raw == "* SEARCH 1 2\r\n", u[1].raw)
_, r = run(c, "a10", "FETCH 9 FLAGS")
assert(r.raw:find("^a10 BAD"), r.raw)

local other = session()
ok(other, "b1", "LOGIN alice \"p a\\\"ss\"")
ok(other, "b2", "SELECT INBOX")

u = ok(c, "a11", "STORE 1 +FLAGS (\\Deleted)")
assert(u[1].raw:find("FLAGS %(\\Deleted \\Seen%)"), u[1].raw)
u = ok(c, "a12", "EXPUNGE")
assert(u[1].raw == "* 1 EXPUNGE\r\n" and #u == 1, u[1].raw)
assert(store:count("alice") == 1)
u = ok(other, "b3", "NOOP")
assert(u[1].raw == "* 1 EXPUNGE\r\n", "the other session learns of the expunge: " .. u[1].raw)

local appended = "Subject: appended\r\n\r\nx\r\n"
c:send("a13 APPEND INBOX (\\Flagged) {" .. #appended .. "}")
assert(c:read_reply().raw:find("^%+"))
c:send_raw(appended .. "\r\n")
u, r = finish(c, "a13")
assert(r.raw:find("^a13 OK %[APPENDUID"), r.raw)
local plus = "Subject: literal+\r\n\r\nyz\r\n"
c:send_raw("a15 APPEND INBOX {" .. #plus .. "+}\r\n" .. plus .. "\r\n")
u, r = finish(c, "a15")
assert(r.raw:find("APPENDUID " .. store.uidvalidity .. " 4"), r.raw)
assert(store:count("alice") == 3 and store:messages("alice")[2].flags["\\Flagged"])
assert(store:messages("alice")[2].text == appended and store:messages("alice")[3].text == plus)

-- IDLE in the other session, woken by a delivery
other:send("b4 IDLE")
assert(other:read_reply().raw:find("^%+ idling"))
local seen = other:read_reply()  -- the appends of the first session
spawn(function()
  sleep(0.3)
  store:deliver("alice", "Subject: pushed\r\n\r\nnew\r\n")
end)
local pushed
repeat pushed = other:read_reply() until pushed.raw == "* 4 EXISTS\r\n"
other:send("DONE")
_, r = finish(other, "b4")
assert(r.raw:find("^b4 OK IDLE"), r.raw)
ok(other, "b5", "LOGOUT")

u = ok(c, "a16", "LOGOUT")
assert(u[#u].raw:find("^%* BYE"))
assert(#m.errors == 0, table.concat(m.errors, "\n"))
print("imap mock ok")
