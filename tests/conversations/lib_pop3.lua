-- parley.pop3 against a scripted POP3 server: greeting with an APOP timestamp, CAPA, STLS,
-- USER/PASS, APOP, AUTH PLAIN and SCRAM-SHA-256, STAT, LIST, UIDL, RETR (dot-unstuffed),
-- TOP, DELE, RSET, NOOP, QUIT, expected -ERR replies and STLS that is not offered.
-- exit: 0
-- stdout: all pop3 checks passed
-- stderr-not: sesame-open
-- within: 30
local pop3 = require "parley.pop3"
local crypto = require "parley.crypto"

local PASS = "sesame-open"
local STAMP = "<1896.697170952@dbc.mtview.ca.us>"
local MSGS = {
  "Subject: one\r\n\r\n.dot line\r\nbody\r\n",
  "Subject: two\r\nX-Long: yes\r\n\r\nline 1\r\nline 2\r\nline 3\r\n",
}

local function block(c, text)
  for line in text:gmatch("([^\r\n]*)\r\n") do
    c:send(line:sub(1, 1) == "." and "." .. line or line)
  end
  c:send(".")
end

local function scram(c, first)
  local bare = first:gsub("^n,[^,]*,", "")
  local cnonce = bare:match("r=([^,]+)")
  local salt = "pop-salt"
  local sf = "r=" .. cnonce .. "XYZ,s=" .. crypto.b64encode(salt) .. ",i=4096"
  c:send("+ " .. crypto.b64encode(sf))
  local final = crypto.b64decode(c:read_line())
  local without, proof = final:match("^(.*),p=(.*)$")
  local salted = crypto.pbkdf2("sha256", PASS, salt, 4096, 32)
  local am = bare .. "," .. sf .. "," .. without
  local stored = crypto.digest("sha256", crypto.hmac("sha256", salted, "Client Key"))
  local ck = crypto.xor(crypto.b64decode(proof), crypto.hmac("sha256", stored, am))
  if crypto.digest("sha256", ck) ~= stored then return c:send("-ERR [AUTH] bad proof") end
  local sig = crypto.hmac("sha256", crypto.hmac("sha256", salted, "Server Key"), am)
  c:send("+ " .. crypto.b64encode("v=" .. crypto.b64encode(sig)))
  if c:read_line() ~= "" then return c:send("-ERR expected empty") end
  c:send("+OK logged in")
end

local function serve(srv, st)
  local c = srv:accept()
  c:set_framing("line")
  st.lines = {}
  c:send("+OK POP3 mock ready " .. STAMP)
  local deleted = {}
  while true do
    local line = c:read_line()
    if not line then return st end
    st.lines[#st.lines + 1] = line
    local verb, arg = line:match("^(%S+)%s*(.*)$")
    verb = (verb or ""):upper()
    local n = tonumber(arg:match("^(%d+)"))
    if verb == "CAPA" then
      c:send("+OK capabilities follow")
      for _, cap in ipairs(st.caps or {}) do
        if not (cap == "STLS" and c.tls) then c:send(cap) end
      end
      c:send(".")
    elseif verb == "STLS" then
      c:send("+OK begin TLS")
      c:starttls{}
    elseif verb == "USER" then
      c:send("+OK")
    elseif verb == "PASS" then
      c:send(arg == PASS and "+OK logged in" or "-ERR [AUTH] invalid password")
    elseif verb == "APOP" then
      local want = "alice " .. crypto.hex(crypto.digest("md5", STAMP .. PASS))
      c:send(arg == want and "+OK maildrop locked" or "-ERR [AUTH] bad digest")
    elseif verb == "AUTH" then
      local mech, ir = arg:match("^(%S+)%s*(.*)$")
      if mech == "PLAIN" then
        c:send(crypto.b64decode(ir) == "\0alice\0" .. PASS and "+OK ok" or "-ERR [AUTH] no")
      else
        scram(c, crypto.b64decode(ir))
      end
    elseif verb == "STAT" then
      c:send("+OK 2 " .. (#MSGS[1] + #MSGS[2]))
    elseif verb == "LIST" and n then
      c:send("+OK " .. n .. " " .. #MSGS[n])
    elseif verb == "LIST" then
      c:send("+OK 2 messages")
      c:send("1 " .. #MSGS[1]); c:send("2 " .. #MSGS[2]); c:send(".")
    elseif verb == "UIDL" and n then
      c:send("+OK " .. n .. " uid-" .. n)
    elseif verb == "UIDL" then
      c:send("+OK"); c:send("1 uid-1"); c:send("2 uid-2"); c:send(".")
    elseif verb == "RETR" then
      if not MSGS[n] or deleted[n] then c:send("-ERR no such message") else
        c:send("+OK " .. #MSGS[n] .. " octets"); block(c, MSGS[n])
      end
    elseif verb == "TOP" then
      local head, body = MSGS[n]:match("^(.-\r\n\r\n)(.*)$")
      local k = tonumber(arg:match("%d+%s+(%d+)"))
      local out = head
      for l in body:gmatch("[^\r\n]*\r\n") do
        if k == 0 then break end
        out, k = out .. l, k - 1
      end
      c:send("+OK"); block(c, out)
    elseif verb == "DELE" then
      deleted[n] = true
      c:send("+OK deleted")
    elseif verb == "RSET" or verb == "NOOP" then
      c:send("+OK")
    elseif verb == "QUIT" then
      c:send("+OK bye")
      c:close()
      return st
    else
      c:send("-ERR unknown command")
    end
  end
end

local srv = listen { port = 0 }
local function check(cond, msg) if not cond then fail(msg) end end

-- STLS at connect, USER/PASS and the mailbox commands
do
  local st = { caps = { "STLS", "USER", "TOP", "UIDL", "SASL PLAIN SCRAM-SHA-256", "IMPLEMENTATION mock pop" } }
  local task = spawn(serve, srv, st)
  local p = pop3.connect { port = srv.port, tls = "starttls", verify = false }
  check(p.tls and p.tls.version, "TLS")
  check(p.caps.USER and not p.caps.STLS and p.caps.SASL.PLAIN and p.caps.IMPLEMENTATION == "mock pop", "caps")
  check(p.apop_stamp == STAMP, "apop stamp")
  local bad = p:login("alice", "wrong-password", { expect = "-ERR" })
  check(bad.status == "-ERR", "expected -ERR")
  check(p:login("alice", secret(PASS)).ok, "login")
  local count, size = p:stat()
  check(count == 2 and size == #MSGS[1] + #MSGS[2], "stat")
  local sizes, order = p:list()
  check(sizes[1] == #MSGS[1] and sizes[2] == #MSGS[2] and #order == 2, "list")
  check(p:list(2) == #MSGS[2], "list 2")
  local uids = p:uidl()
  check(uids[2] == "uid-2" and p:uidl(1) == "uid-1", "uidl")
  check(p:retr(1) == MSGS[1], "retr unstuffs: " .. tostring(p:retr(1)))
  check(p:top(2, 1) == "Subject: two\r\nX-Long: yes\r\n\r\nline 1\r\n", "top")
  p:dele(1)
  local ok, err = pcall(p.retr, p, 1)
  check(not ok and err.exit == 1 and err.message:find("RETR 1: expected %+OK, got: %-ERR no such message"), tostring(err))
  p:rset(); p:noop()
  p:quit()
  task:join()
  check(st.lines[1] == "CAPA" and st.lines[2] == "STLS" and st.lines[3] == "CAPA", "stls sequence")
end

-- APOP, AUTH PLAIN, AUTH SCRAM-SHA-256, AUTH with no mechanism named
for _, how in ipairs { "apop", "PLAIN", "SCRAM-SHA-256", "best" } do
  local st = { caps = { "SASL PLAIN SCRAM-SHA-256" } }
  local task = spawn(serve, srv, st)
  local p = pop3.connect { port = srv.port }
  local r
  if how == "apop" then
    r = p:apop("alice", PASS)
  elseif how == "best" then
    r = p:auth(nil, "alice", PASS)
  else
    r = p:auth(how, "alice", secret(PASS))
  end
  check(r.ok and p.authenticated, how)
  p:quit(); task:join()
  if how == "best" then check(st.lines[2]:match("^AUTH SCRAM%-SHA%-256 "), st.lines[2]) end
end

-- STLS not offered: exit 3 before anything else is sent
do
  local st = { caps = { "USER" } }
  local task = spawn(serve, srv, st)
  local ok, err = pcall(pop3.connect, { port = srv.port, tls = "starttls" })
  check(not ok and err.exit == 3 and err.message:find("STLS asked for but not offered"), tostring(err))
  task:join()
  check(#st.lines == 1, "only CAPA was sent")
end

print("all pop3 checks passed")
