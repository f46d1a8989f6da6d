---@meta parley.smtp
-- lua-language-server definitions of parley.smtp: SMTP, submission and LMTP sessions.
-- Reference: docs/smtp.md and docs/vocabulary.md.

--- What every command method takes: `expect=` (a code, a class such as "5xx", true, false, a
--- Lua pattern, a function, or an array of those) and `timeout=`.
---@alias parley.smtp.Expect boolean|integer|string|fun(r: parley.Reply): boolean?|(integer|string|fun(r: parley.Reply): boolean?)[]

---@class parley.smtp.CommandOptions
---@field expect? parley.smtp.Expect what the reply must be (default: the command's usual success)
---@field timeout? number seconds

---@class parley.smtp.ConnectOptions: parley.TlsOptions
---@field host? string default 127.0.0.1
---@field port? integer default 25, 465 for implicit TLS
---@field path? string a unix socket (e.g. for LMTP)
---@field tls? false|true|"starttls"|"implicit" true means implicit
---@field helo? string the name sent with EHLO (greets the server at once, filling `s.caps`)
---@field lmtp? boolean LHLO instead of EHLO, per-recipient replies after DATA
---@field timeout? number
---@field greeting? integer|string|false the expected greeting (default 220; false: do not read it)
---@field transcript? boolean

---@class parley.smtp.StarttlsOptions: parley.TlsOptions, parley.smtp.CommandOptions
---@field caps? boolean false: do not greet again after the handshake

---@class parley.smtp.AuthOptions: parley.smtp.CommandOptions
---@field authzid? string
---@field initial? boolean false: never send an initial response

---@class parley.smtp.MailOptions: parley.smtp.CommandOptions
---@field size? integer SIZE=
---@field body? "8BITMIME"|"7BIT"|"BINARYMIME" BODY=
---@field smtputf8? boolean SMTPUTF8 (default: when the address is not ASCII)
---@field ret? "FULL"|"HDRS" DSN RET=
---@field envid? string DSN ENVID=
---@field auth? string AUTH=
---@field requiretls? boolean REQUIRETLS
---@field params? table<string, string>|string[] more: `{NAME=value}` or `{"NAME=value"}`

---@class parley.smtp.RcptOptions: parley.smtp.CommandOptions
---@field notify? string|string[] DSN NOTIFY= ("SUCCESS,FAILURE,DELAY" or "NEVER", or an array)
---@field orcpt? true|string DSN ORCPT= (true: the address itself; or "rfc822;addr")
---@field params? table<string, string>|string[] more: `{NAME=value}` or `{"NAME=value"}`

---@class parley.smtp.DataOptions: parley.smtp.CommandOptions
---@field expect_data? parley.smtp.Expect for the reply to DATA itself (default 354)

---@class parley.smtp.BdatOptions: parley.smtp.CommandOptions
---@field last? boolean true for the final chunk

---@class parley.smtp.SendMessage
---@field from string the envelope sender
---@field to string|string[] the recipients
---@field message? string|parley.mime.Message the message: text, or a table for parley.mime.build
---@field notify? string|string[] DSN NOTIFY= for every recipient
---@field orcpt? true|string DSN ORCPT=
---@field ret? "FULL"|"HDRS" DSN RET=
---@field envid? string DSN ENVID=
---@field size? integer SIZE=
---@field body? "8BITMIME"|"7BIT"|"BINARYMIME" BODY=
---@field smtputf8? boolean
---@field partial? boolean a refused recipient does not fail the conversation
---@field chunking? boolean BDAT instead of DATA when offered
---@field chunk_size? integer bytes per BDAT chunk
---@field pipelining? boolean false: do not pipeline the envelope

--- What `s:send_message` returns.
---@class parley.smtp.Sent
---@field mail parley.Reply the reply to MAIL
---@field rcpt parley.Reply[] the replies to RCPT
---@field accepted string[] the recipients accepted
---@field refused string[] the recipients refused
---@field data parley.Reply|parley.Reply[] the final reply (LMTP: one per recipient)
---@field queue_id? string

--- An SMTP session (from `smtp.connect` or `smtp.wrap`): the methods below, and the
--- connection's fields.
---@class parley.smtp.Session
---@field conn parley.Connection the connection
---@field caps table<string, any> the extensions of the last EHLO: `true` or their parameter; `AUTH` a set, `SIZE` a number
---@field caps_list string[] the lines of the last EHLO reply
---@field greeting? parley.Reply the server's greeting
---@field lmtp? boolean whether this is an LMTP session
---@field helo_name? string the name sent with EHLO
---@field authenticated? boolean
---@field envelope? table the transaction under way
---@field tls? parley.TlsInfo
---@field peer string
---@field host string
---@field port integer
---@field id integer
---@field timeout number
---@field framing parley.Framing
local Session = {}

---@class parley.smtp
local smtp = {}

--- The name sent with EHLO/HELO/LHLO when the script gives none ("localhost").
smtp.default_helo = "localhost"

--- xtext encoding (RFC 3461 section 4): "+", "=" and bytes outside 33-126 as +XX.
---@param s string
---@return string
function smtp.xtext(s) end

--- Dot-stuffing (RFC 5321 section 4.5.2): a "." starting a line gets another ".".
---@param text string with CRLF line ends
---@return string
function smtp.dot_stuff(text) end

--- The queue id in the reply to the end of a message, as each common server words it: Postfix
--- "queued as 4F1xyz", Exim "id=1tAbCd-000123-Xy", OpenSMTPD and Sendmail "78b784e0 Message
--- accepted for delivery", qmail "ok 1700000000 qp 12345" (the qp number), Exchange and
--- Microsoft 365 "<MESSAGE-ID> [InternalId=...]" (the message id), Gmail "OK 1700000000
--- a1si123.45 - gsmtp", Haraka "Message Queued (ID)", Courier "Ok. A.B.C".
---
--- Returns the id, or nil
---@param text string|parley.Reply the reply text (with or without the enhanced code), or a reply
---@return string?
function smtp.queue_id(text) end

--- Wraps a connection that is already open (from `connect`, `exec` or a unix socket) in an SMTP
--- session, and reads the greeting.
---
--- Returns the session
---@param conn parley.Connection a connection
---@param opts? parley.smtp.ConnectOptions `greeting` (what the greeting must be, default 220; false: do not read it), `lmtp`, `helo`, and the TLS options used by a later `starttls`
---@return parley.smtp.Session
function smtp.wrap(conn, opts) end

--- Connects, reads the 220 greeting and, with `tls="starttls"`, upgrades the connection. With
--- `tls="starttls"`: EHLO, STARTTLS (exit 3 when the server does not offer it or refuses it),
--- the TLS handshake, and EHLO again. With `helo=` (or LMTP) the session also greets the server
--- at once, so `s.caps` is filled.
---
--- Returns the session
---@param opts parley.smtp.ConnectOptions table: `host` (default 127.0.0.1), `port` (default 25, 465 for implicit TLS), `path` (a unix socket, e.g. for LMTP), `tls` (false, "starttls" or "implicit"), `helo`, `lmtp` (LHLO instead of EHLO, per-recipient replies after DATA), `verify`, `ca`, `ca_pem`, `sni`, `cert`, `key`, `timeout`, `greeting` (expected greeting, default 220)
---@return parley.smtp.Session
function smtp.connect(opts) end

--- EHLO (or LHLO in an LMTP session): greets the server and learns its extensions. Fills
--- `s.caps`: `STARTTLS`, `PIPELINING`, `8BITMIME`, `SMTPUTF8`, `DSN`, `ENHANCEDSTATUSCODES`,
--- `CHUNKING` ... (true, or the parameter text when there is one), `AUTH` (a set:
--- `s.caps.AUTH.PLAIN`), `SIZE` (a number); and `s.caps_list` (the lines).
---
--- Returns the reply
---@param name? string client name (default: the `helo` option, else `smtp.default_helo`)
---@param opts? parley.smtp.CommandOptions `{expect=, timeout=}`
---@return parley.Reply
function Session:ehlo(name, opts) end

--- LHLO (RFC 2033): EHLO for LMTP servers.
---@param name string
---@param opts? parley.smtp.CommandOptions
---@return parley.Reply
function Session:lhlo(name, opts) end

--- HELO: the old greeting, without extensions (`s.caps` becomes empty).
---@param name string
---@param opts? parley.smtp.CommandOptions
---@return parley.Reply
function Session:helo(name, opts) end

--- STARTTLS (RFC 3207): upgrades the connection, then greets again (unless `caps=false`). Fails
--- with exit 3 when the server does not offer STARTTLS or does not answer 220: the conversation
--- never goes on in the clear. With `expect=` set, a refusal that matches it is returned
--- instead (and no handshake happens).
---
--- Returns the reply to STARTTLS
---@param opts? parley.smtp.StarttlsOptions `sni`, `verify`, `ca`, `ca_pem`, `cert`, `key` (default: those given to connect), `caps` (false: do not greet again; the old spelling `ehlo=false` works too), `expect` (a refusal that matches it is returned instead of failing), `timeout`
---@return parley.Reply
function Session:starttls(opts) end

--- The server's capabilities: EHLO when the session has not greeted yet (see `ehlo`). The same
--- call in every protocol (`pop3:capabilities` asks CAPA, `imap:capabilities` CAPABILITY).
---
--- Returns the caps table (nil when the server refused), and the reply (nil when `s.caps` was
--- known already)
---@param opts? parley.smtp.CommandOptions `{expect=, timeout=}`
---@return table<string, any>? caps
---@return parley.Reply? reply
function Session:capabilities(opts) end

--- AUTH (RFC 4954) with a SASL mechanism from parley.sasl. Credentials stay secrets: the
--- transcript shows `****`. SCRAM checks the server's signature (a server that cannot prove it
--- knows the password fails with exit 3).
---
--- Returns the final reply (235 on success)
---@param mech? string PLAIN, LOGIN, CRAM-MD5, XOAUTH2, SCRAM-SHA-256, ...; nil picks the strongest mechanism both sides speak
---@param user string user name
---@param pass string password (or token for XOAUTH2)
---@param opts? parley.smtp.AuthOptions `expect` (e.g. 535 or "5xx" for a test that wants a refusal), `authzid`, `initial` (false: never send an initial response), `timeout`
---@return parley.Reply
function Session:auth(mech, user, pass, opts) end

--- MAIL FROM: starts a transaction.
---
--- Returns the reply
---@param from string the sender address ("" or "<>" for the null sender); CR, LF, < and > inside are refused
---@param opts? parley.smtp.MailOptions `size` (SIZE=), `body` ("8BITMIME", "7BIT", "BINARYMIME"), `smtputf8` (default: when the address is not ASCII), `ret` ("FULL"/"HDRS") and `envid` (DSN), `auth` (AUTH=), `requiretls`, `params` (more: `{NAME=value}` or `{"NAME=value"}`), `expect`, `timeout`
---@return parley.Reply
function Session:mail(from, opts) end

--- RCPT TO: adds a recipient.
---
--- Returns the reply
---@param to string the recipient address
---@param opts? parley.smtp.RcptOptions `notify` ("SUCCESS,FAILURE,DELAY" or "NEVER", or an array), `orcpt` (true: the address itself; or "rfc822;addr"), `params`, `expect`, `timeout`
---@return parley.Reply
function Session:rcpt(to, opts) end

--- DATA: sends the message, dot-stuffed, with CRLF line ends.
---
--- Returns the reply after the final dot (with `queue_id` when the server named one); in an
--- LMTP session an array of replies, one per accepted recipient, each with `rcpt`
---@param msg string|parley.mime.Message the message text (LF or CRLF line ends; a bare CR is refused), or a table for `parley.mime.build` (From and To default to the envelope)
---@param opts? parley.smtp.DataOptions `expect` (for the reply after the message), `expect_data` (for the reply to DATA itself, default 354), `timeout`
---@return parley.Reply|parley.Reply[]
function Session:data(msg, opts) end

--- BDAT (RFC 3030 CHUNKING): sends one chunk of the message, exactly as given.
---
--- Returns the reply (for the last chunk of an LMTP session, the array of replies)
---@param chunk string bytes
---@param opts? parley.smtp.BdatOptions `last` (true for the final chunk), `expect`, `timeout`
---@return parley.Reply|parley.Reply[]
function Session:bdat(chunk, opts) end

--- Sends a whole message: MAIL, RCPT for each recipient, DATA (or BDAT with `chunking`). With
--- PIPELINING offered, the envelope goes out in one batch and the replies are read afterwards
--- (RFC 2920). SIZE and BODY=8BITMIME are added when the server offers them. A session that has
--- not greeted the server yet sends EHLO first. A refused recipient fails the conversation
--- unless `partial=true`; with no recipient accepted it fails in any case.
---
--- Returns a table: `mail` (reply), `rcpt` (replies), `accepted`, `refused` (addresses), `data`
--- (the final reply, or the LMTP array), `queue_id`
---@param t parley.smtp.SendMessage table: `from`, `to` (address or array), `message` (text, or a table for parley.mime.build), `notify`, `orcpt`, `ret`, `envid`, `size`, `body`, `smtputf8`, `partial`, `chunking` (use BDAT when offered), `chunk_size`, `pipelining` (false: do not pipeline)
---@return parley.smtp.Sent
function Session:send_message(t) end

--- RSET: aborts the transaction.
---@param opts? parley.smtp.CommandOptions
---@return parley.Reply
function Session:rset(opts) end

--- NOOP.
---@param opts? parley.smtp.CommandOptions
---@return parley.Reply
function Session:noop(opts) end

--- VRFY: asks whether an address or name exists. Servers often answer 252 or 502.
---@param who string address or user name
---@param opts? parley.smtp.CommandOptions `{expect=, timeout=}` (default: a 2xx reply)
---@return parley.Reply
function Session:vrfy(who, opts) end

--- EXPN: asks for the members of a mailing list.
---@param list string|table
---@param opts? parley.smtp.CommandOptions
---@return parley.Reply
function Session:expn(list, opts) end

--- HELP, optionally about a topic (214 or 211 expected).
---@param topic string
---@param opts? parley.smtp.CommandOptions
---@return parley.Reply
function Session:help(topic, opts) end

--- QUIT, then closes the connection.
---@param opts? parley.smtp.CommandOptions `{expect=, timeout=}` (default 221)
---@return parley.Reply
function Session:quit(opts) end

--- Any command line, with a check of the reply.
---
--- Returns the reply
---@param line string the command (CR and LF refused)
---@param opts? parley.smtp.CommandOptions|parley.smtp.Expect `{expect=, timeout=}`; `expect` as for every command (default: a 2xx or 3xx reply). The old form `command(line, expect)` still works (a warning under --strict).
---@return parley.Reply
function Session:command(line, opts) end

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

--- Reads one reply without checking it. **Returns** the reply, or `nil` and `"timeout"` or
--- `"eof"` (it never raises on them).
---@param timeout? number
---@return parley.Reply? reply
---@return "timeout"|"eof"|nil why
function Session:read_reply(timeout) end

--- Installs a handler on the connection, checked before every later reply is checked (see
--- `c:on`). **Returns** the session.
---@param spec parley.Matcher
---@param fn fun(r: any): ...
---@return parley.smtp.Session
function Session:on(spec, fn) end

--- Removes the handlers installed with `on`. **Returns** the session.
---@return parley.smtp.Session
function Session:off() end

--- Closes the connection without the protocol's goodbye.
function Session:close() end

return smtp
