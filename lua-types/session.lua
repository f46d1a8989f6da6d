---@meta parley.session
-- lua-language-server definitions of parley.session: the session core for writing a protocol
-- module. Reference: docs/session.md.

---@class parley.session
local session = {}

--- The methods tables of the session classes, by protocol name.
---@type table<string, table<string, function>>
session.classes = {}

--- The closest of `names` to `name` (within two edits, or a prefix), or nil.
---@param name string
---@param names string[]
---@return string?
function session.suggest(name, names) end

--- The message for a name that an object has neither as a method nor as a field, with the
--- closest name: "no method 'sned' on a connection; did you mean 'send'?", then its methods
--- (and fields). Sessions raise it, and so do connections, listeners and tasks.
---@param label string "a connection", "an SMTP session", ...
---@param name string the name asked for
---@param methods string[]
---@param fields? string[]
---@return string message
function session.no_method(label, name, methods, fields) end

--- A session class for a protocol: the methods table to fill, and the metatable of sessions
--- (methods first, then the connection's fields: `s.tls`, `s.peer`, ...). Reading a name that
--- is neither a method nor a field is an error naming what exists: "no method 'recpt' on an
--- SMTP session; did you mean 'rcpt'?". The methods tables are kept in `session.classes[name]`.
---
--- Returns the methods table and the metatable
---@param name string "smtp", "pop3" or "imap"
---@return table methods
---@return metatable meta
function session.class(name) end

--- Warns once per name, under `--strict`, that an old spelling was used: "deprecated: OLD
--- (write NEW)".
---@param old string
---@param new string
function session.deprecated(old, new) end

--- Fails the conversation (exit 1): nothing came for `what` within `seconds` (the same message
--- in every protocol; when nothing at all came on a plaintext connection, it also says whether
--- the port speaks TLS first).
---@param s table
---@param what string
---@param desc string
---@param seconds number
function session.timed_out(s, what, desc, seconds) end

--- Fails the conversation (exit 1): the peer closed the connection while `what` waited.
---@param s table
---@param what string
---@param desc string
function session.closed(s, what, desc) end

--- Reads one reply for `what`: any reply (handlers from `on` and --strict apply), or with
--- `match` one it accepts. A timeout or the end of the connection fails the conversation (see
--- `timed_out` and `closed`), and so does a reply `match` refuses (see `refuse`).
---
--- Returns the reply (the framing's unit), or the results of the `on` handler that took it
---@param s table
---@param what string
---@param timeout? number
---@param desc? string what was expected, for the message
---@param match? fun(r: parley.Reply): boolean a reply it refuses fails the conversation
---@return parley.Reply
function session.read(s, what, timeout, desc, match) end

--- What `read` does with what `core.receive` gave (`r`, `why`, `more`) when it is not simply the
--- reply wanted: fails the conversation as `read` does (no reply, or one `match` refuses), or
--- returns the results of the `on` handler that took the reply. For a library that reads with
--- `core.receive` itself.
---
--- Returns the reply, or the results of the `on` handler that took it
---@param s table
---@param what string
---@param timeout? number
---@param desc? string
---@param match? fun(r: parley.Reply): boolean
---@param r? parley.Reply
---@param why? string nil, "handled", "timeout", "eof", ...
---@param more any the `on` handler's results (packed), or the seconds waited
---@return parley.Reply
function session.settle(s, what, timeout, desc, match, r, why, more) end

--- Fails the conversation (exit 1) because the reply to `what` is not what was wanted: the same
--- message shape in every protocol (command, what was expected, what came, what the code means,
--- the peer).
---@param s table
---@param what string
---@param desc string
---@param r any
---@param shown? string
function session.refuse(s, what, desc, r, shown) end

--- Whether `t` is an options table (`{expect=, timeout=, ...}`) rather than an expectation.
---@param t any
---@return boolean
function session.is_options(t) end

--- The options of `command(line, opts)`: an options table as it is; anything else (the old
--- `command(line, expect)` of parley.smtp) becomes `{expect = ...}`, with a warning under
--- --strict.
---@param opts any
---@param proto string|table
---@return table
function session.command_options(opts, proto) end

--- Whether the capability query after STARTTLS is wanted: `caps=false` skips it (the old
--- spellings `ehlo=false`, `capa=false`, `capability=false` still work).
---@param opts? table
---@param proto string|table
---@return boolean
function session.requery(opts, proto) end

--- Installs send, send_raw, expect, read_reply, on, off and close on a methods table (a
--- protocol may replace read_reply to parse what it reads).
---@param methods table
function session.passthroughs(methods) end

return session
