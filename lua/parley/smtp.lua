--- SMTP, ESMTP submission and LMTP clients (RFC 5321, 3207, 4954, 3461, 2920, 3030, 6531, 2033).
--
--     local smtp = require "parley.smtp"
--     local s = smtp.connect{ host = args.host, port = 587, tls = "starttls" }
--     s:auth("PLAIN", args.user, args.password)
--     s:mail("alice@example.net")
--     s:rcpt("bob@example.net", { notify = "SUCCESS,FAILURE" })
--     s:rcpt("victim@elsewhere.test", { expect = "5xx" })   -- a refusal is what this test wants
--     s:data{ subject = "hi", body = "Hello\n.leading dot is stuffed\n" }
--     s:quit()
--
-- Every command method sends one command and returns the server's reply (`code`, `enhanced`,
-- `text`, `lines`). A reply of another class than the command's usual success fails the
-- conversation (exit 1), naming the command, what was expected and what the code means —
-- unless `expect=` in the options says what is wanted instead (a code, a class such as
-- `"5xx"`, a Lua pattern, a function, or a table of alternatives as for `c:expect`).
--
-- Addresses and parameters holding CR, LF or angle brackets are refused (exit 2): they could
-- smuggle a second command. STARTTLS that the server does not offer, or refuses, ends the
-- conversation with exit 3; it never goes on in the clear.
--
-- @module parley.smtp

local parley = require "parley"
local dial = require "parley.dial"
local core = require "parley.core"
local session = require "parley.session"
local crypto = require "parley.crypto"
-- Loaded on first use: a script that never authenticates never loads it.
local sasl = setmetatable({}, { __index = function(_, k) return require("parley.sasl")[k] end })
-- Loaded on first use: a script that builds no message from a table never loads it.
local mime = setmetatable({}, { __index = function(_, k) return require("parley.mime")[k] end })

local M = {}

--- The name sent with EHLO/HELO/LHLO when the script gives none.
M.default_helo = "localhost"

local Session, meta = session.class("smtp")

---------------------------------------------------------------------------------------------
-- Checking replies

-- The success/failure words of `expect=` (the same in every protocol): true is the command's
-- usual success, false any refusal (4xx or 5xx).
local REFUSAL = { "4xx", "5xx" }
local function resolve(spec, default)
  if spec == true then return default end
  if spec == false then return REFUSAL end
  return spec
end

-- "expected X or Y" for a spec as expect takes it.
local function describe(spec)
  if type(spec) == "table" and getmetatable(spec) == nil then
    local parts = {}
    for _, alt in ipairs(spec) do
      parts[#parts + 1] = describe(type(alt) == "table" and alt[1] or alt)
    end
    return table.concat(parts, " or ")
  end
  local _, desc = core.matcher(spec)
  return desc
end

-- Whether a reply matches a spec as expect takes it (alternatives included).
local function matches(spec, r)
  if type(spec) == "table" and getmetatable(spec) == nil then
    for _, a in ipairs(spec) do
      if matches(type(a) == "table" and a[1] or a, r) then return true end
    end
    return false
  end
  return core.matcher(spec)(r) and true or false
end

local function refuse(s, what, spec, r)
  session.refuse(s, what, describe(spec), r, core.show_reply(r))
end

-- Reads one reply for `what` and checks it against `spec` (as c:expect takes it). `pre` are
-- alternatives tried first (the AUTH continuation). A reply matching nothing fails with a
-- message naming the command.
local function check(s, what, spec, timeout, pre)
  if spec == false then spec = REFUSAL end
  local alts, failed = {}, nil
  for _, a in ipairs(pre or {}) do alts[#alts + 1] = a end
  if type(spec) == "table" and getmetatable(spec) == nil then
    for _, a in ipairs(spec) do alts[#alts + 1] = type(a) == "table" and a or { a } end
    alts.timeout, alts.eof = spec.timeout, spec.eof
  else
    alts[#alts + 1] = { spec }
  end
  if alts.timeout == nil then
    alts.timeout = function() session.timed_out(s, what, describe(spec), timeout) end
  end
  if alts.eof == nil then alts.eof = function() session.closed(s, what, describe(spec)) end end
  alts[#alts + 1] = { function() return true end, function(r) failed = r end }
  local results = table.pack(s.conn:expect(alts, timeout))
  if failed then refuse(s, what, spec, failed) end
  return table.unpack(results, 1, results.n)
end

-- Any reply at all (handlers installed with `on` and --strict still apply).
local function read_any(s, timeout, what)
  return session.read(s, what or s.conn.last_command or "reply", timeout, "a reply")
end

-- Sends `line`, then checks the reply.
local function run(s, line, default, opts)
  opts = opts or {}
  s.conn.last_command = line:match("^(%S+)") or line
  s.conn:send(line)
  local spec = opts.expect
  if spec == nil then spec = default end
  return check(s, opts.what or line, resolve(spec, default), opts.timeout)
end

---------------------------------------------------------------------------------------------
-- Arguments

local function misuse(msg)
  parley.raise(2, "script", msg)
end

-- A value quoted for a message, control characters shown as \r, \n, \xHH.
local function shown(v)
  return '"' .. tostring(v):gsub("[%c\"\\]", function(c)
    if c == "\r" then return "\\r" elseif c == "\n" then return "\\n" end
    if c == '"' or c == "\\" then return "\\" .. c end
    return string.format("\\x%02x", c:byte())
  end) .. '"'
end

-- An address as it goes between the angle brackets; "<x>" is taken as x.
local function address(addr, what)
  if type(addr) ~= "string" then misuse(what .. ": the address must be a string, not " .. type(addr)) end
  local inner = addr:match("^<(.*)>$") or addr
  if inner:find("[%c<>]") then
    misuse(what .. ": the address " .. shown(addr) .. " holds a CR, LF, other " ..
      "control character, < or > (it could smuggle another command); refused")
  end
  return inner
end

-- A parameter value must be esmtp-value: visible ASCII without "=" (RFC 5321 section 4.1.2).
local function param_value(name, v, what)
  v = tostring(v)
  if v == "" or v:find("[^!-<>-~]") then
    misuse(what .. ": the " .. name .. " value " .. shown(v) ..
      " holds a space, '=', a control or non-ASCII character; refused")
  end
  return v
end

--- xtext encoding (RFC 3461 section 4): "+", "=" and bytes outside 33-126 as +XX.
function M.xtext(s)
  return (s:gsub("[^!-*,-<>-~]", function(c) return string.format("+%02X", c:byte()) end))
end

-- Extra parameters: {NAME = value | true} or an array of "NAME=value" strings.
local function extra_params(list, out, what)
  if not list then return end
  for k, v in pairs(list) do
    local name, value
    if type(k) == "number" then
      name, value = tostring(v):match("^([^=]*)=?(.*)$")
      if value == "" then value = nil end
    else
      name, value = k, (v ~= true) and v or nil
    end
    if not name:match("^[%w][%w%-]*$") then misuse(what .. ": bad parameter name " .. shown(name)) end
    out[#out + 1] = value and (name:upper() .. "=" .. param_value(name, value, what)) or name:upper()
  end
end

local function is_ascii(s)
  return not s:find("[\128-\255]")
end

---------------------------------------------------------------------------------------------
-- Message text

-- The message as it goes on the wire: CRLF line ends, a final CRLF; a bare CR is refused.
-- (These scans look for one byte at a time with plain finds, which skip ahead like memchr: a
-- pattern would be tried at every byte of the message, half of a load test's CPU.)
local function normalise(text, what)
  local cr = text:find("\r", 1, true)
  while cr do
    if text:byte(cr + 1) ~= 10 then
      misuse(what .. ": the message holds a bare CR at byte " .. cr ..
        " (SMTP forbids it; write line ends as LF or CRLF)")
    end
    cr = text:find("\r", cr + 2, true)
  end
  -- Each LF that does not follow a CR gets one.
  local parts, n, from = nil, 0, 1
  local lf = text:find("\n", 1, true)
  while lf do
    if lf == 1 or text:byte(lf - 1) ~= 13 then
      parts = parts or {}
      parts[n + 1], parts[n + 2], n = text:sub(from, lf - 1), "\r", n + 2
      from = lf
    end
    lf = text:find("\n", lf + 1, true)
  end
  if parts then
    parts[n + 1] = text:sub(from)
    text = table.concat(parts, "", 1, n + 1)
  end
  if text ~= "" and text:sub(-2) ~= "\r\n" then text = text .. "\r\n" end
  return text
end

--- Dot-stuffing (RFC 5321 section 4.5.2): a "." starting a line gets another ".".
-- @param text with CRLF line ends
function M.dot_stuff(text)
  if text:byte(1) ~= 46 and not text:find("\n.", 1, true) then return text end
  return (("\r\n" .. text):gsub("\r\n%.", "\r\n.."):sub(3))
end

-- A message given as a table is built with parley.mime, the envelope filling From and To.
local function message_text(s, msg, what)
  if type(msg) == "table" and getmetatable(msg) == nil then
    local t = {}
    for k, v in pairs(msg) do t[k] = v end
    if t.from == nil and s.envelope.from and s.envelope.from ~= "" then t.from = s.envelope.from end
    if t.to == nil and #s.envelope.rcpts > 0 then t.to = s.envelope.rcpts end
    msg = mime.build(t)
  elseif type(msg) ~= "string" then
    misuse(what .. ": the message must be a string or a table for parley.mime.build")
  end
  return normalise(msg, what)
end

-- The words of a reply line (a linear scan), without a leading enhanced status code.
local function words_of(line)
  local words = {}
  for w in line:gmatch("%S+") do words[#words + 1] = w end
  if words[1] and words[1]:match("^%d%.%d%d?%d?%.%d%d?%d?$") then table.remove(words, 1) end
  return words
end

-- An id-like word: letters, digits and . - _ only, with at least one digit.
local function id_like(w)
  return w ~= nil and #w >= 4 and #w <= 80 and not w:find("[^%w%.%-_]") and w:find("%d") ~= nil
end

--- The queue id in the reply to the end of a message, as each common server words it:
-- Postfix "queued as 4F1xyz", Exim "id=1tAbCd-000123-Xy", OpenSMTPD and Sendmail
-- "78b784e0 Message accepted for delivery", qmail "ok 1700000000 qp 12345" (the qp number),
-- Exchange and Microsoft 365 "<MESSAGE-ID> [InternalId=...]" (the message id), Gmail
-- "OK 1700000000 a1si123.45 - gsmtp", Haraka "Message Queued (ID)", Courier "Ok. A.B.C".
-- @param text the reply text (with or without the enhanced code), or a reply
-- @return the id, or nil
function M.queue_id(text)
  if type(text) == "table" then text = text.text end
  if type(text) ~= "string" then return nil end
  local line = text:sub(1, 4096)
  line = line:sub(1, (line:find("\n", 1, true) or (#line + 1)) - 1)
  local words = words_of(line)
  for i, w in ipairs(words) do
    local lw = w:lower()
    if lw == "as" and words[i - 1] and words[i - 1]:lower() == "queued" and words[i + 1] then
      return (words[i + 1]:gsub("[%)%],;]+$", ""))                      -- Postfix, many others
    end
    local exim = lw:match("^id=([%w%-%.]+)")
    if exim then return w:sub(4, 3 + #exim) end                          -- Exim
    if lw == "qp" and words[i + 1] and words[i + 1]:match("^%d+$") then   -- qmail
      return words[i + 1]
    end
    if lw == "gsmtp" and words[i - 1] == "-" and id_like(words[i - 2]) then
      return words[i - 2]                                                 -- Gmail
    end
    if lw == "message" and words[i + 1] and words[i + 1]:lower() == "accepted" and i > 1 and
       id_like(words[i - 1]) then
      return words[i - 1]                                                 -- OpenSMTPD, Sendmail
    end
    if lw == "queued" and words[i - 1] and words[i - 1]:lower() == "message" and words[i + 1] then
      local h = words[i + 1]:match("^%(([%w%.%-_]+)%)$")                  -- Haraka
      if h then return h end
    end
  end
  local angle = line:match("^[^<]*<([^<>%s]+)>")                            -- Exchange, M365
  if angle and words[1] and (line:find("InternalId=", 1, true) or line:find("Hostname=", 1, true) or
      words[1]:upper() == "OK" or line:find("Queued mail for delivery", 1, true)) then
    return angle
  end
  if words[1] and words[1]:lower() == "ok." and words[2] and words[2]:match("^%x+%.%x+%.%x+$") then
    return words[2]                                                       -- Courier
  end
  return nil
end

local function queue_id(r)
  return M.queue_id(r and r.text)
end

---------------------------------------------------------------------------------------------
-- Capabilities

-- EHLO lines after the first -> caps table and list.
local function parse_caps(lines)
  local caps, list = {}, {}
  for i = 2, #lines do
    local line = lines[i]
    local key, rest = line:match("^%s*([%w][%w%-]*)[%s=]?(.*)$")
    if key then
      key = key:upper()
      list[#list + 1] = line
      rest = rest:gsub("^%s+", ""):gsub("%s+$", "")
      if key == "AUTH" then
        local set = type(caps.AUTH) == "table" and caps.AUTH or {}
        for mech in rest:gmatch("%S+") do set[mech:upper()] = true end
        caps.AUTH = set
      elseif key == "SIZE" then
        caps.SIZE = tonumber(rest:match("^%d+") or "") or true
      elseif caps[key] == nil then
        caps[key] = rest ~= "" and rest or true
      end
    end
  end
  return caps, list
end

local function offered_mechs(s)
  local names = {}
  for k in pairs((s.caps and type(s.caps.AUTH) == "table") and s.caps.AUTH or {}) do
    names[#names + 1] = k
  end
  table.sort(names)
  return #names > 0 and table.concat(names, " ") or "none"
end

---------------------------------------------------------------------------------------------
-- Connecting

--- Wraps a connection that is already open (from `connect`, `exec` or a unix socket) in an
-- SMTP session, and reads the greeting.
-- @param conn a connection
-- @param opts optional: `greeting` (what the greeting must be, default 220; false: do not read
--   it), `lmtp`, `helo`, and the TLS options used by a later `starttls`
-- @return the session
function M.wrap(conn, opts)
  opts = opts or {}
  local s = setmetatable({
    conn = conn, opts = opts, lmtp = opts.lmtp and true or false,
    helo_name = opts.helo or M.default_helo,
    envelope = { rcpts = {}, accepted = {} },
  }, meta)
  if conn.framing ~= "smtp" then conn:set_framing("smtp") end
  if opts.greeting ~= false then
    conn.last_command = "GREETING"
    s.greeting = check(s, "greeting", opts.greeting or 220, opts.timeout)
  end
  return s
end

--- Connects, reads the 220 greeting and, with `tls="starttls"`, upgrades the connection.
-- With `tls="starttls"`: EHLO, STARTTLS (exit 3 when the server does not offer it or refuses
-- it), the TLS handshake, and EHLO again. With `helo=` (or LMTP) the session also greets the
-- server at once, so `s.caps` is filled.
-- @param opts table: `host` (default 127.0.0.1), `port` (default 25, 465 for implicit TLS),
--   `path` (a unix socket, e.g. for LMTP), `tls` (false, "starttls" or "implicit"), `helo`,
--   `lmtp` (LHLO instead of EHLO, per-recipient replies after DATA), `verify`, `ca`, `ca_pem`,
--   `sni`, `cert`, `key`, `timeout`, `greeting` (expected greeting, default 220)
-- @return the session
function M.connect(opts)
  opts = opts or {}
  if type(opts) ~= "table" then misuse("smtp.connect: give a table of options") end
  local conn, mode = dial.open(opts, { name = "smtp", framing = "smtp", port = 25, implicit_port = 465 })
  local s = M.wrap(conn, opts)
  if mode == "starttls" then
    s:ehlo(opts.helo)
    s:starttls()
  elseif opts.helo or s.lmtp then
    s:ehlo(opts.helo)
  end
  return s
end

---------------------------------------------------------------------------------------------
-- Greeting and TLS

--- EHLO (or LHLO in an LMTP session): greets the server and learns its extensions.
-- Fills `s.caps`: `STARTTLS`, `PIPELINING`, `8BITMIME`, `SMTPUTF8`, `DSN`,
-- `ENHANCEDSTATUSCODES`, `CHUNKING` ... (true, or the parameter text when there is one),
-- `AUTH` (a set: `s.caps.AUTH.PLAIN`), `SIZE` (a number); and `s.caps_list` (the lines).
-- @param name optional client name (default: the `helo` option, else `smtp.default_helo`)
-- @param opts optional `{expect=, timeout=}`
-- @return the reply
function Session:ehlo(name, opts)
  self.helo_name = name or self.helo_name
  local verb = self.lmtp and "LHLO" or "EHLO"
  local r = run(self, verb .. " " .. self.helo_name, 250, opts)
  if r and r.code and r.code // 100 == 2 then
    self.caps, self.caps_list = parse_caps(r.lines or {})
  end
  return r
end

--- LHLO (RFC 2033): EHLO for LMTP servers.
function Session:lhlo(name, opts)
  self.lmtp = true
  return self:ehlo(name, opts)
end

--- HELO: the old greeting, without extensions (`s.caps` becomes empty).
function Session:helo(name, opts)
  self.helo_name = name or self.helo_name
  local r = run(self, "HELO " .. self.helo_name, 250, opts)
  if r and r.code and r.code // 100 == 2 then self.caps, self.caps_list = {}, {} end
  return r
end

local function not_offered(s, what)
  local seen = s.caps_list and #s.caps_list > 0 and table.concat(s.caps_list, ", ") or "no extensions"
  s.conn:close()
  parley.raise(3, "security", what .. " asked for but not offered by " .. s.conn.peer ..
    " (EHLO listed: " .. seen .. "); not continuing in the clear")
end

--- STARTTLS (RFC 3207): upgrades the connection, then greets again (unless `caps=false`).
-- Fails with exit 3 when the server does not offer STARTTLS or does not answer 220: the
-- conversation never goes on in the clear. With `expect=` set, a refusal that matches it is
-- returned instead (and no handshake happens).
-- @param opts optional: `sni`, `verify`, `ca`, `ca_pem`, `cert`, `key` (default: those given
--   to connect), `caps` (false: do not greet again; the old spelling `ehlo=false` works too),
--   `expect` (a refusal that matches it is returned instead of failing), `timeout`
-- @return the reply to STARTTLS
function Session:starttls(opts)
  opts = opts or {}
  if self.conn.tls then misuse("starttls: the connection is under TLS already") end
  if not self.caps then self:ehlo() end
  if not self.caps.STARTTLS and opts.expect == nil then not_offered(self, "STARTTLS") end
  local requery = session.requery(opts, "smtp")
  self.conn.last_command = "STARTTLS"
  self.conn:send("STARTTLS")
  local r = read_any(self, opts.timeout)
  if r.code ~= 220 then
    if opts.expect ~= nil then
      local spec = resolve(opts.expect, 220)
      if matches(spec, r) then return r end
      refuse(self, "STARTTLS", spec, r)
    end
    self.conn:close()
    parley.raise(3, "security", "STARTTLS refused by " .. self.conn.peer .. ": " ..
      core.show_reply(r) .. "; not continuing in the clear")
  end
  self.conn:starttls(dial.merged_tls_options(self.opts, opts))
  self.caps, self.caps_list = nil, nil   -- RFC 3207: forget what was learnt in the clear
  if requery then self:ehlo() end
  return r
end

--- The server's capabilities: EHLO when the session has not greeted yet (see `ehlo`).
-- The same call in every protocol (`pop3:capabilities` asks CAPA, `imap:capabilities`
-- CAPABILITY).
-- @param opts optional `{expect=, timeout=}`
-- @return the caps table (nil when the server refused), and the reply (nil when `s.caps`
--   was known already)
function Session:capabilities(opts)
  if self.caps and not (opts and opts.refresh) then return self.caps, nil end
  local r = self:ehlo(nil, opts)
  if type(r) ~= "table" or not r.code or r.code // 100 ~= 2 then return nil, r end
  return self.caps, r
end

---------------------------------------------------------------------------------------------
-- AUTH

local function abort_auth(s, mech, msg, kind)
  s.conn:send("*")
  pcall(read_any, s, 5)
  if kind == "security" then s.conn:close() end
  parley.raise(kind == "security" and 3 or 1, kind or "protocol", "AUTH " .. mech .. ": " .. msg)
end

-- One 334 challenge: decode, answer.
local function auth_step(s, m, r)
  local challenge, err = crypto.b64decode(r.text or "")
  if not challenge then abort_auth(s, m.name, "the server's challenge is not base64 (" .. err .. ")") end
  local resp, why, kind = m:step(challenge)
  if not resp then abort_auth(s, m.name, why, kind) end
  s.conn.last_command = "AUTH"
  s.conn:send(#resp == 0 and "" or crypto.b64encode(resp))
end

--- AUTH (RFC 4954) with a SASL mechanism from parley.sasl.
-- Credentials are registered secrets: the transcript shows `****`. SCRAM checks the signature
-- (a server that cannot prove it knows the password fails with exit 3).
-- @param mech PLAIN, LOGIN, CRAM-MD5, XOAUTH2, SCRAM-SHA-256, ...; nil picks the strongest
--   mechanism both sides speak
-- @param user user name
-- @param pass password (or token for XOAUTH2)
-- @param opts optional: `expect` (e.g. 535 or "5xx" for a test that wants a refusal),
--   `authzid`, `initial` (false: never send an initial response), `timeout`
-- @return the final reply (235 on success)
function Session:auth(mech, user, pass, opts)
  opts = opts or {}
  if mech == nil then
    mech = sasl.choose(self.caps and self.caps.AUTH or {})
    if not mech then
      parley.raise(1, "expect", "AUTH: no mechanism in common (the server offers: " .. offered_mechs(self) .. ")")
    end
  end
  local m = sasl.start(mech, user, pass, opts)
  local offered = self.caps and type(self.caps.AUTH) == "table" and self.caps.AUTH[m.name]
  if self.caps and not offered and opts.expect == nil then
    parley.raise(1, "expect", "AUTH " .. m.name .. ": the server does not offer it (offered: " ..
      offered_mechs(self) .. ")")
  end
  local line = "AUTH " .. m.name
  if opts.initial ~= false and m:has_initial() then
    local ir = m:initial()
    line = line .. " " .. (#ir == 0 and "=" or crypto.b64encode(ir))
  end
  self.conn.last_command = "AUTH"
  self.conn:send(line)
  local spec = opts.expect == nil and "2xx" or opts.expect
  local continue = { { 334, function(r) return r, true end } }
  while true do
    local r, more = check(self, "AUTH " .. m.name, spec, opts.timeout, continue)
    if not more then
      if type(r) == "table" and r.code and r.code // 100 == 2 then
        local ok, err = m:finish()
        if not ok then
          self.conn:close()
          parley.raise(3, "security", "AUTH " .. m.name .. ": " .. err)
        end
        self.authenticated = true
      end
      return r
    end
    auth_step(self, m, r)
  end
end

---------------------------------------------------------------------------------------------
-- The mail transaction

local function mail_line(s, from, opts)
  local what = "MAIL"
  local addr = address(from or "", what)
  local params = {}
  if opts.size then params[#params + 1] = "SIZE=" .. param_value("SIZE", math.tointeger(opts.size) or opts.size, what) end
  if opts.body then params[#params + 1] = "BODY=" .. param_value("BODY", tostring(opts.body):upper(), what) end
  if opts.smtputf8 or (opts.smtputf8 == nil and not is_ascii(addr)) then params[#params + 1] = "SMTPUTF8" end
  if opts.ret then params[#params + 1] = "RET=" .. param_value("RET", tostring(opts.ret):upper(), what) end
  if opts.envid then params[#params + 1] = "ENVID=" .. M.xtext(tostring(opts.envid)) end
  if opts.auth then params[#params + 1] = "AUTH=" .. M.xtext(address(opts.auth, what)) end
  if opts.requiretls then params[#params + 1] = "REQUIRETLS" end
  extra_params(opts.params, params, what)
  local line = "MAIL FROM:<" .. addr .. ">"
  if #params > 0 then line = line .. " " .. table.concat(params, " ") end
  return line, addr
end

local function rcpt_line(to, opts)
  local what = "RCPT"
  local addr = address(to, what)
  local params = {}
  local notify = opts.notify
  if type(notify) == "table" then notify = table.concat(notify, ",") end
  if notify then params[#params + 1] = "NOTIFY=" .. param_value("NOTIFY", notify:upper(), what) end
  local orcpt = opts.orcpt
  if orcpt == true then orcpt = addr end
  if orcpt then
    local kind, value = tostring(orcpt):match("^([%w%-]+);(.*)$")
    if not kind then kind, value = "rfc822", tostring(orcpt) end
    if value:find("[\r\n]") then misuse("RCPT: the ORCPT value holds a CR or LF") end
    params[#params + 1] = "ORCPT=" .. kind .. ";" .. M.xtext(value)
  end
  extra_params(opts.params, params, what)
  local line = "RCPT TO:<" .. addr .. ">"
  if #params > 0 then line = line .. " " .. table.concat(params, " ") end
  return line, addr
end

local function new_envelope(s, from)
  s.envelope = { from = from, rcpts = {}, accepted = {} }
end

local function note_rcpt(s, addr, r)
  local e = s.envelope
  e.rcpts[#e.rcpts + 1] = addr
  if type(r) == "table" and r.code and r.code // 100 == 2 then e.accepted[#e.accepted + 1] = addr end
end

--- MAIL FROM: starts a transaction.
-- @param from the sender address ("" or "<>" for the null sender); CR, LF, < and > inside are
--   refused
-- @param opts optional: `size` (SIZE=), `body` ("8BITMIME", "7BIT", "BINARYMIME"), `smtputf8`
--   (default: when the address is not ASCII), `ret` ("FULL"/"HDRS") and `envid` (DSN),
--   `auth` (AUTH=), `requiretls`, `params` (more: `{NAME=value}` or `{"NAME=value"}`),
--   `expect`, `timeout`
-- @return the reply
function Session:mail(from, opts)
  opts = opts or {}
  local line, addr = mail_line(self, from, opts)
  new_envelope(self, addr)
  return run(self, line, "2xx", opts)
end

--- RCPT TO: adds a recipient.
-- @param to the recipient address
-- @param opts optional: `notify` ("SUCCESS,FAILURE,DELAY" or "NEVER", or an array), `orcpt`
--   (true: the address itself; or "rfc822;addr"), `params`, `expect`, `timeout`
-- @return the reply
function Session:rcpt(to, opts)
  opts = opts or {}
  local line, addr = rcpt_line(to, opts)
  local r = run(self, line, "2xx", opts)
  note_rcpt(self, addr, r)
  return r
end

-- After the message: one reply, or (LMTP) one per accepted recipient.
local function final_replies(s, what, opts)
  s.conn.last_command = "DATA_END"
  local spec = opts.expect == nil and "2xx" or opts.expect
  if not s.lmtp then
    local r = check(s, what .. " (after the message)", spec, opts.timeout)
    if type(r) == "table" then r.queue_id = queue_id(r) end
    return r
  end
  local replies = {}
  for i, rcpt in ipairs(s.envelope.accepted) do
    local r = check(s, what .. " (after the message, recipient " .. rcpt .. ")", spec, opts.timeout)
    if type(r) == "table" then r.rcpt, r.queue_id = rcpt, queue_id(r) end
    replies[i] = r
  end
  return replies
end

--- DATA: sends the message, dot-stuffed, with CRLF line ends.
-- @param msg the message text (LF or CRLF line ends; a bare CR is refused), or a table for
--   `parley.mime.build` (From and To default to the envelope)
-- @param opts optional: `expect` (for the reply after the message), `expect_data` (for the
--   reply to DATA itself, default 354), `timeout`
-- @return the reply after the final dot (with `queue_id` when the server named one); in an
--   LMTP session an array of replies, one per accepted recipient, each with `rcpt`
function Session:data(msg, opts)
  opts = opts or {}
  local text = message_text(self, msg, "DATA")
  local r = run(self, "DATA", 354, { expect = opts.expect_data, timeout = opts.timeout })
  if type(r) ~= "table" or r.code ~= 354 then return r end
  self.conn:send_raw(M.dot_stuff(text) .. ".\r\n")
  return final_replies(self, "DATA", opts)
end

--- BDAT (RFC 3030 CHUNKING): sends one chunk of the message, exactly as given.
-- @param chunk bytes
-- @param opts optional: `last` (true for the final chunk), `expect`, `timeout`
-- @return the reply (for the last chunk of an LMTP session, the array of replies)
function Session:bdat(chunk, opts)
  opts = opts or {}
  chunk = chunk or ""
  if self.caps and not self.caps.CHUNKING and opts.expect == nil then
    parley.raise(1, "expect", "BDAT: the server does not offer CHUNKING")
  end
  local line = "BDAT " .. #chunk .. (opts.last and " LAST" or "")
  self.conn.last_command = "BDAT"
  self.conn:send(line)
  if #chunk > 0 then self.conn:send_raw(chunk) end
  if opts.last then return final_replies(self, line, opts) end
  return check(self, line, opts.expect == nil and "2xx" or opts.expect, opts.timeout)
end

-- The envelope commands of send_message, one after the other or pipelined.
local function envelope_lines(self, t, text)
  local mopts = { size = t.size, body = t.body, smtputf8 = t.smtputf8, ret = t.ret,
                  envid = t.envid, auth = t.auth, params = t.mail_params }
  local caps = self.caps or {}
  if mopts.size == nil and caps.SIZE then mopts.size = #text end
  if mopts.body == nil and not is_ascii(text) and caps["8BITMIME"] then mopts.body = "8BITMIME" end
  local lines = {}
  local from
  lines[1], from = mail_line(self, t.from, mopts)
  local to = type(t.to) == "table" and t.to or { t.to }
  if #to == 0 then misuse("send_message: no recipient (to=)") end
  local rcpts = {}
  for i, addr in ipairs(to) do
    lines[#lines + 1], rcpts[i] = rcpt_line(addr, { notify = t.notify, orcpt = t.orcpt })
  end
  return lines, from, rcpts
end

local function chunks_of(self, text, size)
  local res
  local n = #text
  local step = size or 1048576
  if n == 0 then return self:bdat("", { last = true }) end
  for i = 1, n, step do
    res = self:bdat(text:sub(i, i + step - 1), { last = i + step > n })
  end
  return res
end

-- The envelope commands of send_message, sent one by one or all at once (PIPELINING).
local Batch = {}
Batch.__index = Batch

local function verb(line)
  return line:match("^(%S+)")
end

-- With `pipelined`, sends every line (and DATA when `with_data`) and reads all the replies.
local function new_batch(s, lines, with_data, pipelined, timeout)
  local b = setmetatable({ s = s, lines = lines, pipelined = pipelined, timeout = timeout, replies = {} }, Batch)
  if with_data then
    b.lines = table.move(lines, 1, #lines, 1, {})
    b.lines[#b.lines + 1] = "DATA"
  end
  if pipelined then
    for _, l in ipairs(b.lines) do s.conn:send(l) end
    for i, l in ipairs(b.lines) do
      s.conn.last_command = verb(l)
      b.replies[i] = read_any(s, timeout)
    end
  end
  return b
end

-- The reply to the i-th line (sending it now when not pipelined).
function Batch:reply(i)
  if self.pipelined then return self.replies[i] end
  local line = self.lines[i]
  self.s.conn.last_command = verb(line)
  self.s.conn:send(line)
  return read_any(self.s, self.timeout)
end

-- A failure after a pipelined DATA was accepted must not let the server take a message: the
-- connection is closed before the error is raised.
function Batch:abort()
  local last = self.replies[#self.replies]
  if self.pipelined and last and last.code == 354 then self.s.conn:close() end
end

function Batch:check(what, r, spec)
  if matches(spec, r) then return end
  self:abort()
  refuse(self.s, what, spec, r)
end

-- The RCPT replies: accepted and refused recipients; a refusal fails unless `t.partial`.
local function envelope_replies(s, t, batch, rcpts, res)
  for i, addr in ipairs(rcpts) do
    local r = batch:reply(i + 1)
    res.rcpt[i] = r
    note_rcpt(s, addr, r)
    if r.code and r.code // 100 == 2 then
      res.accepted[#res.accepted + 1] = addr
    else
      res.refused[#res.refused + 1] = addr
      if not t.partial then batch:check(batch.lines[i + 1], r, "2xx") end
    end
  end
  if #res.accepted == 0 then
    batch:abort()
    parley.raise(1, "expect", "send_message: every recipient was refused (" ..
      core.show_reply(res.rcpt[#res.rcpt]) .. ")")
  end
end

--- Sends a whole message: MAIL, RCPT for each recipient, DATA (or BDAT with `chunking`).
-- With PIPELINING offered, the envelope goes out in one batch and the replies are read
-- afterwards (RFC 2920). SIZE and BODY=8BITMIME are added when the server offers them.
-- A session that has not greeted the server yet sends EHLO first.
-- A refused recipient fails the conversation unless `partial=true`; with no recipient
-- accepted it fails in any case.
-- @param t table: `from`, `to` (address or array), `message` (text, or a table for
--   parley.mime.build), `notify`, `orcpt`, `ret`, `envid`, `size`, `body`, `smtputf8`,
--   `partial`, `chunking` (use BDAT when offered), `chunk_size`, `pipelining` (false: do not
--   pipeline)
-- @return a table: `mail` (reply), `rcpt` (replies), `accepted`, `refused` (addresses),
--   `data` (the final reply, or the LMTP array), `queue_id`
function Session:send_message(t)
  if type(t) ~= "table" then misuse("send_message: give a table {from=, to=, message=}") end
  if not self.caps then self:ehlo() end
  new_envelope(self, address(t.from or "", "MAIL"))
  for _, a in ipairs(type(t.to) == "table" and t.to or { t.to }) do self.envelope.rcpts[#self.envelope.rcpts + 1] = a end
  local text = message_text(self, t.message or t.data or "", "send_message")
  local lines, from, rcpts = envelope_lines(self, t, text)
  local chunking = t.chunking and self.caps.CHUNKING
  new_envelope(self, from)
  local batch = new_batch(self, lines, not chunking, self.caps.PIPELINING and t.pipelining ~= false, t.timeout)
  local res = { rcpt = {}, accepted = {}, refused = {} }
  res.mail = batch:reply(1)
  batch:check(lines[1], res.mail, "2xx")
  envelope_replies(self, t, batch, rcpts, res)
  if chunking then
    res.data = chunks_of(self, text, t.chunk_size)
  else
    batch:check("DATA", batch:reply(#lines + 1), 354)
    self.conn:send_raw(M.dot_stuff(text) .. ".\r\n")
    res.data = final_replies(self, "DATA", { timeout = t.timeout })
  end
  res.queue_id = res.data and (res.data.queue_id or (res.data[1] and res.data[1].queue_id))
  return res
end

---------------------------------------------------------------------------------------------
-- Other commands

--- RSET: aborts the transaction.
function Session:rset(opts)
  new_envelope(self, nil)
  return run(self, "RSET", "2xx", opts)
end

--- NOOP.
function Session:noop(opts)
  return run(self, "NOOP", "2xx", opts)
end

local function argument(v, what)
  v = tostring(v)
  if v:find("%c") then misuse(what .. ": the argument holds a control character (CR, LF...); refused") end
  return v
end

--- VRFY: asks whether an address or name exists. Servers often answer 252 or 502.
-- @param who address or user name
-- @param opts optional `{expect=, timeout=}` (default: a 2xx reply)
function Session:vrfy(who, opts)
  return run(self, "VRFY " .. argument(who, "VRFY"), "2xx", opts)
end

--- EXPN: asks for the members of a mailing list.
function Session:expn(list, opts)
  return run(self, "EXPN " .. argument(list, "EXPN"), "2xx", opts)
end

--- HELP, optionally about a topic (214 or 211 expected).
function Session:help(topic, opts)
  if type(topic) == "table" then topic, opts = nil, topic end
  local line = topic and ("HELP " .. argument(topic, "HELP")) or "HELP"
  return run(self, line, "2xx", opts)
end

--- QUIT, then closes the connection.
-- @param opts optional `{expect=, timeout=}` (default 221)
function Session:quit(opts)
  local r = run(self, "QUIT", 221, opts)
  self.conn:close()
  return r
end

--- Any command line, with a check of the reply.
-- @param line the command (CR and LF refused)
-- @param opts optional `{expect=, timeout=}`; `expect` as for every command (default: a 2xx
--   or 3xx reply). The old form `command(line, expect)` still works (a warning under --strict).
-- @return the reply
function Session:command(line, opts)
  return run(self, line, { "2xx", "3xx" }, session.command_options(opts, "smtp"))
end

return M
