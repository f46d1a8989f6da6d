--- `.save` of `parley shell`: the session so far as a conversation script that `parley run`
-- replays, on the protocol library, with the names of docs/vocabulary.md. The password is not
-- in it (the script reads `password=` or PARLEY_PASSWORD). Pure: the shell's record in, text
-- out. Part of parley.shell.
-- @module parley.shell.script

local M = {}

-- A Lua string literal; line ends as \n, not as an escaped line break.
local function q(v)
  return (string.format("%q", v):gsub("\\\n", "\\n"))
end

--- The script of a shell session: `shell` has `opts` (host, port or unix, tls, ca, sni,
-- verify), `proto` and `events` (what was typed and what came, in order).
-- @return the text of the script
function M.script(shell)
  local self = shell
  local o = self.opts
  local L = {}
  local function add(fmt, ...) L[#L + 1] = select("#", ...) > 0 and string.format(fmt, ...) or fmt end
  local has_auth, has_secret = false, false
  for _, e in ipairs(self.events) do
    if e.t == "auth" or e.t == "pass" or e.t == "login" then has_auth = true end
    if e.t == "secret" then has_secret = true end
  end
  add("-- Saved by `parley shell` on %s from a session with %s.", os.date("!%Y-%m-%d %H:%M UTC"),
    o.unix or (o.host .. " port " .. o.port))
  add("-- Replay it: parley run FILE%s%s", o.unix and "" or " [host=HOST] [port=PORT]",
    has_auth and " (the password: password=... or PARLEY_PASSWORD)" or "")
  if self.proto ~= "line" then add('local %s = require "parley.%s"', self.proto, self.proto) end
  if has_auth then
    add("local password = args.password or (os.getenv(\"PARLEY_PASSWORD\") and " ..
      "secret(os.getenv(\"PARLEY_PASSWORD\")))")
    add("if not password then error(\"the session's AUTH needs a password: password=... or " ..
      "PARLEY_PASSWORD\", 0) end")
  end
  local conn = {}
  if o.unix then conn[#conn + 1] = "path = args.path or " .. q(o.unix)
  else
    conn[#conn + 1] = "host = args.host or " .. q(o.host)
    conn[#conn + 1] = "port = tonumber(args.port) or " .. o.port
  end
  conn[#conn + 1] = "framing = " .. q(self.proto)
  if o.tls then conn[#conn + 1] = "tls = true" end
  local tls = {}
  if o.ca then tls[#tls + 1] = "ca = args.ca or " .. q(o.ca) end
  if o.sni then tls[#tls + 1] = "sni = " .. q(o.sni) end
  if o.verify == false then tls[#tls + 1] = "verify = false" end
  for _, t in ipairs(tls) do conn[#conn + 1] = t end
  add("local c = connect { %s }", table.concat(conn, ", "))
  local tls_opts = #tls > 0 and " { " .. table.concat(tls, ", ") .. " }" or " {}"
  local wrapped = false
  local function session()
    if not wrapped and self.proto ~= "line" then
      add("local s = %s.wrap(c, { greeting = false, tag_prefix = \"A\" })", self.proto)
      wrapped = true
    end
  end
  local function expect_imap(status)
    if status == "+" then return "" end
    return ", { expect = " .. q(status or "OK") .. " }"
  end
  for _, e in ipairs(self.events) do
    if e.t == "greeting" then
      if self.proto == "smtp" then add("c:expect(%d)", e.code or 220)
      elseif self.proto == "pop3" then add("c:expect(function(r) return r.status == %s end)", q(e.status or "+OK"))
      elseif self.proto == "imap" then add("c:expect(function(r) return r.tag == \"*\" end)")
      else add("c:read_reply()") end
      session()
    elseif e.t == "cmd" then
      if self.proto == "smtp" then
        add("s:command(%s, { expect = %s })", q(e.line), e.code and tostring(e.code) or "nil")
      elseif self.proto == "pop3" then
        add("s:command(%s, { expect = %s%s })", q(e.line), q(e.status or "+OK"),
          e.block and ", block = true" or "")
      elseif self.proto == "imap" then
        -- The tag typed is dropped: the library numbers its commands itself.
        local cmd = e.line:match("^%S+%s+(.*)$") or e.line
        if e.status == "+" then
          add("c:send(%s)  -- answered with a continuation request", q(e.line))
          add("c:expect(function(r) return r.tag == \"+\" end)")
        else
          add("s:command(%s%s)", q(cmd), expect_imap(e.status))
        end
      else
        add("c:send(%s)", q(e.line))
        add("c:read_reply()")
      end
    elseif e.t == "data" then
      add("c:send(%s)", q(e.line))
    elseif e.t == "file" then
      add("c:send_raw(%s.dot_stuff(%s) .. \".\\r\\n\")", self.proto, q(e.text))
    elseif e.t == "reply" then
      add("c:expect(%d)", e.code or 250)
    elseif e.t == "read" then
      add("c:read_reply()  -- a reply that came late or unasked in the session")
    elseif e.t == "starttls" then
      if self.proto == "imap" then add("s:command(\"STARTTLS\")")
      elseif self.proto == "pop3" then add("s:command(\"STLS\")")
      else add("s:command(\"STARTTLS\", { expect = 220 })") end
      add("c:starttls%s", tls_opts)
    elseif e.t == "auth" then
      local expect
      if self.proto == "smtp" then expect = e.code and tostring(e.code)
      elseif self.proto == "imap" then expect = e.status and q(e.status)
      else expect = e.status and q(e.status) end
      add("s:auth(%s, %s, password%s)", q(e.mech), q(e.user),
        expect and ", { expect = " .. expect .. " }" or "")
    elseif e.t == "pass" then
      add("s:pass(password, { expect = %s })", q(e.status or "+OK"))
    elseif e.t == "login" then
      add("s:login(%s, password, { expect = %s })", q(e.user), q(e.status or "OK"))
    elseif e.t == "secret" then
      add("-- (here the session sent credentials typed by hand (%s): not saved; use .auth)", e.what or "?")
    elseif e.t == "sent" then
      add("c:send(%s)  -- no reply came in the session", q(e.line))
    end
  end
  if has_secret then
    add("-- The credentials typed by hand were left out: the replay may fail after them.")
  end
  return table.concat(L, "\n") .. "\n"
end

return M
