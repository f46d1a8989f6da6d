-- lib_smtp_hot_path.lua: what parley.smtp's shortcuts for a load test's transactions must not
-- change. The MAIL and RCPT lines of addresses sent before (remembered: the same line every
-- time, and parameters, brackets, SMTPUTF8 and refusals as for a new address, past the
-- memo's bound too); the results of an `on` handler that took a command's reply, nil among
-- them; s.envelope before the first MAIL; a queue id after replies naming none; dot-stuffing
-- of a message that starts with "." and has LF and CRLF line ends; connect with and without
-- options (timeout=, transcript=false); a command's usual reply tested by check itself (codes,
-- classes, `on` handlers and --strict in the way, no reply, the end of the connection).
-- exit: 0
-- stdout: hot path ok
-- stderr: MAIL FROM:<loud@example.net>
-- stderr-not: quiet@example.net
-- within: 30

local smtp = require "parley.smtp"

local function check(cond, msg)
  if not cond then fail(msg) end
end

-- The server: every line it got, the message as it came (dots and all), and its replies to
-- the end of a message, one after the other.
local function serve(srv, st)
  local c = srv:accept()
  st.lines, st.finals = {}, st.finals or {}
  c:send("220 mock ESMTP")
  while true do
    local line = c:read_line()
    if not line then return end
    st.lines[#st.lines + 1] = line
    local verb = line:match("^(%a+)")
    if verb == "EHLO" then
      c:send("250-mock")
      c:send("250 SMTPUTF8")
    elseif verb == "NOOP" then
      c:send(st.busy and "452 4.3.1 busy" or "250 2.0.0 ok")
    elseif verb == "DATA" then
      c:send("354 go on")
      st.raw = {}
      while true do
        local l = c:read_line()
        if l == "." or l == nil then break end
        st.raw[#st.raw + 1] = l
      end
      c:send(table.remove(st.finals, 1) or "250 2.0.0 Ok")
    elseif verb == "ECHO" then
      c:send(line:sub(6))  -- the rest of the line is the reply
    elseif verb == "SILENT" then  -- luacheck: ignore 542
      -- no reply
    elseif verb == "BYE" then
      c:close()
      return
    elseif verb == "QUIT" then
      c:send("221 bye")
      c:close()
      return
    else
      c:send("250 2.1.0 ok")
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

-- 1. Connect without options (the bindings' connect(host, port)) and with them.
do
  local st = {}
  local s, task = session(st)
  local plain = connect("127.0.0.1", srv.port)
  check(s.timeout == plain.timeout and s.framing == "smtp" and s.tls == nil, "connect without options")
  plain:close()
  check(s.envelope.from == nil and #s.envelope.rcpts == 0 and #s.envelope.accepted == 0,
    "an envelope before the first MAIL")
  check(s.envelope == s.envelope, "one envelope")
  s:ehlo()
  s:mail("loud@example.net")
  s:quit(); task:join()
  -- The connection `connect(host, port)` made for the session above is not served: accept it.
  spawn(function() srv:accept():close() end):join()

  s, task = session(st, { timeout = 7, transcript = false })
  check(s.timeout == 7, "timeout= " .. tostring(s.timeout))
  s:mail("quiet@example.net")
  s:quit(); task:join()

  -- The port as a string (as args give it), and no host (127.0.0.1).
  task = spawn(serve, srv, st)
  s = smtp.connect { port = tostring(srv.port) }
  check(s.peer == "127.0.0.1:" .. srv.port and s.timeout == plain.timeout, "port as a string: " .. s.peer)
  s:quit(); task:join()
end

-- 2. The lines of addresses sent before.
do
  local st = {}
  local s, task = session(st, { helo = "me" })
  local sent = {}
  local function mail(...) s:mail(...); sent[#sent + 1] = "MAIL" end
  mail("a@example.net")
  mail("a@example.net")
  mail("a@example.net", { size = 10 })
  mail("<a@example.net>")
  mail("a@example.net")
  mail("é@example.net")
  mail("é@example.net")
  mail("")
  mail("")
  check(s.envelope.from == "", "null sender")
  s:rcpt("b@example.net")
  s:rcpt("b@example.net")
  s:rcpt("b@example.net", { notify = "NEVER" })
  s:rcpt("<b@example.net>")
  s:rcpt("b@example.net")
  check(#s.envelope.rcpts == 5 and s.envelope.rcpts[4] == "b@example.net", "envelope recipients")
  for _, bad in ipairs { "a@example.net>\r\nRSET", "a@example.net\n", "<a@example.net" } do
    local ok, err = pcall(s.mail, s, bad)
    check(not ok and err.exit == 2, "refused " .. bad)
    ok, err = pcall(s.rcpt, s, bad)
    check(not ok and err.exit == 2, "refused RCPT " .. bad)
  end
  s:quit(); task:join()
  local want = {
    "EHLO me",
    "MAIL FROM:<a@example.net>", "MAIL FROM:<a@example.net>", "MAIL FROM:<a@example.net> SIZE=10",
    "MAIL FROM:<a@example.net>", "MAIL FROM:<a@example.net>",
    "MAIL FROM:<é@example.net> SMTPUTF8", "MAIL FROM:<é@example.net> SMTPUTF8",
    "MAIL FROM:<>", "MAIL FROM:<>",
    "RCPT TO:<b@example.net>", "RCPT TO:<b@example.net>", "RCPT TO:<b@example.net> NOTIFY=NEVER",
    "RCPT TO:<b@example.net>", "RCPT TO:<b@example.net>",
    "QUIT",
  }
  for i, w in ipairs(want) do check(st.lines[i] == w, i .. ": " .. tostring(st.lines[i])) end
  check(#st.lines == #want, "lines: " .. #st.lines)

  -- More addresses than the memo holds: the first ones still make their own lines.
  st = {}
  s, task = session(st, { transcript = false })
  for i = 1, 1100 do s:rcpt("r" .. i .. "@example.net") end
  s:rcpt("r1@example.net")
  s:rcpt("r1050@example.net", { notify = "NEVER" })
  s:rcpt("r1050@example.net")
  s:quit(); task:join()
  check(st.lines[1] == "RCPT TO:<r1@example.net>" and st.lines[1100] == "RCPT TO:<r1100@example.net>",
    "many recipients")
  check(st.lines[1101] == "RCPT TO:<r1@example.net>", st.lines[1101])
  check(st.lines[1102] == "RCPT TO:<r1050@example.net> NOTIFY=NEVER", st.lines[1102])
  check(st.lines[1103] == "RCPT TO:<r1050@example.net>", st.lines[1103])
end

-- 3. An `on` handler that takes a command's reply: its results are the command's, all of them.
do
  local st = { busy = true }
  local s, task = session(st)
  s:on("452", function(r) return nil, "busy", r.code end)
  local n = select("#", s:noop())
  local a, b, c = s:noop()
  check(n == 3 and a == nil and b == "busy" and c == 452, "handler results: " .. n)
  s:off()
  local ok, err = pcall(s.noop, s)
  check(not ok and err.exit == 1 and err.message:find("NOOP: expected 2xx, got: 452 4.3.1 busy", 1, true),
    tostring(err))
  st.busy = false
  check(s:noop().code == 250, "noop")
  s:quit(); task:join()
end

-- 4. Queue ids after replies that name none, and dot-stuffing.
do
  local st = { finals = { "250 2.0.0 Ok", "250 2.0.0 Ok", "250 2.0.0 Ok: queued as ABC123", "250 2.0.0 Ok" } }
  local s, task = session(st)
  s:mail("a@example.net"); s:rcpt("b@example.net")
  check(s:data("x\n").queue_id == nil, "no id")
  check(s:data("x\n").queue_id == nil, "no id again")
  check(s:data("x\n").queue_id == "ABC123", "queued as")
  check(smtp.queue_id("2.0.0 Ok") == nil and smtp.queue_id("2.0.0 Ok") == nil, "smtp.queue_id: none")
  check(smtp.queue_id("2.0.0 Ok: queued as XYZ9") == "XYZ9", "smtp.queue_id after none")
  check(smtp.queue_id({ text = "2.0.0 Ok" }) == nil and smtp.queue_id(nil) == nil and
    smtp.queue_id(42) == nil and smtp.queue_id({}) == nil, "smtp.queue_id: a reply without, nothing")
  check(smtp.queue_id({ text = "2.0.0 Ok: queued as R2D2" }) == "R2D2", "smtp.queue_id of a reply")
  local r = s:data(".starts with a dot\n..two\r\n.\nmid . dot\r\n\n.last")
  check(r.code == 250, "data")
  local want = { "..starts with a dot", "...two", "..", "mid . dot", "", "..last" }
  for i, w in ipairs(want) do check(st.raw[i] == w, i .. ": " .. tostring(st.raw[i])) end
  check(#st.raw == #want, "message lines: " .. #st.raw)
  check(smtp.dot_stuff(".a\r\nb\r\n.c\r\n") == "..a\r\nb\r\n..c\r\n", "smtp.dot_stuff")
  check(smtp.dot_stuff("a\r\nb\r\n") == "a\r\nb\r\n", "smtp.dot_stuff: nothing to stuff")
  local ok, err = pcall(s.data, s, "bare\rCR\n")
  check(not ok and err.exit == 2 and err.message:find("bare CR at byte 5", 1, true), tostring(err))
  s:quit(); task:join()
end

-- 5. A command's usual reply (a code or "2xx") is tested in check itself, read_reply called
-- there: codes near the one wanted, other classes, no code; handlers from `on` and --strict in
-- the way; no reply at all, and the end of the connection.
do
  local parley = require "parley"
  local st = {}
  local s, task = session(st)
  local function refused(line, spec, message)
    local ok, err = pcall(s.command, s, line, { expect = spec, timeout = 0.5 })
    check(not ok and type(err) == "table" and err.exit == 1 and err.message:find(message, 1, true),
      line .. ": " .. tostring(type(err) == "table" and err.message or err))
    return err
  end
  check(s:command("ECHO 250 exact", { expect = 250 }).text == "exact", "250")
  check(s:command("ECHO 221 2.0.0 bye", { expect = 221 }).enhanced == "2.0.0", "221")
  local err = refused("ECHO 251 near", 250, "ECHO 251 near: expected 250, got: 251 near")
  check(err.code == 251, "the error carries the code")
  refused("ECHO 220 near", 221, "expected 221, got: 220 near")
  check(s:command("ECHO 252 class", { expect = "2xx" }).code == 252, "2xx")
  check(s:command("ECHO 299 class", { expect = "2xx" }).code == 299, "2xx: 299")
  refused("ECHO 354 go on", "2xx", "expected 2xx, got: 354 go on")
  refused("ECHO 199 before", "2xx", "expected 2xx, got: 199 before")
  refused("ECHO no code at all", "2xx", "expected 2xx, got: no code at all")
  refused("ECHO no code", 250, "expected 250, got: no code")
  check(s:mail("a@example.net").code == 250 and s:rcpt("b@example.net").code == 250, "mail, rcpt")

  -- A handler that does not take the reply leaves it to the test; one that does, takes it.
  s:on("421", function(r) return "taken", r.code end)
  check(s:command("ECHO 250 past the handler", { expect = 250 }).code == 250, "past the handler")
  local a, b = s:command("ECHO 421 4.3.2 closing", { expect = 250 })
  check(a == "taken" and b == 421, "the handler's results: " .. tostring(a))
  refused("ECHO 550 5.1.1 no", 250, "expected 250, got: 550 5.1.1 no")
  s:off()

  -- --strict checks the reply before the test.
  parley.options.strict = true
  local ok, res = pcall(s.command, s, "ECHO 250 2.0.0 fine", { expect = 250 })
  local strict_err = select(2, pcall(s.command, s, "ECHO 250 5.1.0 odd", { expect = 250 }))
  parley.options.strict = false
  check(ok and res.code == 250, "strict, a clean reply: " .. tostring(type(res) == "table" and res.message or res))
  check(type(strict_err) == "table" and strict_err.message:find("protocol violation (--strict)", 1, true),
    "strict: " .. tostring(type(strict_err) == "table" and strict_err.message or strict_err))

  -- Nothing comes, then the server hangs up.
  refused("SILENT", 250, "SILENT: expected 250, but nothing came from 127.0.0.1:" .. srv.port .. " within 0.5 s")
  refused("BYE", 221, "BYE: expected 221, but 127.0.0.1:" .. srv.port .. " closed the connection")
  s:close()
  task:join()
end

print("hot path ok")
