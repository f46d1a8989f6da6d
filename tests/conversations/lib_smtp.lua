-- parley.smtp against a scripted SMTP server played in the same script: EHLO capabilities,
-- STARTTLS, AUTH (PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256 with the server signature checked),
-- MAIL/RCPT with DSN parameters, DATA with dot-stuffing and CRLF normalisation, PIPELINING,
-- BDAT, LMTP per-recipient replies, RSET/NOOP/VRFY/EXPN/HELP, and the refusals (injection,
-- bare CR, STARTTLS not offered, a server that does not know the password).
-- exit: 0
-- stdout: all smtp checks passed
-- stderr-not: hunter2
-- within: 30
local smtp = require "parley.smtp"
local crypto = require "parley.crypto"
local parley = require "parley"

local PASS = "hunter2"

-- The server side of SCRAM-SHA-256 (RFC 5802 section 3), for the mock.
local function scram_server(c, first, good)
  local bare = first:gsub("^n,[^,]*,", "")
  local cnonce = bare:match("r=([^,]+)")
  local salt = "pepper-salt"
  local server_first = "r=" .. cnonce .. "SRV,s=" .. crypto.b64encode(salt) .. ",i=4096"
  c:send("334 " .. crypto.b64encode(server_first))
  local final = crypto.b64decode(c:read_line())
  local without_proof, proof = final:match("^(.*),p=(.*)$")
  local salted = crypto.pbkdf2("sha256", PASS, salt, 4096, 32)
  local auth_message = bare .. "," .. server_first .. "," .. without_proof
  local stored = crypto.digest("sha256", crypto.hmac("sha256", salted, "Client Key"))
  local client_key = crypto.xor(crypto.b64decode(proof), crypto.hmac("sha256", stored, auth_message))
  if crypto.digest("sha256", client_key) ~= stored then return c:send("535 5.7.8 bad proof") end
  local sig = crypto.hmac("sha256", crypto.hmac("sha256", salted, "Server Key"), auth_message)
  if not good then sig = crypto.digest("sha256", "not the key") end
  c:send("334 " .. crypto.b64encode("v=" .. crypto.b64encode(sig)))
  if c:read_line() ~= "" then return c:send("501 expected an empty line") end
  c:send("235 2.7.0 Authentication successful")
end

local function auth(c, st, line)
  local mech, ir = line:match("^AUTH (%S+) ?(.*)$")
  if mech == "PLAIN" then
    local v = crypto.b64decode(ir)
    st.auth = v
    return c:send(v == "\0alice\0" .. PASS and "235 2.7.0 ok" or "535 5.7.8 bad credentials")
  elseif mech == "LOGIN" then
    c:send("334 " .. crypto.b64encode("Username:"))
    local u = crypto.b64decode(c:read_line())
    c:send("334 " .. crypto.b64encode("Password:"))
    local p = crypto.b64decode(c:read_line())
    return c:send((u == "alice" and p == PASS) and "235 2.7.0 ok" or "535 5.7.8 no")
  elseif mech == "CRAM-MD5" then
    local challenge = "<1234.5678@mock>"
    c:send("334 " .. crypto.b64encode(challenge))
    local resp = crypto.b64decode(c:read_line())
    local want = "alice " .. crypto.hex(crypto.hmac("md5", PASS, challenge))
    return c:send(resp == want and "235 2.7.0 ok" or "535 5.7.8 no")
  elseif mech == "SCRAM-SHA-256" then
    return scram_server(c, crypto.b64decode(ir), st.scram ~= "bad")
  end
  c:send("504 5.5.4 unknown mechanism")
end

local function read_data(c)
  local lines = {}
  while true do
    local l = c:read_line()
    if l == "." or l == nil then break end
    if l:sub(1, 1) == "." then l = l:sub(2) end
    lines[#lines + 1] = l
  end
  return table.concat(lines, "\n") .. "\n"
end

-- One client per call; `st` configures the server and collects what it saw.
local function serve(srv, st)
  local c = srv:accept()
  st.lines = {}
  c:send(st.greeting or "220 mock.example ESMTP")
  while true do
    local line = c:read_line()
    if not line then return st end
    st.lines[#st.lines + 1] = line
    local verb = (line:match("^(%a+)") or ""):upper()
    if verb == "EHLO" or verb == "LHLO" then
      c:send("250-mock.example")
      for _, cap in ipairs(st.caps or {}) do
        if not (cap == "STARTTLS" and c.tls) then c:send("250-" .. cap) end
      end
      c:send("250 ENHANCEDSTATUSCODES")
    elseif verb == "STARTTLS" then
      c:send("220 2.0.0 go ahead")
      c:starttls{}
    elseif verb == "AUTH" then
      auth(c, st, line)
    elseif verb == "MAIL" then
      st.mail = line
      c:send("250 2.1.0 ok")
    elseif verb == "RCPT" then
      st.rcpts = st.rcpts or {}
      st.rcpts[#st.rcpts + 1] = line
      if line:find("elsewhere%.test") then
        c:send("554 5.7.1 <victim@elsewhere.test>: Relay access denied")
      else
        c:send("250 2.1.5 ok")
      end
    elseif verb == "DATA" then
      c:send("354 go on")
      st.data = read_data(c)
      if st.lmtp then
        for i = 1, #st.rcpts do c:send("250 2.0.0 <r" .. i .. "> delivered") end
      else
        c:send("250 2.0.0 Ok: queued as ABC123")
      end
    elseif verb == "BDAT" then
      local n, last = line:match("^BDAT (%d+)( ?L?A?S?T?)")
      st.data = (st.data or "") .. c:read(tonumber(n))
      c:send(last == " LAST" and "250 2.0.0 Ok: queued as BDAT1" or "250 2.0.0 chunk ok")
    elseif verb == "RSET" or verb == "NOOP" then
      c:send("250 2.0.0 ok")
    elseif verb == "VRFY" then
      c:send("252 2.5.2 cannot verify")
    elseif verb == "EXPN" then
      c:send("502 5.5.1 EXPN not available")
    elseif verb == "HELP" then
      c:send("214-2.0.0 commands:")
      c:send("214 2.0.0 EHLO MAIL RCPT DATA")
    elseif verb == "QUIT" then
      c:send("221 2.0.0 bye")
      c:close()
      return st
    else
      c:send("502 5.5.2 unknown")
    end
  end
end

local srv = listen { port = 0 }
local function session(st, opts)
  local task = spawn(serve, srv, st)
  opts = opts or {}
  opts.host, opts.port = "127.0.0.1", srv.port
  return smtp.connect(opts), task
end

local function check(cond, msg)
  if not cond then fail(msg) end
end

-- 1. EHLO capabilities, AUTH PLAIN, a transaction with DSN, DATA with dot-stuffing.
do
  local st = { caps = { "PIPELINING", "SIZE 10240000", "AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256",
                        "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING", "X-CUSTOM a b" } }
  local s, task = session(st, { helo = "client.example" })
  check(s.greeting.code == 220, "greeting")
  check(s.caps.PIPELINING == true and s.caps.SIZE == 10240000, "PIPELINING, SIZE")
  check(s.caps.AUTH.PLAIN and s.caps.AUTH["SCRAM-SHA-256"] and not s.caps.AUTH.GSSAPI, "AUTH set")
  check(s.caps["8BITMIME"] and s.caps.DSN and s.caps.SMTPUTF8 and s.caps.CHUNKING, "flags")
  check(s.caps.ENHANCEDSTATUSCODES == true and s.caps["X-CUSTOM"] == "a b", "generic caps")
  check(#s.caps_list == 9, "caps_list has " .. #s.caps_list)
  local r = s:auth("PLAIN", "alice", secret(PASS))
  check(r.code == 235 and s.authenticated, "auth plain")
  s:mail("alice@example.net", { size = 1234, ret = "HDRS", envid = "id+1" })
  s:rcpt("bob@example.net", { notify = { "SUCCESS", "FAILURE" }, orcpt = true })
  r = s:rcpt("victim@elsewhere.test", { expect = "5xx" })
  check(r.code == 554 and r.enhanced == "5.7.1", "expected refusal is returned")
  r = s:data("Subject: hi\n\nHello\n.leading dot\n..two dots\n.\nend")
  check(r.code == 250 and r.queue_id == "ABC123", "queue id " .. tostring(r.queue_id))
  s:noop(); s:rset()
  check(s:vrfy("bob").code == 252, "vrfy")
  check(s:expn("staff", { expect = 502 }).code == 502, "expn")
  check(#s:help().lines == 2, "help")
  check(s:command("NOOP", 250).code == 250, "command")
  s:quit()
  task:join()
  check(st.mail == "MAIL FROM:<alice@example.net> SIZE=1234 RET=HDRS ENVID=id+2B1", st.mail)
  check(st.rcpts[1] == "RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.net", st.rcpts[1])
  check(st.data == "Subject: hi\n\nHello\n.leading dot\n..two dots\n.\nend\n", "data: " .. st.data)
end

-- 2. The other mechanisms.
for _, mech in ipairs { "LOGIN", "CRAM-MD5", "SCRAM-SHA-256" } do
  local st = { caps = { "AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256" } }
  local s, task = session(st, { helo = "client.example" })
  check(s:auth(mech, "alice", secret(PASS)).code == 235, mech)
  s:quit(); task:join()
end
-- nil picks the strongest in common
do
  local st = { caps = { "AUTH PLAIN SCRAM-SHA-256" } }
  local s, task = session(st, { helo = "client.example" })
  s:auth(nil, "alice", PASS)
  s:quit(); task:join()
  check(st.lines[2]:match("^AUTH SCRAM%-SHA%-256 "), "chose " .. st.lines[2])
end
-- a wrong password is a 535 failure, or what the test expects
do
  local st = { caps = { "AUTH PLAIN" } }
  local s, task = session(st, { helo = "client.example" })
  local ok, err = pcall(s.auth, s, "PLAIN", "alice", "wrong-password")
  check(not ok and err.exit == 1 and err.message:find("AUTH PLAIN: expected 2xx, got: 535 5.7.8"), tostring(err))
  check(s:auth("PLAIN", "alice", "wrong-password", { expect = 535 }).code == 535, "expect 535")
  local ok2, err2 = pcall(s.auth, s, "CRAM-MD5", "alice", "not-offered-pw")
  check(not ok2 and err2.message:find("does not offer it"), "unoffered mechanism")
  s:quit(); task:join()
end
-- a SCRAM server that does not know the password: exit 3
do
  local st = { caps = { "AUTH SCRAM-SHA-256" }, scram = "bad" }
  local s, task = session(st, { helo = "client.example" })
  local ok, err = pcall(s.auth, s, "SCRAM-SHA-256", "alice", PASS)
  check(not ok and err.exit == 3 and err.message:find("signature"), tostring(err))
  task:join()
end

-- 3. STARTTLS: EHLO, STARTTLS, handshake, EHLO again; caps from the second EHLO.
do
  local st = { caps = { "STARTTLS", "AUTH PLAIN" } }
  local s, task = session(st, { tls = "starttls", verify = false, helo = "client.example" })
  check(s.tls and s.tls.version, "under TLS")
  check(not s.caps.STARTTLS and s.caps.AUTH.PLAIN, "caps after TLS")
  s:quit(); task:join()
  check(st.lines[1] == "EHLO client.example" and st.lines[2] == "STARTTLS" and st.lines[3] == "EHLO client.example",
    "starttls sequence")
end
-- STARTTLS not offered: exit 3, nothing more sent in the clear
do
  local st = { caps = { "AUTH PLAIN" } }
  local ok, err = pcall(session, st, { tls = "starttls", helo = "client.example" })
  check(not ok and err.exit == 3 and err.kind == "security" and err.message:find("not offered"), tostring(err))
end

-- 4. PIPELINING: the whole envelope in one batch.
do
  local st = { caps = { "PIPELINING", "SIZE 100000", "8BITMIME" } }
  local s, task = session(st, { helo = "client.example" })
  local res = s:send_message { from = "alice@example.net", to = { "bob@example.net", "carol@example.net" },
                               message = { subject = "Grüße", body = "héllo\n" } }
  check(res.queue_id == "ABC123" and #res.accepted == 2, "send_message")
  check(st.mail:match("^MAIL FROM:<alice@example.net> SIZE=%d+$"), st.mail)
  check(st.data:find("Subject: =%?UTF%-8%?B%?") and st.data:find("To: bob@example.net, carol@example.net"), st.data)
  check(st.data:find("\nh=C3=A9llo\n"), "quoted-printable body")
  s:send_message { from = "alice@example.net", to = "bob@example.net", message = "Subject: x\n\nhéllo\n" }
  check(st.mail == "MAIL FROM:<alice@example.net> SIZE=22 BODY=8BITMIME", st.mail)
  s:quit(); task:join()
  -- partial delivery
  task = spawn(serve, srv, st)
  s = smtp.connect { port = srv.port, helo = "x.example" }
  local ok, err = pcall(s.send_message, s, { from = "a@example.net", to = { "b@example.net", "victim@elsewhere.test" }, message = "x\n" })
  check(not ok and err.message:find("Relay access denied"), tostring(err))
  task:join()
  task = spawn(serve, srv, st)
  s = smtp.connect { port = srv.port, helo = "x.example" }
  local res2 = s:send_message { from = "a@example.net", to = { "b@example.net", "victim@elsewhere.test" },
                                message = "x\n", partial = true }
  check(#res2.accepted == 1 and res2.refused[1] == "victim@elsewhere.test", "partial")
  s:quit(); task:join()
end

-- 5. BDAT and LMTP.
do
  local st = { caps = { "CHUNKING" } }
  local s, task = session(st, { helo = "client.example" })
  local res = s:send_message { from = "a@example.net", to = "b@example.net", message = "Subject: x\n\n.dot\n",
                               chunking = true, chunk_size = 5 }
  check(res.queue_id == "BDAT1", "bdat queue id")
  s:quit(); task:join()
  check(st.data == "Subject: x\r\n\r\n.dot\r\n", "bdat data")

  st = { lmtp = true }
  s, task = session(st, { lmtp = true })
  s:mail("a@example.net")
  s:rcpt("b@example.net"); s:rcpt("c@example.net")
  local replies = s:data("Subject: x\n\nhi\n")
  check(#replies == 2 and replies[2].rcpt == "c@example.net" and replies[2].text:find("<r2>"), "lmtp replies")
  s:quit(); task:join()
  check(st.lines[1] == "LHLO localhost", st.lines[1])
end

-- 6. Refusals that protect the conversation.
do
  local st = {}
  local s, task = session(st, { helo = "client.example" })
  for _, bad in ipairs { "a@b>\r\nRCPT TO:<x@y", "a@b> SIZE=1", "a\nb@c" } do
    local ok, err = pcall(s.mail, s, bad)
    check(not ok and err.exit == 2, "injection via " .. bad)
  end
  local ok, err = pcall(s.mail, s, "a@b", { size = "1 X=2" })
  check(not ok and err.exit == 2, "parameter injection")
  s:mail("<>")
  s:rcpt("bob@example.net")
  ok, err = pcall(s.data, s, "Subject: x\r\n\r\nbare\rCR\n")
  check(not ok and err.exit == 2 and err.message:find("bare CR"), tostring(err))
  ok, err = pcall(s.data, s, { subject = "x\r\nBcc: evil@example.net", body = "x" })
  check(not ok and err.exit == 2, "header injection")
  ok, err = pcall(s.rcpt, s, "victim@elsewhere.test")
  check(not ok and err.exit == 1 and err.message:find("RCPT TO:<victim@elsewhere.test>: expected 2xx, got: 554 5.7.1"),
    tostring(err))
  check(err.message:find("meaning: 554"), "meaning")
  s:quit(); task:join()
  check(st.mail == "MAIL FROM:<>", st.mail)
end

print("all smtp checks passed")
