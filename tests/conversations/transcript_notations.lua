-- transcript_notations.lua: parley.transcript reads the notations people paste (telnet's
-- '> '/'< ', RFC 5321's C:/S:, parley's own -v transcript with [n], swaks's), plays them
-- against a server this script plays, renumbers IMAP tags, takes POP3 multi-line answers as
-- one, replays a masked AUTH with args, and names the transcript's line on a mismatch.
-- exit: 0
-- args: --timeout 5
-- stdout: all notations ran
-- within: 20

local transcript = require "parley.transcript"

local function check(cond, what)
  if not cond then fail(what) end
end

-- A small SMTP server: answers by verb; RCPT of nobody@ is refused.
local function smtp_server()
  local srv = listen { host = "127.0.0.1", port = 0 }
  spawn(function()
    while true do
      local c = srv:accept(10)
      spawn(function()
        c:send("220 mx.test ESMTP ready")
        local data = false
        while true do
          local line = c:read_line(5)
          if not line then return end
          local verb = (line:match("^(%S+)") or ""):upper()
          if data then
            if line == "." then data = false c:send("250 2.0.0 Ok: queued as 4AbC9xYz12") end
          elseif verb == "EHLO" then c:send("250-mx.test") c:send("250-AUTH PLAIN LOGIN") c:send("250 8BITMIME")
          elseif verb == "HELO" then c:send("250 mx.test")
          elseif verb == "AUTH" then
            -- PLAIN with the initial response: \0alice\0sesame
            if line == "AUTH PLAIN AGFsaWNlAHNlc2FtZQ==" then c:send("235 2.7.0 ok") else c:send("535 5.7.8 no") end
          elseif verb == "RCPT" and line:find("nobody@") then c:send("550 5.1.1 <nobody@x.test>: unknown")
          elseif verb == "DATA" then data = true c:send("354 go ahead")
          elseif verb == "QUIT" then c:send("221 2.0.0 Bye") c:close() return
          else c:send("250 2.1.0 Ok") end
        end
      end)
    end
  end)
  return srv
end

local srv = smtp_server()
local args = { host = "127.0.0.1", port = tostring(srv.port), user = "alice", password = secret("sesame") }

local function run(text, name, opts)
  local plan, err = transcript.parse(text, name, opts)
  check(plan, "parse " .. name .. ": " .. tostring(err))
  transcript.run(plan, { args = args, exact = opts and opts.exact })
  return plan
end

run([[
telnet mx.example.net 25
< Trying 192.0.2.1...
< Connected to mx.example.net.
< Escape character is '^]'.
< 220 mx.example.net ESMTP
> HELO me.example
< 250 mx.example.net
> MAIL FROM:<a@example.net>
< 250 Ok
> RCPT TO:<b@example.net>
< 250 Ok
> DATA
< 354 End data with <CR><LF>.<CR><LF>
> Subject: hi
>
> hello
>.
< 250 2.0.0 Ok: queued as 4QXk3Z1Wr8z9
>quit
< 221 Bye
< Connection closed by foreign host.
]], "telnet.txt")

run([[
C: EHLO me.example
S: 250-mx.example.net
S: 250-AUTH PLAIN LOGIN
S: 250 8BITMIME
C: AUTH PLAIN ****
S: 235 2.7.0 Authentication successful
C: QUIT
S: 221 2.0.0 Bye
]], "rfc.txt")

run([[
   0.001 === connected to 127.0.0.1:25
   0.002 <- 220 mx.example.net ESMTP ready
   0.002  -> EHLO me.example
   0.003 <- 250-mx.example.net
   0.003 <- 250-AUTH PLAIN LOGIN
   0.003 <- 250 8BITMIME
   0.004 [2] === connected to 127.0.0.1:25
   0.004 [2] <- 220 mx.example.net ESMTP ready
   0.004 [2]  -> MAIL FROM:<a@example.net>
   0.005 [2] <- 250 2.1.0 Ok
   0.005 [2]  -> QUIT
   0.006 [2] <- 221 2.0.0 Bye
   0.006 [2] === closed
   0.007  -> QUIT
   0.007 <- 221 2.0.0 Bye
]], "parley-v.txt", { exact = true })

run([[
=== Trying 127.0.0.1:25...
=== Connected to 127.0.0.1.
<-  220 mx.example.net ESMTP
 -> EHLO me.example
<-  250-mx.example.net
<-  250-AUTH PLAIN LOGIN
<-  250 8BITMIME
 -> AUTH PLAIN AGFsaWNlAHNlc2FtZQ==
<-  235 2.7.0 ok
 -> QUIT
<-  221 2.0.0 Bye
=== Connection closed with remote host.
]], "swaks.txt")

-- A mismatch names the transcript's line, what it expected, what came and what it means.
local plan = assert(transcript.parse([[
< 220 mx.example.net ESMTP
> HELO me.example
< 250 mx.example.net
> RCPT TO:<nobody@example.net>
< 250 2.1.5 Ok
]], "refused.txt"))
local ok, err = pcall(transcript.run, plan, { args = args })
check(not ok, "a refused recipient must fail")
local msg = tostring(err)
check(msg:find("refused.txt:5: expected 250", 1, true), "line named: " .. msg)
check(msg:find("got: 550 5.1.1", 1, true), "what came: " .. msg)
check(msg:find("meaning: 550", 1, true), "meaning: " .. msg)
check(type(err) == "table" and err.exit == 1, "exit 1")

-- --exact: a changed text fails, volatile words (the queue id) do not.
check(transcript.normalize("250 2.0.0 Ok: queued as 4QXk3Z1Wr8z9") ==
  transcript.normalize("250 2.0.0 Ok: queued as 9ZZk3Z1Wr8aa"), "queue ids are volatile")
check(transcript.normalize("250 2.0.0 Ok: queued as 65950520332") ==
  transcript.normalize("250 2.0.0 Ok: queued as 4QXk3Z1Wr8z9"), "an all-digit queue id is volatile")
check(transcript.normalize("250 SIZE 10240000") ~= transcript.normalize("250 SIZE 20480000"),
  "a size is compared")
check(transcript.normalize("220 a ESMTP Sat, 9 Jun 2001 12:27:28 +0100 (BST)") ==
  transcript.normalize("220 a ESMTP Wed, 2 Dec 2026 01:02:03 +0000 (UTC)"), "dates are volatile")
check(transcript.normalize("250 Ok") ~= transcript.normalize("250 Okay"), "words are not")

-- IMAP: tags renumbered, a tagless command gets one, untagged data is skipped.
local iplan = assert(transcript.parse([[
S: * OK IMAP4rev1 ready
C: a001 LOGIN alice ****
S: a001 OK Logged in
C: a001 SELECT INBOX
S: * 2 EXISTS
S: a001 OK [READ-WRITE] done
C: Logout
S: * BYE bye
S: t3 OK bye
]], "imap.txt"))
local steps = iplan.conversations[1].steps
check(iplan.conversations[1].proto == "imap", "imap guessed from the greeting")
check(steps[2].op == "login" and steps[2].tag == "t1", "login renumbered t1")
check(steps[4].text == "t2 SELECT INBOX", "second a001 is t2: " .. tostring(steps[4].text))
check(steps[6].text == "t3 Logout", "tagless command tagged: " .. tostring(steps[6].text))

local isrv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local c = isrv:accept(10)
  c:send("* OK ready")
  local l = c:read_line(5)
  c:send(l == 't1 LOGIN "alice" "sesame"' and "t1 OK in" or "t1 NO [AUTHENTICATIONFAILED] no")
  c:read_line(5)
  c:send("* 1 EXISTS")
  c:send("t2 OK [READ-WRITE] done")
  c:read_line(5)
  c:send("* BYE bye")
  c:send("t3 OK bye")
  c:close()
end)
transcript.run(iplan, { args = { port = tostring(isrv.port), user = "alice", password = secret("sesame") } })

-- POP3: LIST's answer is one unit; a masked PASS is replayed with args.password.
local pplan = assert(transcript.parse([[
< +OK ready
> USER ${user}
< +OK
> PASS ****
< +OK Logged in.
> LIST
< +OK 1 messages:
< 1 120
< .
> QUIT
< +OK bye
]], "pop3.txt"))
check(pplan.conversations[1].steps[7].block, "LIST answer is a block")
local psrv = listen { host = "127.0.0.1", port = 0 }
spawn(function()
  local c = psrv:accept(10)
  c:send("+OK ready")
  check(c:read_line(5) == "USER alice", "USER from args")
  c:send("+OK")
  check(c:read_line(5) == "PASS sesame", "PASS from args")
  c:send("+OK Logged in.")
  c:read_line(5)
  c:send_raw("+OK 2 messages:\r\n1 120\r\n2 300\r\n.\r\n")
  c:read_line(5)
  c:send("+OK bye")
  c:close()
end)
transcript.run(pplan, { args = { port = tostring(psrv.port), user = "alice", password = secret("sesame") } })

-- Not a transcript: said so, with the line.
local none, why = transcript.parse("> HELO x\nthis is prose\n< 250 ok\n", "prose.txt")
check(none == nil and why:find("prose.txt:2:", 1, true), "prose in the middle: " .. tostring(why))

print("all notations ran")
