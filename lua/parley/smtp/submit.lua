--- Message submission for the SMTP session: MAIL, RCPT, DATA, BDAT and send_message (the
-- envelope pipelined when the server offers PIPELINING), the replies after the message with
-- their queue ids (one per recipient in LMTP). parley.smtp installs these methods on its
-- sessions; scripts call them there (`s:mail`, `s:send_message`, ...).
-- @module parley.smtp.submit

local parley = require "parley"
local core = require "parley.core"
local args = require "parley.smtp.args"
local check_mod = require "parley.smtp.check"
local reply = require "parley.smtp.reply"

local M = {}

--- The methods this module adds to SMTP sessions.
local Session = {}
M.methods = Session

local misuse, address, is_ascii = args.misuse, args.address, args.is_ascii
local message_text, mail_line, rcpt_line = args.message_text, args.mail_line, args.rcpt_line
local message_wire, wire_message = args.message_wire, parley.wire_message
local run, check, read_any = check_mod.run, check_mod.check, check_mod.read_any
local matches, refuse = check_mod.matches, check_mod.refuse
-- The bindings' own send_raw, not looked up through the connection's __index per message.
local send_raw = parley.conn_methods.send_raw

local function queue_id(r)
  return reply.queue_id(r and r.text)
end

--- Starts a new envelope on the session (MAIL, RSET, send_message).
local function new_envelope(s, from)
  s.envelope = { from = from, rcpts = {}, accepted = {} }
end
M.new_envelope = new_envelope

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
  local line, addr = rcpt_line(to, opts)
  local r = run(self, line, "2xx", opts)
  note_rcpt(self, addr, r)
  return r
end

-- After the message: one reply, or (LMTP) one per accepted recipient. `opts` may be nil.
local function final_replies(s, what, opts)
  s.conn.last_command = "DATA_END"
  local spec, timeout = "2xx", nil
  if opts ~= nil then
    if opts.expect ~= nil then spec = opts.expect end
    timeout = opts.timeout
  end
  if not s.lmtp then
    local label = what == "DATA" and "DATA (after the message)" or what .. " (after the message)"
    local r = check(s, label, spec, timeout)
    if type(r) == "table" then r.queue_id = queue_id(r) end
    return r
  end
  local replies = {}
  for i, rcpt in ipairs(s.envelope.accepted) do
    local r = check(s, what .. " (after the message, recipient " .. rcpt .. ")", spec, timeout)
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
  local wire = message_wire(self, msg, "DATA")
  local r = run(self, "DATA", 354, opts and { expect = opts.expect_data, timeout = opts.timeout })
  if type(r) ~= "table" or r.code ~= 354 then return r end
  send_raw(self.conn, wire)
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
    send_raw(self.conn, wire_message(text))  -- text is on the wire already: stuffed, the dot added
    res.data = final_replies(self, "DATA", { timeout = t.timeout })
  end
  res.queue_id = res.data and (res.data.queue_id or (res.data[1] and res.data[1].queue_id))
  return res
end

return M
