--- IMAP4 client (RFC 3501 / RFC 9051, with IDLE, LITERAL+, SASL-IR, UIDPLUS, MOVE).
--
--     local imap = require "parley.imap"
--     local s = imap.connect{ host = args.host, tls = "starttls" }   -- or "implicit" (993)
--     s:login(args.user, args.password)
--     local box = s:select("INBOX")                  -- box.exists, box.uidvalidity, box.flags
--     local ids = s:search("UNSEEN")                 -- { 3, 4 }
--     local msgs = s:fetch("1:*", "(UID FLAGS BODY.PEEK[])")
--     print(msgs[1].UID, msgs[1].FLAGS[1], #msgs[1]["BODY[]"])
--     s:logout()
--
-- Tags are made up automatically (A0001, A0002, ...). Every response is parsed: untagged data
-- updates the session (`s.caps`, `s.mailbox.exists`, ...) and is returned with the command's
-- result; the tagged status must be OK, or the conversation fails (exit 1) naming the command
-- and the server's answer — unless `expect=` in the options says what is wanted: "OK", "NO",
-- "BAD", true (OK), false (NO or BAD), a Lua pattern on the tagged line, a function of the
-- tagged result, or an array of those.
--
-- Strings in commands are sent as atoms, quoted strings or literals as their content needs:
-- a password or mailbox name can never end the command line early or start another one.
--
-- @module parley.imap

local parley = require "parley"
local dial = require "parley.dial"
local session = require "parley.session"
local crypto = require "parley.crypto"
-- Loaded on first use: a script that never authenticates never loads it.
local sasl = setmetatable({}, { __index = function(_, k) return require("parley.sasl")[k] end })

local M = {}

local Session, meta = session.class("imap")

local function misuse(msg)
  parley.raise(2, "script", msg)
end

local function protocol_error(msg)
  parley.raise(1, "protocol", msg)
end

local utf7 = require "parley.imap.utf7"
local parse = require "parley.imap.parse"

--- The NIL of IMAP responses in parsed trees (`imap.NIL`); prints as "NIL".
M.NIL = parse.NIL
local strings = parse.strings

--- Encodes a UTF-8 mailbox name in modified UTF-7 (see parley.imap.utf7).
M.utf7_encode = utf7.encode
--- Decodes a modified UTF-7 mailbox name to UTF-8.
M.utf7_decode = utf7.decode
--- Parses a string of IMAP values (see parley.imap.parse).
M.parse_values = parse.parse_values
--- Turns a parsed ENVELOPE list into a table (see parley.imap.parse).
M.parse_envelope = parse.parse_envelope
--- Parses one response (see parley.imap.parse).
M.parse_response = parse.parse_response

---------------------------------------------------------------------------------------------
-- Encoding command arguments (parley.imap.encode)

local encode = require "parley.imap.encode"
local no_ctl = encode.no_ctl
--- Marks a string to be sent as it is (see parley.imap.encode).
M.atom = encode.atom
--- Marks text to be sent as it is, spaces included.
M.raw = encode.raw
--- Marks a string to be sent as a quoted string (a literal when it cannot be quoted).
M.quoted = encode.quoted
--- Marks a string to be sent as a literal ({n} and the bytes).
M.literal = encode.literal
--- Encodes command arguments as IMAP text: an array of pieces `{text=}` / `{literal=}`.
M.encode = encode.encode

---------------------------------------------------------------------------------------------
-- Reading responses

local function read(s, what, timeout)
  return M.parse_response(session.read(s, what, timeout, "a response"))
end

-- What untagged data tells about the session.
local function absorb(s, r)
  local box = s.mailbox
  if r.caps then s.caps, s.caps_list = r.caps, r.caps_list end
  if r.status == "BYE" then s.bye = r end
  if not box then return end
  if r.type == "EXISTS" then box.exists = r.number
  elseif r.type == "RECENT" then box.recent = r.number
  elseif r.type == "EXPUNGE" and box.exists then box.exists = box.exists - 1
  elseif r.type == "FLAGS" then box.flags = r.flags
  elseif r.code and r.tag == "*" then
    local key, v = r.code:lower(), r.code_args and r.code_args[1]
    if key == "permanentflags" then box.permanentflags = strings(v)
    elseif key == "uidvalidity" or key == "uidnext" or key == "unseen" or key == "highestmodseq" then
      box[key] = v
    end
  end
end

local function tagged_matcher(spec)
  if spec == nil or spec == true or spec == "OK" or spec == "ok" then
    return function(r) return r.status == "OK" end, "OK"
  elseif spec == false then
    return function(r) return r.status == "NO" or r.status == "BAD" end, "NO or BAD"
  elseif spec == "NO" or spec == "BAD" or spec == "no" or spec == "bad" then
    local want = spec:upper()
    return function(r) return r.status == want end, want
  elseif type(spec) == "function" then
    return spec, "a result the script's test accepts"
  elseif type(spec) == "string" then
    local ok, err = pcall(string.find, "", spec)
    if not ok then misuse("imap: bad pattern " .. string.format("%q", spec) .. ": " .. tostring(err)) end
    return function(r) return (r.text or ""):find(spec) ~= nil end, "pattern " .. string.format("%q", spec)
  elseif type(spec) == "table" then
    local ms, ds = {}, {}
    for i, x in ipairs(spec) do ms[i], ds[i] = tagged_matcher(x) end
    return function(r)
      for _, m in ipairs(ms) do if m(r) then return true end end
      return false
    end, table.concat(ds, " or ")
  end
  misuse("imap: cannot expect a " .. type(spec))
end

local function check_tagged(s, what, spec, r)
  local m, desc = tagged_matcher(spec)
  if m(r) then return r end
  session.refuse(s, what, desc, r)
end

-- Reads until the tagged response for `tag`. `on_plus(r)` answers continuations.
local function collect(s, tag, what, timeout, untagged, on_plus)
  while true do
    local r = read(s, what, timeout)
    if r.tag == "+" then
      if not on_plus then protocol_error(what .. ": unexpected continuation request \"" .. r.text .. "\"") end
      if on_plus(r) == "stop" then return nil end
    elseif r.tag == "*" then
      absorb(s, r)
      untagged[#untagged + 1] = r
    elseif r.tag == tag then
      if r.caps then s.caps, s.caps_list = r.caps, r.caps_list end
      r.untagged = untagged
      return r
    else
      protocol_error(what .. ": a tagged response for an unknown tag: \"" .. r.text .. "\"")
    end
  end
end

---------------------------------------------------------------------------------------------
-- Sending commands

local function next_tag(s)
  s.tag_count = s.tag_count + 1
  return string.format("%s%04d", s.tag_prefix, s.tag_count)
end

local function nonsync_ok(s, n)
  local caps = s.caps or {}
  return caps["LITERAL+"] or (caps["LITERAL-"] and n <= 4096)
end

-- Sends the pieces; a synchronising literal waits for "+". Returns a tagged response when the
-- server answered before the command was complete (a refused literal).
local function send_pieces(s, tag, pieces, what, timeout, untagged)
  local line = tag .. " "
  for _, p in ipairs(pieces) do
    if p.literal then
      local n = #p.literal
      local sync = not nonsync_ok(s, n)
      s.conn:send(line .. "{" .. n .. (sync and "" or "+") .. "}")
      line = ""
      if sync then
        local r = collect(s, tag, what, timeout, untagged, function() return "stop" end)
        if r then return r end
      end
      s.conn:send_raw(p.literal)
    else
      line = line .. p.text
    end
  end
  s.conn:send(line)
  return nil
end

-- Runs a command: returns the tagged result (checked) and the untagged responses.
local function run(s, cmd, opts, on_plus)
  opts = opts or {}
  local pieces = encode.pieces_of(cmd)
  local what = opts.what or encode.describe(pieces)
  local tag = next_tag(s)
  local untagged = {}
  local early = send_pieces(s, tag, pieces, what, opts.timeout, untagged)
  local r = early or collect(s, tag, what, opts.timeout, untagged, on_plus)
  r.untagged = untagged
  check_tagged(s, what, opts.expect, r)
  return r, untagged
end

---------------------------------------------------------------------------------------------
-- Connecting

--- Wraps an open connection in an IMAP session and reads the greeting.
-- A greeting other than `* OK` or `* PREAUTH` fails (exit 1).
-- @param opts optional: `greeting` (false: do not read it), `tag_prefix` (default "A"),
--   `timeout`, TLS options for `starttls`
function M.wrap(conn, opts)
  opts = opts or {}
  local s = setmetatable({ conn = conn, opts = opts, tag_count = 0, tag_prefix = opts.tag_prefix or "A" }, meta)
  if conn.framing ~= "imap" then conn:set_framing("imap") end
  if opts.greeting ~= false then
    local g = read(s, "greeting", opts.timeout)
    absorb(s, g)
    s.greeting = g
    if g.tag ~= "*" or (g.status ~= "OK" and g.status ~= "PREAUTH") then
      parley.raise(1, "expect", "greeting: expected \"* OK\" or \"* PREAUTH\", got: " .. g.text ..
        "\n  from " .. conn.peer)
    end
    s.authenticated = g.status == "PREAUTH"
  end
  return s
end

--- Connects and reads the greeting; with `tls="starttls"` upgrades at once (STARTTLS).
-- @param opts table: `host`, `port` (default 143, 993 with implicit TLS), `path` (a unix
--   socket instead), `tls` (false,
--   "starttls" or "implicit"), `verify`, `ca`, `ca_pem`, `sni`, `cert`, `key`, `timeout`
-- @return the session
function M.connect(opts)
  opts = opts or {}
  local conn, mode = dial.open(opts, { name = "imap", framing = "imap", port = 143, implicit_port = 993 })
  local s = M.wrap(conn, opts)
  if mode == "starttls" then s:starttls() end
  return s
end

---------------------------------------------------------------------------------------------
-- Any state

--- A command with automatic tag.
-- @param cmd the command text after the tag ("NOOP", "UID FETCH 1:* FLAGS"), or a table
--   whose first element is the command name and the rest arguments, encoded as `imap.encode`
--   does (`{"LOGIN", user, pass}`, `{"SELECT", mailbox}`)
-- @param opts optional `{expect=, timeout=}`
-- @return the tagged result (`status`, `code`, `code_args`, `message`, `text`, `untagged`) and
--   the array of untagged responses, parsed
function Session:command(cmd, opts)
  return run(self, cmd, session.command_options(opts, "imap"))
end

--- CAPABILITY: fills `s.caps` (a set of upper-case names; `s.caps.AUTH` the set of SASL
-- mechanisms) and `s.caps_list`.
-- @return the caps table (nil when the server answered NO or BAD and `expect=` allowed it),
--   and the tagged result
function Session:capability(opts)
  local r = run(self, "CAPABILITY", opts)
  if r.status ~= "OK" then return nil, r end
  return self.caps, r
end

--- The server's capabilities: CAPABILITY when they are not known yet (the same call in
-- every protocol).
-- @param opts optional `{expect=, timeout=, refresh=true}`
-- @return the caps table (nil when the server refused), and the tagged result (nil when
--   known already)
function Session:capabilities(opts)
  if self.caps and not (opts and opts.refresh) then return self.caps, nil end
  return self:capability(opts)
end

local function caps(s)
  if not s.caps then s:capability() end
  return s.caps or {}
end

--- NOOP (also collects pending untagged data: new messages, flag changes).
-- @return the tagged result and the untagged responses
function Session:noop(opts)
  return run(self, "NOOP", opts)
end

--- LOGOUT: expects BYE and OK, then closes the connection. `quit` is the same call (the
-- name every protocol has).
function Session:logout(opts)
  local r, u = run(self, "LOGOUT", opts)
  self.conn:close()
  return r, u
end
Session.quit = Session.logout

--- STARTTLS: upgrades the connection, then asks CAPABILITY again (unless `caps=false`).
-- Fails with exit 3 when the server does not offer STARTTLS or refuses it.
-- @param opts optional TLS options (`sni`, `verify`, `ca`, ...; default: those of connect),
--   `caps` (false: do not ask CAPABILITY again; the old spelling `capability=false` works
--   too), `expect` (a refusal matching it is returned instead of failing), `timeout`
function Session:starttls(opts)
  opts = opts or {}
  if self.conn.tls then misuse("starttls: the connection is under TLS already") end
  local requery = session.requery(opts, "imap")
  if not caps(self).STARTTLS and opts.expect == nil then
    self.conn:close()
    parley.raise(3, "security", "STARTTLS asked for but not offered by " .. self.conn.peer ..
      " (CAPABILITY: " .. table.concat(self.caps_list or {}, " ") .. "); not continuing in the clear")
  end
  local r = run(self, "STARTTLS", { expect = function() return true end, timeout = opts.timeout })
  -- A refusal the script wants is returned; any other is exit 3, expect= or not.
  if r.status ~= "OK" and opts.expect ~= nil and tagged_matcher(opts.expect)(r) then return r end
  if r.status ~= "OK" then
    self.conn:close()
    parley.raise(3, "security", "STARTTLS refused by " .. self.conn.peer .. ": " .. r.text ..
      "; not continuing in the clear")
  end
  self.conn:starttls(dial.merged_tls_options(self.opts, opts))
  self.caps, self.caps_list = nil, nil
  if requery then self:capability() end
  return r
end

---------------------------------------------------------------------------------------------
-- Not authenticated

local function after_login(s, r)
  if r.status ~= "OK" then return end
  s.authenticated = true
  if r.code ~= "CAPABILITY" then s.caps, s.caps_list = nil, nil end
end

--- LOGIN with user name and password, each sent as a quoted string or a literal as needed
-- (the password is a secret: `****` in transcripts). A server that advertises LOGINDISABLED
-- is not sent the password (exit 3) unless `expect=` is given.
-- @param opts optional `{expect=, timeout=}`
-- @return the tagged result
function Session:login(user, password, opts)
  opts = opts or {}
  if password == nil then misuse("login: no password given") end
  if self.caps and self.caps.LOGINDISABLED and opts.expect == nil then
    parley.raise(3, "security", "LOGIN: " .. self.conn.peer .. " advertises LOGINDISABLED " ..
      "(it wants TLS first, see starttls); the password was not sent")
  end
  local pw = parley.secret(tostring(password))
  local name = tostring(user)
  local r = run(self, { "LOGIN", M.quoted(name), M.quoted(pw) },
    { expect = opts.expect, timeout = opts.timeout, what = "LOGIN " .. tostring(user) })
  after_login(self, r)
  return r
end

local function auth_continue(s, m)
  return function(r)
    local challenge, err = crypto.b64decode((r.continuation or ""):gsub("%s+$", ""))
    local resp, why, kind
    if challenge then
      resp, why, kind = m:step(challenge)
    else
      why = "the challenge is not base64 (" .. err .. ")"
    end
    if not resp then
      s.conn:send("*")
      s._auth_error = { why, kind }
      return
    end
    s.conn:send(#resp == 0 and "" or crypto.b64encode(resp))
  end
end

--- AUTHENTICATE with a SASL mechanism from parley.sasl (the initial response goes with the
-- command when the server offers SASL-IR). SCRAM checks the server's signature (exit 3 when
-- it does not match).
-- @param mech mechanism name, or nil for the strongest that both sides speak
-- @param opts optional: `expect`, `authzid`, `initial` (false: no initial response), `timeout`
-- @return the tagged result
function Session:authenticate(mech, user, password, opts)
  opts = opts or {}
  if mech == nil then
    mech = sasl.choose(caps(self).AUTH or {})
    if not mech then parley.raise(1, "expect", "AUTHENTICATE: no SASL mechanism in common with " .. self.conn.peer) end
  end
  local m = sasl.start(mech, user, password, opts)
  local line = "AUTHENTICATE " .. m.name
  if opts.initial ~= false and m:has_initial() and self.caps and self.caps["SASL-IR"] then
    local ir = m:initial()
    line = line .. " " .. (#ir == 0 and "=" or crypto.b64encode(ir))
  end
  self._auth_error = nil
  local tag = next_tag(self)
  self.conn:send(tag .. " " .. line)
  local what = "AUTHENTICATE " .. m.name
  local r = collect(self, tag, what, opts.timeout, {}, auth_continue(self, m))
  local failure = self._auth_error
  if failure then
    if failure[2] == "security" then self.conn:close() end
    parley.raise(failure[2] == "security" and 3 or 1, failure[2] or "protocol", what .. ": " .. failure[1])
  end
  check_tagged(self, what, opts.expect, r)
  if r.status == "OK" then
    local ok, err = m:finish()
    if not ok then
      self.conn:close()
      parley.raise(3, "security", what .. ": " .. err)
    end
  end
  after_login(self, r)
  return r
end

--- Same as `authenticate` (the name every protocol has).
Session.auth = Session.authenticate

---------------------------------------------------------------------------------------------
-- Mailboxes

-- A mailbox name as it goes on the wire (modified UTF-7 unless the server takes UTF-8).
local function mailbox(s, name)
  if type(name) ~= "string" then misuse("imap: a mailbox name must be a string") end
  if name:find("[\128-\255]") and not (s.caps and s.caps["UTF8=ACCEPT"] and s.utf8_enabled) then
    return M.utf7_encode(name)
  end
  return name
end

local function open_mailbox(s, verb, name, opts)
  opts = opts or {}
  local prev = s.mailbox
  s.mailbox = { name = name }
  local cmd = { verb, mailbox(s, name) }
  if opts.condstore then cmd[3] = { M.atom("CONDSTORE") } end
  local ok, r, u = pcall(run, s, cmd, opts)
  if not ok then
    s.mailbox = prev
    error(r, 0)
  end
  if r.status ~= "OK" then
    s.mailbox = nil
    return r, r
  end
  local box = s.mailbox
  box.read_only = r.code == "READ-ONLY"
  for _, x in ipairs(u) do
    if x.code == "PERMANENTFLAGS" and x.code_args then box.permanentflags = strings(x.code_args[1]) end
  end
  return box, r
end

--- SELECT: opens a mailbox read-write.
-- @param name the mailbox (UTF-8; sent in modified UTF-7 when needed)
-- @param opts optional `{expect=, timeout=, condstore=}`
-- @return a table `name`, `exists`, `recent`, `flags`, `permanentflags`, `uidvalidity`,
--   `uidnext`, `unseen`, `highestmodseq`, `read_only`; and the tagged result
function Session:select(name, opts)
  return open_mailbox(self, "SELECT", name, opts)
end

--- EXAMINE: opens a mailbox read-only (same results as `select`).
function Session:examine(name, opts)
  return open_mailbox(self, "EXAMINE", name, opts)
end

--- LIST: mailboxes matching a pattern.
-- @param ref reference name (default "")
-- @param pattern mailbox pattern with * and % (default "*")
-- @return an array of `{name=, raw_name=, delimiter=, flags=}` and the tagged result
function Session:list(ref, pattern, opts)
  local r, u = run(self, { "LIST", M.quoted(ref or ""), M.quoted(pattern or "*") }, opts)
  local out = {}
  for _, x in ipairs(u) do
    if x.type == "LIST" then out[#out + 1] = { name = x.name, raw_name = x.raw_name, delimiter = x.delimiter, flags = x.flags } end
  end
  return out, r
end

--- STATUS: counters of a mailbox without selecting it.
-- @param items array of names, or a string such as "(MESSAGES UNSEEN)" (default MESSAGES,
--   RECENT, UIDNEXT, UIDVALIDITY, UNSEEN)
-- @return a table item -> number and the tagged result
function Session:status(name, items, opts)
  if type(items) == "string" then
    local words = {}
    for w in items:gmatch("[%w%-%.]+") do words[#words + 1] = w end
    items = words
  end
  if items ~= nil and #items == 0 then misuse("STATUS: no item asked for") end
  items = items or { "MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN" }
  local list = {}
  for i, it in ipairs(items) do list[i] = M.atom(it) end
  local r, u = run(self, { "STATUS", mailbox(self, name), list }, opts)
  for _, x in ipairs(u) do
    if x.type == "STATUS" then return x.items, r end
  end
  return {}, r
end

--- CREATE a mailbox.
function Session:create(name, opts)
  return run(self, { "CREATE", mailbox(self, name) }, opts)
end

--- DELETE a mailbox.
function Session:delete(name, opts)
  return run(self, { "DELETE", mailbox(self, name) }, opts)
end

--- RENAME a mailbox.
function Session:rename(from, to, opts)
  return run(self, { "RENAME", mailbox(self, from), mailbox(self, to) }, opts)
end

--- SUBSCRIBE to a mailbox.
function Session:subscribe(name, opts)
  return run(self, { "SUBSCRIBE", mailbox(self, name) }, opts)
end

--- UNSUBSCRIBE from a mailbox.
function Session:unsubscribe(name, opts)
  return run(self, { "UNSUBSCRIBE", mailbox(self, name) }, opts)
end

--- APPEND a message to a mailbox, as a literal (non-synchronising with LITERAL+).
-- @param name the mailbox
-- @param message the message text (LF line ends become CRLF; a bare CR is refused), or a
--   table for parley.mime.build
-- @param opts optional: `flags` (array, e.g. {"\\Seen"}), `date` (INTERNALDATE string),
--   `expect`, `timeout`
-- @return the tagged result (with `appenduid = {uidvalidity=, uid=}` under UIDPLUS)
function Session:append(name, message, opts)
  opts = opts or {}
  if type(message) == "table" then message = require("parley.mime").build(message) end
  if type(message) ~= "string" then
    misuse("append: the message must be a string or a table for parley.mime.build")
  end
  if message:find("\r[^\n]") or message:sub(-1) == "\r" then misuse("append: the message holds a bare CR") end
  message = message:gsub("\r?\n", "\r\n")
  local cmd = { "APPEND", mailbox(self, name) }
  if opts.flags then
    local flags = {}
    for i, f in ipairs(opts.flags) do flags[i] = M.atom(f) end
    cmd[#cmd + 1] = flags
  end
  if opts.date then cmd[#cmd + 1] = M.quoted(opts.date) end
  cmd[#cmd + 1] = M.literal(message)
  return run(self, cmd, opts)
end

---------------------------------------------------------------------------------------------
-- Selected state

local function sequence_set(set, what)
  if math.type(set) == "integer" then return tostring(set) end
  if type(set) == "table" then
    local parts = {}
    for i, n in ipairs(set) do parts[i] = sequence_set(n, what) end
    set = table.concat(parts, ",")
  end
  if type(set) ~= "string" or not set:match("^[%d:,%*]+$") and set ~= "$" then
    misuse(what .. ": " .. tostring(set) .. " is not a sequence set (like 1, 2:4, 1:*, or an array of numbers)")
  end
  return set
end

-- Fetch items: a string as it is (one item or a parenthesised list), or an array of names.
local function fetch_items_arg(items)
  if type(items) == "table" then
    for _, it in ipairs(items) do no_ctl(it, "a fetch item") end
    return "(" .. table.concat(items, " ") .. ")"
  end
  return no_ctl(items or "(FLAGS UID)", "the fetch items")
end

local function fetch_results(u)
  local msgs = {}
  for _, x in ipairs(u) do
    if x.type == "FETCH" then
      local m = msgs[x.number] or {}
      for k, v in pairs(x.items or {}) do m[k] = v end
      msgs[x.number] = m
    end
  end
  return msgs
end

local function do_fetch(s, prefix, set, items, opts)
  local line = prefix .. "FETCH " .. sequence_set(set, prefix .. "FETCH") .. " " .. fetch_items_arg(items)
  local r, u = run(s, line, opts)
  return fetch_results(u), r
end

--- FETCH: data about messages.
-- @param set message numbers: 5, "1:*", "2,4:6", or an array of numbers
-- @param items "(FLAGS UID BODY.PEEK[])", "ENVELOPE", or an array of item names
-- @return a table keyed by message number, each a table of items with upper-case keys
--   (`m["BODY[]"]`, `m.FLAGS` (array), `m.UID`, `m["RFC822.SIZE"]`, `m.ENVELOPE` (parsed,
--   see `parse_envelope`), `m.INTERNALDATE`, `m.BODYSTRUCTURE` (parsed list)); and the tagged
--   result. BODY.PEEK[...] comes back as BODY[...].
function Session:fetch(set, items, opts)
  return do_fetch(self, "", set, items, opts)
end

--- UID FETCH: as `fetch`, the set being UIDs (the result is still keyed by message number;
-- each entry has `UID`).
function Session:uid_fetch(set, items, opts)
  return do_fetch(self, "UID ", set, items, opts)
end

local function has_8bit(list)
  for _, v in ipairs(list) do
    if type(v) == "string" and v:find("[\128-\255]") then return true end
  end
  return false
end

local function do_search(s, prefix, criteria, opts)
  local cmd
  if type(criteria) == "table" then
    cmd = { prefix .. "SEARCH" }
    if has_8bit(criteria) then
      cmd[2], cmd[3] = M.atom("CHARSET"), M.atom("UTF-8")
    end
    for _, c in ipairs(criteria) do cmd[#cmd + 1] = c end
  else
    cmd = prefix .. "SEARCH " .. no_ctl(criteria or "ALL", "the search criteria")
  end
  local r, u = run(s, cmd, opts)
  local out = {}
  for _, x in ipairs(u) do
    if x.type == "SEARCH" then
      for _, n in ipairs(x.numbers) do out[#out + 1] = n end
    end
  end
  return out, r
end

--- SEARCH: message numbers matching the criteria.
-- @param criteria a string sent as it is ("UNSEEN", "SUBJECT \"hello\""), or an array of
--   parts encoded like command arguments (`{"SUBJECT", "hello world"}`; use `imap.atom` for
--   sequence sets); non-ASCII parts add CHARSET UTF-8
-- @return an array of numbers and the tagged result
function Session:search(criteria, opts)
  return do_search(self, "", criteria, opts)
end

--- UID SEARCH: as `search`, returning UIDs.
function Session:uid_search(criteria, opts)
  return do_search(self, "UID ", criteria, opts)
end

local function flag_list(flags)
  if type(flags) == "string" then flags = { flags } end
  local out = {}
  for i, f in ipairs(flags or {}) do
    if f:find("[%s%c()]") then misuse("store: " .. string.format("%q", f) .. " is not a flag") end
    out[i] = f
  end
  return "(" .. table.concat(out, " ") .. ")"
end

local function do_store(s, prefix, set, action, flags, opts)
  action = tostring(action or "+FLAGS")
  if not action:upper():match("^[%+%-]?FLAGS%f[^%w]") and not action:upper():match("^[%+%-]?FLAGS$") then
    misuse("store: the action must be FLAGS, +FLAGS or -FLAGS (optionally .SILENT), not " .. action)
  end
  no_ctl(action, "the store action")
  local line = prefix .. "STORE " .. sequence_set(set, "STORE") .. " " .. action .. " " .. flag_list(flags)
  local r, u = run(s, line, opts)
  return fetch_results(u), r
end

--- STORE: changes flags.
-- @param set message numbers
-- @param action "+FLAGS", "-FLAGS", "FLAGS" (add ".SILENT" for no answer)
-- @param flags a flag or an array of flags ({"\\Seen", "\\Deleted"})
-- @return the FETCH data the server sent back (keyed by number) and the tagged result
function Session:store(set, action, flags, opts)
  return do_store(self, "", set, action, flags, opts)
end

--- UID STORE.
function Session:uid_store(set, action, flags, opts)
  return do_store(self, "UID ", set, action, flags, opts)
end

local function copyuid(r, u)
  if r.copyuid then return r.copyuid end
  for _, x in ipairs(u) do
    if x.copyuid then return x.copyuid end
  end
  return nil
end

local function do_copy(s, verb, set, name, opts)
  if verb:find("MOVE") and not caps(s).MOVE and not (opts and opts.expect) then
    parley.raise(1, "expect", verb .. ": " .. s.conn.peer .. " does not offer MOVE (RFC 6851); use copy, store +FLAGS (\\Deleted) and expunge")
  end
  local r, u = run(s, { verb .. " " .. sequence_set(set, verb), mailbox(s, name) }, opts)
  r.copyuid = copyuid(r, u)
  return r, u
end

--- COPY messages to another mailbox.
-- @return the tagged result (with `copyuid` under UIDPLUS) and the untagged responses
function Session:copy(set, name, opts) return do_copy(self, "COPY", set, name, opts) end

--- UID COPY.
function Session:uid_copy(set, name, opts) return do_copy(self, "UID COPY", set, name, opts) end

--- MOVE messages to another mailbox (RFC 6851).
function Session:move(set, name, opts) return do_copy(self, "MOVE", set, name, opts) end

--- UID MOVE.
function Session:uid_move(set, name, opts) return do_copy(self, "UID MOVE", set, name, opts) end

--- EXPUNGE: removes the messages flagged \Deleted.
-- @return an array of the expunged message numbers (as the server reported them, in order)
--   and the tagged result
function Session:expunge(opts)
  local r, u = run(self, "EXPUNGE", opts)
  local out = {}
  for _, x in ipairs(u) do
    if x.type == "EXPUNGE" then out[#out + 1] = x.number end
  end
  return out, r
end

--- UID EXPUNGE (UIDPLUS): removes only the given \Deleted messages.
function Session:uid_expunge(set, opts)
  local r, u = run(self, "UID EXPUNGE " .. sequence_set(set, "UID EXPUNGE"), opts)
  local out = {}
  for _, x in ipairs(u) do
    if x.type == "EXPUNGE" then out[#out + 1] = x.number end
  end
  return out, r
end

--- CHECK.
function Session:check(opts) return run(self, "CHECK", opts) end

--- CLOSE: closes the selected mailbox, expunging silently (the connection stays open).
function Session:close_mailbox(opts)
  local r = run(self, "CLOSE", opts)
  self.mailbox = nil
  return r
end

--- UNSELECT (RFC 3691): closes the mailbox without expunging.
function Session:unselect(opts)
  local r = run(self, "UNSELECT", opts)
  self.mailbox = nil
  return r
end

--- ENABLE (RFC 5161) extensions, e.g. "CONDSTORE", "UTF8=ACCEPT".
function Session:enable(...)
  local names = { ... }
  for _, n in ipairs(names) do M.atom(n) end
  local r, u = run(self, "ENABLE " .. table.concat(names, " "))
  for _, x in ipairs(u) do
    if x.type == "ENABLED" then
      for _, v in ipairs(x.values or {}) do
        if tostring(v):upper() == "UTF8=ACCEPT" then self.utf8_enabled = true end
      end
    end
  end
  return r, u
end

---------------------------------------------------------------------------------------------
-- IDLE

-- Untagged data that is news (not a keep-alive "* OK still here").
local function is_news(r)
  return r.type ~= "OK" or r.code ~= nil
end

-- Reads untagged data until `stop` says so ("news") or the deadline passes ("timeout").
local function idle_wait(s, seconds, stop, got)
  local deadline = parley.clock() + seconds
  while true do
    local left = deadline - parley.clock()
    if left <= 0 then return "timeout" end
    local unit, why = s.conn:read_reply(left)
    if not unit then
      if why == "timeout" then return "timeout" end
      parley.raise(1, "eof", "IDLE: " .. s.conn.peer .. " closed the connection")
    end
    local r = M.parse_response(unit)
    if r.tag ~= "*" then protocol_error("IDLE: unexpected response \"" .. r.text .. "\"") end
    absorb(s, r)
    got[#got + 1] = r
    if stop(r, got) then
      -- take what arrived with it (EXISTS and RECENT come together)
      while s.conn:pending() > 0 do
        local more = s.conn:read_reply(1)
        if not more then return "news" end
        local x = M.parse_response(more)
        if x.tag == "*" then absorb(s, x) end
        got[#got + 1] = x
      end
      return "news"
    end
  end
end

--- IDLE (RFC 2177): waits for the server to report changes, then sends DONE.
-- Returns as soon as news arrives (EXISTS, EXPUNGE, FETCH, ... — not keep-alive OKs), or
-- after `timeout` seconds with whatever came (possibly nothing).
-- @param timeout seconds to wait at most (default: the connection's timeout)
-- @param opts optional: `until` (a function(response, all) returning true to stop; e.g. stop
--   on `r.type == "EXISTS"`), `expect`
-- @return an array of the untagged responses that arrived (parsed), the tagged result, and
--   why IDLE ended: "news" (what `until` waits for arrived, by default any news), "timeout"
--   (the time ran out; the array holds whatever came, keep-alives included) or "refused"
--   (the server answered the IDLE command itself, without a "+")
function Session:idle(timeout, opts)
  opts = opts or {}
  if not caps(self).IDLE and opts.expect == nil then
    parley.raise(1, "expect", "IDLE: " .. self.conn.peer .. " does not offer IDLE (RFC 2177)")
  end
  local tag = next_tag(self)
  local got = {}
  self.conn:send(tag .. " IDLE")
  local early = collect(self, tag, "IDLE", nil, got, function() return "stop" end)
  if early then
    check_tagged(self, "IDLE", opts.expect, early)
    return got, early, "refused"
  end
  local stop = opts["until"] or function(r) return is_news(r) end
  local woke = idle_wait(self, timeout or self.conn.timeout, stop, got)
  self.conn:send("DONE")
  local r = collect(self, tag, "IDLE", nil, got)
  check_tagged(self, "IDLE", opts.expect, r)
  return got, r, woke
end

---------------------------------------------------------------------------------------------
-- Plumbing

--- Reads one response and parses it, without checking; a timeout or the end of the
-- connection fails the conversation (see `read_reply` for a call that returns them).
function Session:read_response(timeout)
  local r = read(self, "read", timeout)
  if r.tag == "*" then absorb(self, r) end
  return r
end

--- Reads one response without checking it, parsed (`tag`, `status`, `text`, `type`, ...;
-- untagged data updates the session as usual), for reading by hand after `s:send`.
-- @return the response, or nil and "timeout" or "eof"
function Session:read_reply(timeout)
  local unit, why = self.conn:read_reply(timeout)
  if not unit then return nil, why end
  local r = M.parse_response(unit)
  if r.tag == "*" then absorb(self, r) end
  return r
end

return M
