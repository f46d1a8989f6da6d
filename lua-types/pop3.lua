---@meta parley.pop3
-- lua-language-server definitions of parley.pop3. Reference: docs/pop3.md, docs/vocabulary.md.

---@alias parley.pop3.Expect boolean|"+OK"|"-ERR"|string|fun(r: parley.Reply): boolean?|(string|boolean|fun(r: parley.Reply): boolean?)[]

---@class parley.pop3.CommandOptions
---@field expect? parley.pop3.Expect what the reply must be (default +OK)
---@field timeout? number seconds
---@field block? boolean a multi-line response follows +OK

---@class parley.pop3.ConnectOptions: parley.TlsOptions
---@field host? string default 127.0.0.1
---@field port? integer default 110, 995 for implicit TLS
---@field path? string a unix socket
---@field tls? false|true|"starttls"|"implicit" true means implicit
---@field timeout? number
---@field greeting? parley.pop3.Expect|false what the greeting must be (false: do not read it)
---@field transcript? boolean

---@class parley.pop3.StarttlsOptions: parley.TlsOptions, parley.pop3.CommandOptions
---@field caps? boolean false: do not ask CAPA again after the handshake

---@class parley.pop3.AuthOptions: parley.pop3.CommandOptions
---@field authzid? string
---@field initial? boolean false: never send an initial response

--- A POP3 session (from `pop3.connect` or `pop3.wrap`): the methods below, and the
--- connection's fields.
---@class parley.pop3.Session
---@field conn parley.Connection the connection
---@field caps table<string, any> the capabilities of the last CAPA (`AUTH` and `SASL` sets)
---@field caps_list string[] the lines of the last CAPA
---@field greeting? parley.Reply the server's greeting
---@field apop_stamp? string the APOP timestamp of the greeting
---@field authenticated? boolean
---@field tls? parley.TlsInfo
---@field peer string
---@field host string
---@field port integer
---@field id integer
---@field timeout number
---@field framing parley.Framing
local Session = {}

---@class parley.pop3
local pop3 = {}

--- Wraps an open connection in a POP3 session and reads the greeting.
---
--- Returns the session
---@param conn parley.Connection a connection
---@param opts? parley.pop3.ConnectOptions `greeting` (false: do not read it), `timeout`, TLS options for `stls`
---@return parley.pop3.Session
function pop3.wrap(conn, opts) end

--- Connects and reads the greeting; with `tls="starttls"` upgrades with STLS at once.
---
--- Returns the session
---@param opts parley.pop3.ConnectOptions table: `host`, `port` (default 110, 995 with implicit TLS), `path` (a unix socket instead), `tls` (false, "starttls" or "implicit"), `verify`, `ca`, `ca_pem`, `sni`, `cert`, `key`, `timeout`
---@return parley.pop3.Session
function pop3.connect(opts) end

--- CAPA (RFC 2449): the server's capabilities. Fills `s.caps` (`STLS`, `USER`, `TOP`, `UIDL`,
--- `PIPELINING`, `RESP-CODES`, ... as true or their argument text; `AUTH`, also named `SASL`,
--- as a set of mechanisms) and `s.caps_list`.
---
--- Returns the caps table (nil when the server answered -ERR and `expect=` allowed it), and the
--- reply
---@param opts? parley.pop3.CommandOptions `{expect=, timeout=}`
---@return table<string, any>? caps
---@return parley.Reply? reply
function Session:capa(opts) end

--- The server's capabilities: CAPA when they are not known yet (the same call in every
--- protocol).
---
--- Returns the caps table (nil when the server refused), and the reply (nil when known already)
---@param opts? parley.pop3.CommandOptions `{expect=, timeout=, refresh=true}`
---@return table<string, any>? caps
---@return parley.Reply? reply
function Session:capabilities(opts) end

--- STLS (RFC 2595): upgrades the connection to TLS, then asks CAPA again. Fails with exit 3
--- when the server does not offer STLS or refuses it: the session never goes on in the clear.
--- `starttls` is the same call (the name every protocol has).
---
--- Returns the reply to STLS
---@param opts? parley.pop3.StarttlsOptions TLS options (`sni`, `verify`, `ca`, `ca_pem`, ...; default: those of connect), `caps` (false: do not ask CAPA again; the old spelling `capa=false` works too), `expect` (a refusal matching it is returned instead of failing), `timeout`
---@return parley.Reply
function Session:stls(opts) end

--- USER: names the mailbox.
---@param name string
---@param opts? parley.pop3.CommandOptions
---@return parley.Reply
function Session:user(name, opts) end

--- PASS: the password (shown as **** in transcripts).
---@param password string
---@param opts? parley.pop3.CommandOptions
---@return parley.Reply
function Session:pass(password, opts) end

--- USER then PASS.
---
--- Returns the reply to PASS
---@param name string
---@param password string
---@param opts? parley.pop3.CommandOptions `{expect=}`: applies to PASS (e.g. "-ERR" for a test of a wrong password)
---@return parley.Reply
function Session:login(name, password, opts) end

--- APOP (RFC 1939 section 7): logs in with an MD5 digest of the greeting's timestamp and the
--- password. Fails (exit 1) when the greeting carries no timestamp.
---@param name string
---@param password string
---@param opts? parley.pop3.CommandOptions
---@return parley.Reply
function Session:apop(name, password, opts) end

--- AUTH (RFC 5034) with a SASL mechanism from parley.sasl; the initial response goes with the
--- command. SCRAM checks the server's signature (exit 3 when it does not match).
---
--- Returns the final reply
---@param mech? string mechanism name, or nil for the strongest both sides speak (from CAPA's SASL)
---@param user string
---@param password string
---@param opts? parley.pop3.AuthOptions `expect` (e.g. "-ERR"), `authzid`, `initial` (false: no initial response), `timeout`
---@return parley.Reply
function Session:auth(mech, user, password, opts) end

--- STAT: the number of messages and their total size in octets.
---
--- Returns count, size, and the reply
---@param opts? parley.pop3.CommandOptions
---@return integer count
---@return integer size
---@return parley.Reply reply
function Session:stat(opts) end

--- LIST: message sizes.
---
--- Returns with n: the size and the reply; without: a table number -> size, an array of the
--- message numbers in order, and the reply
---@param n? integer message number
---@param opts? parley.pop3.CommandOptions
---@return integer|table<integer, integer> sizes
---@return parley.Reply|integer[] reply_or_numbers
---@return parley.Reply? reply
function Session:list(n, opts) end

--- UIDL: unique ids.
---
--- Returns with n: the id and the reply; without: a table number -> id, the array of numbers,
--- and the reply
---@param n? integer message number
---@param opts? parley.pop3.CommandOptions
---@return string|table<integer, string> ids
---@return parley.Reply|integer[] reply_or_numbers
---@return parley.Reply? reply
function Session:uidl(n, opts) end

--- RETR: a whole message.
---
--- Returns the message text (dot-unstuffed, CRLF line ends), and the reply
---@param n integer
---@param opts? parley.pop3.CommandOptions
---@return string text
---@return parley.Reply reply
function Session:retr(n, opts) end

--- TOP: the header and the first `lines` lines of the body.
---
--- Returns the text and the reply
---@param n integer
---@param lines integer
---@param opts? parley.pop3.CommandOptions
---@return string text
---@return parley.Reply reply
function Session:top(n, lines, opts) end

--- DELE: marks a message deleted.
---@param n integer
---@param opts? parley.pop3.CommandOptions
---@return parley.Reply
function Session:dele(n, opts) end

--- RSET: unmarks deleted messages.
---@param opts? parley.pop3.CommandOptions
---@return parley.Reply
function Session:rset(opts) end

--- NOOP.
---@param opts? parley.pop3.CommandOptions
---@return parley.Reply
function Session:noop(opts) end

--- QUIT: ends the session (deleting the marked messages) and closes the connection.
---@param opts? parley.pop3.CommandOptions
---@return parley.Reply
function Session:quit(opts) end

--- Any command.
---
--- Returns the reply (with `lines` for a block)
---@param line string the command (CR and LF refused)
---@param opts? parley.pop3.CommandOptions `block` (true: a multi-line response follows +OK), `expect`, `timeout`
---@return parley.Reply
function Session:command(line, opts) end

--- Reads one response without checking it: for a multi-line response read by hand after
--- `s:send`, pass `{block = true}` (the lines come in `r.lines`).
---
--- Returns the response, or nil and "timeout" or "eof"
---@param timeout? number|{timeout: number?, block: boolean?} seconds, or a table `{timeout=, block=}`
---@return parley.Reply? reply
---@return "timeout"|"eof"|nil why
function Session:read_reply(timeout) end

--- Same as `stls` (the name every protocol has).
---@param opts? parley.pop3.StarttlsOptions
---@return parley.Reply
function Session:starttls(opts) end

--- Sends a line (CRLF added; CR or LF inside refused) without reading anything.
---@param line string
function Session:send(line) end

--- Sends bytes as they are.
---@param bytes string
function Session:send_raw(bytes) end

--- Reads one reply and checks it as the connection's `c:expect` does (see [core](core.md)).
---@param spec parley.ExpectSpec
---@param timeout? number
---@return parley.Reply
function Session:expect(spec, timeout) end

--- Installs a handler on the connection, checked before every later reply is checked (see
--- `c:on`). **Returns** the session.
---@param spec parley.Matcher
---@param fn fun(r: any): ...
---@return parley.pop3.Session
function Session:on(spec, fn) end

--- Removes the handlers installed with `on`. **Returns** the session.
---@return parley.pop3.Session
function Session:off() end

--- Closes the connection without the protocol's goodbye.
function Session:close() end

return pop3
