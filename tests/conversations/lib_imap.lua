-- parley.imap against a scripted IMAP server: greeting capabilities, STARTTLS, LOGIN with
-- strings that need quoting or a literal, AUTHENTICATE (PLAIN without SASL-IR, SCRAM-SHA-256),
-- SELECT, LIST, STATUS, CREATE/RENAME/DELETE with a non-ASCII name, APPEND (synchronising and
-- LITERAL+), SEARCH, FETCH with literals and ENVELOPE, STORE, COPY, MOVE, EXPUNGE, IDLE,
-- LOGOUT, the response parser on its own, and the refusals.
-- exit: 0
-- stdout: all imap checks passed
-- stderr-not: pa"ss\\word
-- within: 30
local imap = require "parley.imap"
local crypto = require "parley.crypto"

local PASS = 'pa"ss\\word'
local function check(cond, msg) if not cond then fail(msg) end end

-- 1. The parser alone.
do
  local r = imap.parse_response('* 12 FETCH (UID 4827 FLAGS (\\Seen $Junk) RFC822.SIZE 44 ' ..
    'BODY[HEADER.FIELDS (SUBJECT FROM)] {5}\r\nhello INTERNALDATE "17-Jul-1996 02:44:25 -0700" ' ..
    'ENVELOPE ("Wed, 17 Jul 1996" "IMAP4rev1 WG mtg" (("Terry Gray" NIL "gray" "cac.washington.edu")) ' ..
    'NIL NIL ((NIL NIL "imap" "cac.washington.edu")) NIL NIL NIL "<B27397-0100000@cac.washington.edu>"))')
  check(r.type == "FETCH" and r.number == 12, "fetch type")
  local m = r.items
  check(m.UID == 4827 and m.FLAGS[1] == "\\Seen" and m.FLAGS[2] == "$Junk" and m["RFC822.SIZE"] == 44, "items")
  check(m["BODY[HEADER.FIELDS (SUBJECT FROM)]"] == "hello", "section with literal")
  check(m.ENVELOPE.subject == "IMAP4rev1 WG mtg" and m.ENVELOPE.from[1].address == "gray@cac.washington.edu", "envelope")
  check(m.ENVELOPE.from[1].name == "Terry Gray" and m.ENVELOPE.sender == nil and m.ENVELOPE.to[1].name == nil, "envelope NIL")
  r = imap.parse_response("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited")
  check(r.status == "OK" and r.code == "PERMANENTFLAGS" and r.code_args[1][3] == "\\*" and r.message == "Limited", "code")
  r = imap.parse_response("A0003 OK [APPENDUID 38505 3955] APPEND completed")
  check(r.tag == "A0003" and r.appenduid.uidvalidity == 38505 and r.appenduid.uid == 3955, "appenduid")
  r = imap.parse_response('* LIST (\\HasNoChildren \\Marked) "." "Entw&APw-rfe"')
  check(r.name == "Entwürfe" and r.raw_name == "Entw&APw-rfe" and r.delimiter == "." and r.flags[2] == "\\Marked", "list")
  r = imap.parse_response('* STATUS "a b" (MESSAGES 231 UIDNEXT 44292)')
  check(r.mailbox == "a b" and r.items.MESSAGES == 231 and r.items.UIDNEXT == 44292, "status")
  r = imap.parse_response("* SEARCH 2 84 882")
  check(#r.numbers == 3 and r.numbers[3] == 882, "search")
  r = imap.parse_response('* 1 FETCH (BODY[TEXT] "a \\"quoted\\" \\\\ text" X-GM-LABELS NIL)')
  check(r.items["BODY[TEXT]"] == 'a "quoted" \\ text' and r.items["X-GM-LABELS"] == nil, "quoted escapes, NIL")
  check(imap.utf7_encode("Entwürfe & Co 日本") == "Entw&APw-rfe &- Co &ZeVnLA-", imap.utf7_encode("Entwürfe & Co 日本"))
  check(imap.utf7_decode("Entw&APw-rfe &- Co &ZeVnLA-") == "Entwürfe & Co 日本", "utf7 decode")
  local ok, err = pcall(imap.parse_response, "* 1 FETCH (BODY[] {99}\r\nshort)")
  check(not ok and err.exit == 1, "bad literal")
end

-- 2. A server.
local MSGS = {
  { uid = 101, flags = { "\\Seen" }, text = "Subject: first\r\nFrom: a@example.net\r\n\r\nbody one\r\n" },
  { uid = 102, flags = {}, text = "Subject: second\r\nFrom: b@example.net\r\n\r\nbody two\r\n" },
}

local function read_command(c, st)
  local line = c:read_line()
  if not line then return nil end
  local full = line
  while true do
    local n, plus = line:match("{(%d+)(%+?)}$")
    if not n then break end
    if plus == "" then c:send("+ go ahead") else st.nonsync = true end
    full = full .. "\r\n" .. c:read(tonumber(n))
    line = c:read_line()
    full = full .. line
  end
  return full
end

local function flags(list) return "(" .. table.concat(list, " ") .. ")" end

local function fetch_line(i, m, what)
  local parts = { "UID " .. m.uid, "FLAGS " .. flags(m.flags) }
  if what:find("BODY") then parts[#parts + 1] = "BODY[] {" .. #m.text .. "}\r\n" .. m.text end
  if what:find("ENVELOPE") then
    parts[#parts + 1] = 'ENVELOPE (NIL "' .. m.text:match("Subject: ([^\r]+)") .. '" NIL NIL NIL NIL NIL NIL NIL NIL)'
  end
  return "* " .. i .. " FETCH (" .. table.concat(parts, " ") .. ")"
end

local function scram(c, tag, first)
  local bare = first:gsub("^n,[^,]*,", "")
  local cnonce = bare:match("r=([^,]+)")
  local salt = "imap-salt"
  local sf = "r=" .. cnonce .. "IMAP,s=" .. crypto.b64encode(salt) .. ",i=4096"
  c:send("+ " .. crypto.b64encode(sf))
  local final = crypto.b64decode(c:read_line())
  local without, proof = final:match("^(.*),p=(.*)$")
  local salted = crypto.pbkdf2("sha256", PASS, salt, 4096, 32)
  local am = bare .. "," .. sf .. "," .. without
  local stored = crypto.digest("sha256", crypto.hmac("sha256", salted, "Client Key"))
  local ck = crypto.xor(crypto.b64decode(proof), crypto.hmac("sha256", stored, am))
  if crypto.digest("sha256", ck) ~= stored then return c:send(tag .. " NO [AUTHENTICATIONFAILED] bad") end
  local sig = crypto.hmac("sha256", crypto.hmac("sha256", salted, "Server Key"), am)
  c:send("+ " .. crypto.b64encode("v=" .. crypto.b64encode(sig)))
  if c:read_line() ~= "" then return c:send(tag .. " BAD expected empty") end
  c:send(tag .. " OK authenticated")
end

local handlers = {}
function handlers.CAPABILITY(c, st, tag)
  local caps = st.caps
  if c.tls then caps = caps:gsub(" STARTTLS", "") end
  c:send("* CAPABILITY " .. caps)
  c:send(tag .. " OK done")
end
function handlers.STARTTLS(c, st, tag)
  c:send(tag .. " OK begin TLS")
  c:starttls{}
end
function handlers.LOGIN(c, st, tag, args)
  st.login = { args[3], args[4] }
  if args[4] == PASS then c:send(tag .. " OK [CAPABILITY IMAP4rev1 IDLE MOVE UIDPLUS LITERAL+] logged in")
  else c:send(tag .. " NO [AUTHENTICATIONFAILED] Authentication failed.") end
end
function handlers.AUTHENTICATE(c, st, tag, args)
  local mech, ir = args[3], args[4]
  if mech == "PLAIN" then
    if not ir then c:send("+ "); ir = c:read_line() end
    local ok = crypto.b64decode(ir) == "\0alice\0" .. PASS
    c:send(tag .. (ok and " OK logged in" or " NO [AUTHENTICATIONFAILED] no"))
  else
    scram(c, tag, crypto.b64decode(ir))
  end
end
local function open(c, st, tag, args)
  st.selected = args[3]
  c:send("* " .. #MSGS .. " EXISTS")
  c:send("* 0 RECENT")
  c:send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)")
  c:send("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited")
  c:send("* OK [UIDVALIDITY 3857529045] UIDs valid")
  c:send("* OK [UIDNEXT 103] Predicted next UID")
  c:send(tag .. " OK [" .. (args[2] == "EXAMINE" and "READ-ONLY" or "READ-WRITE") .. "] done")
end
handlers.SELECT, handlers.EXAMINE = open, open
function handlers.LIST(c, st, tag)
  c:send('* LIST (\\HasNoChildren) "/" INBOX')
  c:send('* LIST (\\HasNoChildren) "/" "Entw&APw-rfe"')
  c:send_raw('* LIST (\\HasNoChildren) "/" {10}\r\nwith "q" x\r\n')
  c:send(tag .. " OK done")
end
function handlers.STATUS(c, st, tag, args)
  c:send('* STATUS "' .. args[3] .. '" (MESSAGES 2 UNSEEN 1)')
  c:send(tag .. " OK done")
end
function handlers.CREATE(c, st, tag, args) st.created = args[3]; c:send(tag .. " OK done") end
function handlers.RENAME(c, st, tag, args) st.renamed = { args[3], args[4] }; c:send(tag .. " OK done") end
function handlers.DELETE(c, st, tag, args)
  if args[3] == "nonexistent" then return c:send(tag .. " NO [NONEXISTENT] no such mailbox") end
  c:send(tag .. " OK done")
end
function handlers.APPEND(c, st, tag, args)
  st.appended = args[#args]
  MSGS[#MSGS + 1] = { uid = 100 + #MSGS + 1, flags = {}, text = args[#args] }
  c:send(tag .. " OK [APPENDUID 3857529045 " .. MSGS[#MSGS].uid .. "] done")
end
function handlers.SEARCH(c, st, tag, args)
  st.search = args
  c:send("* SEARCH 2 3")
  c:send(tag .. " OK done")
end
function handlers.FETCH(c, st, tag, args, line)
  for i, m in ipairs(MSGS) do c:send_raw(fetch_line(i, m, line) .. "\r\n") end
  c:send(tag .. " OK done")
end
function handlers.UID(c, st, tag, args, line)
  local sub = tostring(args[3]):upper()
  if sub == "FETCH" then return handlers.FETCH(c, st, tag, args, line) end
  if sub == "SEARCH" then c:send("* SEARCH 101 102"); return c:send(tag .. " OK done") end
  c:send(tag .. " BAD unsupported")
end
function handlers.STORE(c, st, tag, args)
  c:send("* 1 FETCH (FLAGS (\\Seen \\Deleted))")
  c:send(tag .. " OK done")
end
function handlers.COPY(c, st, tag) c:send(tag .. " OK [COPYUID 38505 101:102 3956:3957] done") end
function handlers.MOVE(c, st, tag)
  c:send("* OK [COPYUID 38505 101 3958] moved")
  c:send("* 1 EXPUNGE")
  c:send(tag .. " OK done")
end
function handlers.EXPUNGE(c, st, tag)
  c:send("* 3 EXPUNGE"); c:send("* 1 EXPUNGE")
  c:send(tag .. " OK done")
end
function handlers.IDLE(c, st, tag)
  c:send("+ idling")
  sleep(0.05)
  c:send("* OK Still here")
  sleep(0.1)
  c:send_raw("* 4 EXISTS\r\n* 1 RECENT\r\n")
  st.done = c:read_line()
  c:send(tag .. " OK IDLE terminated")
end
function handlers.NOOP(c, st, tag) c:send(tag .. " OK done") end
function handlers.LOGOUT(c, st, tag)
  c:send("* BYE logging out")
  c:send(tag .. " OK done")
  c:close()
  return "quit"
end

local function serve(srv, st)
  local c = srv:accept()
  st.lines = {}
  c:send("* OK [CAPABILITY " .. st.caps .. "] mock ready")
  while true do
    local line = read_command(c, st)
    if not line then return st end
    st.lines[#st.lines + 1] = line
    local args = imap.parse_values(line) or {}
    local tag, verb = args[1], tostring(args[2] or ""):upper()
    local h = handlers[verb]
    if not h then c:send(tostring(tag) .. " BAD unknown command")
    elseif h(c, st, tag, args, line) == "quit" then return st end
  end
end

local srv = listen { port = 0 }

-- 3. STARTTLS, LOGIN with quoting, the mailbox commands
do
  MSGS[3] = nil
  local st = { caps = "IMAP4rev1 STARTTLS AUTH=PLAIN AUTH=SCRAM-SHA-256 IDLE MOVE UIDPLUS" }
  local task = spawn(serve, srv, st)
  local s = imap.connect { port = srv.port, tls = "starttls", verify = false }
  check(s.tls and not s.caps.STARTTLS and s.caps.AUTH.PLAIN, "starttls and caps")
  local r = s:login("alice", "wrong-password", { expect = "NO" })
  check(r.status == "NO" and r.code == "AUTHENTICATIONFAILED", "expected NO")
  local ok, err = pcall(s.login, s, "alice", "wrong-password")
  check(not ok and err.exit == 1 and err.message:find("LOGIN alice: expected OK, got: A%d+ NO %[AUTHENTICATIONFAILED%]"), tostring(err))
  s:login("alice", secret(PASS))
  check(st.login[1] == "alice" and st.login[2] == PASS, "password arrived intact")
  check(s.caps["LITERAL+"], "caps from the LOGIN response code")
  local box = s:select("INBOX")
  check(box.exists == 2 and box.uidvalidity == 3857529045 and box.uidnext == 103 and #box.flags == 5, "select")
  check(box.permanentflags[3] == "\\*" and not box.read_only, "permanentflags")
  local boxes = s:list()
  check(#boxes == 3 and boxes[2].name == "Entwürfe" and boxes[3].name == 'with "q" x', "list")
  local counts = s:status("a b")
  check(counts.MESSAGES == 2 and counts.UNSEEN == 1, "status")
  s:create("Entwürfe 2")
  check(st.created == "Entw&APw-rfe 2", "mailbox name in modified UTF-7: " .. tostring(st.created))
  s:rename("a", 'b "c"')
  check(st.renamed[2] == 'b "c"', "rename quoting")
  s:delete("nonexistent", { expect = "NO" })
  local msgs = s:fetch("1:*", "(UID FLAGS BODY.PEEK[] ENVELOPE)")
  check(msgs[1].UID == 101 and msgs[1].FLAGS[1] == "\\Seen" and #msgs[2].FLAGS == 0, "fetch flags")
  check(msgs[2]["BODY[]"] == MSGS[2].text and msgs[2].ENVELOPE.subject == "second", "fetch body and envelope")
  msgs = s:uid_fetch({ 101, 102 }, { "UID", "FLAGS" })
  check(msgs[2].UID == 102, "uid fetch")
  local found = s:search { "SUBJECT", "hello world", "UNSEEN" }
  check(#found == 2 and found[1] == 2 and st.search[3] == "SUBJECT" and st.search[4] == "hello world", "search")
  check(s:uid_search("ALL")[2] == 102, "uid search")
  local stored = s:store(1, "+FLAGS", { "\\Deleted" })
  check(stored[1].FLAGS[2] == "\\Deleted", "store")
  check(s:copy("1:2", "Archive").copyuid.dest == "3956:3957", "copyuid")
  check(s:move(1, "Archive").copyuid.dest == "3958", "move")
  local gone = s:expunge()
  check(gone[1] == 3 and gone[2] == 1, "expunge")
  -- APPEND with LITERAL+ (offered after login), then a synchronising literal
  r = s:append("INBOX", "Subject: appended\n\nhi\n", { flags = { "\\Seen" } })
  check(st.nonsync and r.appenduid.uid == 103 and st.appended == "Subject: appended\r\n\r\nhi\r\n", "append literal+")
  s.caps["LITERAL+"] = nil
  st.nonsync = nil
  r = s:append("INBOX", { from = "a@example.net", to = "b@example.net", subject = "built", body = "x" })
  check(not st.nonsync and r.appenduid.uid == 104 and st.appended:find("Subject: built"), "append sync")
  -- IDLE: the keep-alive is not news, EXISTS is
  local got, _, woke = s:idle(5)
  check(woke == "news", "IDLE says it woke on news: " .. tostring(woke))
  local types = {}
  for _, x in ipairs(got) do types[#types + 1] = x.type .. (x.number and (" " .. x.number) or "") end
  check(table.concat(types, ",") == "OK,EXISTS 4,RECENT 1" and s.mailbox.exists == 4, table.concat(types, ","))
  check(st.done == "DONE", "DONE sent")
  local t0 = os.clock()
  s:logout()
  task:join()
end

-- 4. AUTHENTICATE: PLAIN without SASL-IR (empty continuation first), SCRAM with SASL-IR
for _, mech in ipairs { "PLAIN", "SCRAM-SHA-256" } do
  local st = { caps = "IMAP4rev1 AUTH=PLAIN AUTH=SCRAM-SHA-256" .. (mech == "PLAIN" and "" or " SASL-IR") }
  local task = spawn(serve, srv, st)
  local s = imap.connect { port = srv.port }
  local r = s:authenticate(mech, "alice", secret(PASS))
  check(r.status == "OK" and s.authenticated, mech)
  s:logout(); task:join()
  check(st.lines[1]:match(mech == "PLAIN" and "AUTHENTICATE PLAIN$" or "AUTHENTICATE SCRAM%-SHA%-256 %S+$"), st.lines[1])
end

-- 5. Refusals
do
  local st = { caps = "IMAP4rev1 LOGINDISABLED" }
  local task = spawn(serve, srv, st)
  local s = imap.connect { port = srv.port }
  local ok, err = pcall(s.login, s, "alice", PASS)
  check(not ok and err.exit == 3 and err.message:find("LOGINDISABLED"), tostring(err))
  ok, err = pcall(s.command, s, "NOOP\r\nA9 DELETE INBOX")
  check(not ok and err.exit == 2, "CRLF in a command")
  ok, err = pcall(s.fetch, s, "1:* BODY[]", "FLAGS")
  check(not ok and err.exit == 2, "bad sequence set")
  ok, err = pcall(s.starttls, s)
  check(not ok and err.exit == 3 and err.message:find("not offered"), tostring(err))
  task:join()
  check(#st.lines == 0, "nothing was sent")
end

print("all imap checks passed")
