---@meta parley.imap
-- lua-language-server definitions of parley.imap. Reference: docs/imap.md, docs/vocabulary.md.

---@alias parley.imap.Expect boolean|"OK"|"NO"|"BAD"|string|fun(r: parley.imap.Result): boolean?|(string|boolean|fun(r: parley.imap.Result): boolean?)[]

---@class parley.imap.CommandOptions
---@field expect? parley.imap.Expect what the tagged status must be (default OK)
---@field timeout? number seconds

---@class parley.imap.ConnectOptions: parley.TlsOptions
---@field host? string default 127.0.0.1
---@field port? integer default 143, 993 for implicit TLS
---@field path? string a unix socket
---@field tls? false|true|"starttls"|"implicit" true means implicit
---@field timeout? number
---@field greeting? parley.imap.Expect|false what the greeting must be (false: do not read it)
---@field transcript? boolean

---@class parley.imap.StarttlsOptions: parley.TlsOptions, parley.imap.CommandOptions
---@field caps? boolean false: do not ask CAPABILITY again after the handshake

---@class parley.imap.AuthOptions: parley.imap.CommandOptions
---@field authzid? string
---@field initial? boolean false: never send an initial response

---@class parley.imap.IdleOptions: parley.imap.CommandOptions
---@field ["until"]? string|fun(r: parley.imap.Response): boolean? what news ends the IDLE (default: any)

--- A response parsed (`imap.parse_response`).
---@class parley.imap.Response
---@field tag string "*", "+" or the tag
---@field text string the first line
---@field raw string
---@field status? "OK"|"NO"|"BAD"|"PREAUTH"|"BYE"
---@field code? string the response code ("UIDVALIDITY", ...)
---@field code_args? any[]
---@field message? string the text after the code
---@field type? string untagged: EXISTS, FETCH, LIST, ...
---@field number? integer
---@field items? table<string, any> FETCH items, upper-case keys
---@field flags? string[]
---@field name? string
---@field delimiter? string
---@field numbers? integer[] SEARCH
---@field caps? table<string, any>
---@field values? any[] anything else, parsed
---@field continuation? string a continuation's text

--- The tagged result of a command.
---@class parley.imap.Result: parley.imap.Response
---@field untagged parley.imap.Response[] the untagged responses that came before it
---@field appenduid? {uidvalidity: integer, uid: integer} APPEND under UIDPLUS
---@field copyuid? table COPY/MOVE under UIDPLUS

---@class parley.imap.Mailbox
---@field name string
---@field exists? integer
---@field recent? integer
---@field flags? string[]
---@field permanentflags? string[]
---@field uidvalidity? integer
---@field uidnext? integer
---@field unseen? integer
---@field highestmodseq? integer
---@field read_only? boolean

---@class parley.imap.ListEntry
---@field name string the name, decoded from modified UTF-7
---@field raw_name string
---@field delimiter? string
---@field flags string[]

---@class parley.imap.Address
---@field name? string
---@field mailbox? string
---@field host? string
---@field address? string

---@class parley.imap.Envelope
---@field date? string
---@field subject? string
---@field from parley.imap.Address[]
---@field sender parley.imap.Address[]
---@field reply_to parley.imap.Address[]
---@field to parley.imap.Address[]
---@field cc parley.imap.Address[]
---@field bcc parley.imap.Address[]
---@field in_reply_to? string
---@field message_id? string
---@field raw any[] the list as parsed

--- A piece of a command marked for encoding (`imap.atom`, `imap.quoted`, ...).
---@class parley.imap.Arg

--- An IMAP session (from `imap.connect` or `imap.wrap`): the methods below, and the
--- connection's fields.
---@class parley.imap.Session
---@field conn parley.Connection the connection
---@field caps table<string, any> the capabilities (`AUTH` a set)
---@field caps_list string[]
---@field greeting? parley.imap.Response the server's greeting
---@field mailbox? parley.imap.Mailbox the selected mailbox
---@field authenticated? boolean
---@field bye? parley.imap.Response the BYE the server sent
---@field tls? parley.TlsInfo
---@field peer string
---@field host string
---@field port integer
---@field id integer
---@field timeout number
---@field framing parley.Framing
local Session = {}

---@class parley.imap
local imap = {}

--- The NIL of a parsed response (distinct from a missing value).
imap.NIL = {}

--- Encodes a UTF-8 mailbox name in modified UTF-7.
---@param name string
---@return string
function imap.utf7_encode(name) end

--- Decodes a modified UTF-7 mailbox name to UTF-8 (names that are not valid stay as they are).
---@param name string
---@return string
function imap.utf7_decode(name) end

--- Parses a string of IMAP values (atoms, numbers, quoted strings, literals, lists, NIL).
---
--- Returns an array of values (lists are arrays, NIL is `imap.NIL`), or nil and a message
---@param text string
---@return any[]? values
---@return string? err
function imap.parse_values(text) end

--- Turns the parsed ENVELOPE list into a table: `date`, `subject`, `from`, `sender`,
--- `reply_to`, `to`, `cc`, `bcc` (arrays of `{name=, mailbox=, host=, address=}`),
--- `in_reply_to`, `message_id`, and `raw` (the list as parsed).
---@param list any[]
---@return parley.imap.Envelope
function imap.parse_envelope(list) end

--- Parses one response (a unit from the imap framing, or a string). **Raises** exit 1
--- ("protocol") when the response does not parse
---
--- Returns a table: `tag` ("*", "+" or the tag), `text` (the first line), `raw`; tagged and
--- status responses: `status` (OK, NO, BAD, PREAUTH, BYE), `code` ("UIDVALIDITY"...),
--- `code_args`, `message` (the text after the code); untagged: `type` (EXISTS, FETCH, LIST,
--- ...), `number`, `items` (FETCH), `flags`, `name`, `delimiter`, `numbers` (SEARCH), `caps`,
--- `values` (anything else, parsed); continuations: `continuation` (the text)
---@param unit parley.Reply|string
---@return parley.imap.Response
function imap.parse_response(unit) end

--- Marks a string to be sent as it is (an atom, a sequence set "1:*", a flag "\\Seen", fetch
--- items "BODY.PEEK[]"). CR, LF, NUL and spaces are refused.
---@param s string
---@return parley.imap.Arg
function imap.atom(s) end

--- Marks text to be sent as it is, spaces included (CR, LF and NUL refused).
---@param s string
---@return parley.imap.Arg
function imap.raw(s) end

--- Marks a string to be sent as a quoted string (a literal when it cannot be quoted).
---@param s string
---@return parley.imap.Arg
function imap.quoted(s) end

--- Marks a string to be sent as a literal ({n} and the bytes).
---@param s string
---@return parley.imap.Arg
function imap.literal(s) end

--- Encodes command arguments as IMAP text. Strings become atoms, quoted strings or literals as
--- their content needs (a secret is never an atom); numbers are numbers; tables are
--- parenthesised lists; `imap.atom`, `imap.raw`, `imap.quoted` and `imap.literal` force a form.
---
--- Returns an array of pieces `{text=}` / `{literal=}`
---@param args (string|integer|parley.imap.Arg|table)[] array of arguments
---@return ({text: string}|{literal: string})[]
function imap.encode(args) end

--- Wraps an open connection in an IMAP session and reads the greeting. A greeting other than `*
--- OK` or `* PREAUTH` fails (exit 1).
---@param conn parley.Connection
---@param opts? parley.imap.ConnectOptions `greeting` (false: do not read it), `tag_prefix` (default "A"), `timeout`, TLS options for `starttls`
---@return parley.imap.Session
function imap.wrap(conn, opts) end

--- Connects and reads the greeting; with `tls="starttls"` upgrades at once (STARTTLS).
---
--- Returns the session
---@param opts parley.imap.ConnectOptions table: `host`, `port` (default 143, 993 with implicit TLS), `path` (a unix socket instead), `tls` (false, "starttls" or "implicit"), `verify`, `ca`, `ca_pem`, `sni`, `cert`, `key`, `timeout`
---@return parley.imap.Session
function imap.connect(opts) end

--- A command with automatic tag.
---
--- Returns the tagged result (`status`, `code`, `code_args`, `message`, `text`, `untagged`) and
--- the array of untagged responses, parsed
---@param cmd string|(string|integer|parley.imap.Arg|table)[] the command text after the tag ("NOOP", "UID FETCH 1:* FLAGS"), or a table whose first element is the command name and the rest arguments, encoded as `imap.encode` does (`{"LOGIN", user, pass}`, `{"SELECT", mailbox}`)
---@param opts? parley.imap.CommandOptions `{expect=, timeout=}`
---@return parley.imap.Result result
---@return parley.imap.Response[] untagged
function Session:command(cmd, opts) end

--- CAPABILITY: fills `s.caps` (a set of upper-case names; `s.caps.AUTH` the set of SASL
--- mechanisms) and `s.caps_list`.
---
--- Returns the caps table (nil when the server answered NO or BAD and `expect=` allowed it),
--- and the tagged result
---@param opts? parley.imap.CommandOptions
---@return table<string, any>? caps
---@return parley.imap.Result? result
function Session:capability(opts) end

--- The server's capabilities: CAPABILITY when they are not known yet (the same call in every
--- protocol).
---
--- Returns the caps table (nil when the server refused), and the tagged result (nil when known
--- already)
---@param opts? parley.imap.CommandOptions `{expect=, timeout=, refresh=true}`
---@return table<string, any>? caps
---@return parley.imap.Result? result
function Session:capabilities(opts) end

--- NOOP (also collects pending untagged data: new messages, flag changes).
---
--- Returns the tagged result and the untagged responses
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result result
---@return parley.imap.Response[] untagged
function Session:noop(opts) end

--- LOGOUT: expects BYE and OK, then closes the connection. `quit` is the same call (the name
--- every protocol has).
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result
function Session:logout(opts) end

--- STARTTLS: upgrades the connection, then asks CAPABILITY again (unless `caps=false`). Fails
--- with exit 3 when the server does not offer STARTTLS or refuses it.
---@param opts? parley.imap.StarttlsOptions TLS options (`sni`, `verify`, `ca`, ...; default: those of connect), `caps` (false: do not ask CAPABILITY again; the old spelling `capability=false` works too), `expect` (a refusal matching it is returned instead of failing), `timeout`
---@return parley.imap.Result
function Session:starttls(opts) end

--- LOGIN with user name and password, each sent as a quoted string or a literal as needed (the
--- password is a secret: `****` in transcripts). A server that advertises LOGINDISABLED is not
--- sent the password (exit 3) unless `expect=` is given.
---
--- Returns the tagged result
---@param user string
---@param password string
---@param opts? parley.imap.CommandOptions `{expect=, timeout=}`
---@return parley.imap.Result
function Session:login(user, password, opts) end

--- AUTHENTICATE with a SASL mechanism from parley.sasl (the initial response goes with the
--- command when the server offers SASL-IR). SCRAM checks the server's signature (exit 3 when it
--- does not match).
---
--- Returns the tagged result
---@param mech? string mechanism name, or nil for the strongest that both sides speak
---@param user string
---@param password string
---@param opts? parley.imap.AuthOptions `expect`, `authzid`, `initial` (false: no initial response), `timeout`
---@return parley.imap.Result
function Session:authenticate(mech, user, password, opts) end

--- SELECT: opens a mailbox read-write.
---
--- Returns a table `name`, `exists`, `recent`, `flags`, `permanentflags`, `uidvalidity`,
--- `uidnext`, `unseen`, `highestmodseq`, `read_only`; and the tagged result
---@param name string the mailbox (UTF-8; sent in modified UTF-7 when needed)
---@param opts? parley.imap.CommandOptions `{expect=, timeout=, condstore=}`
---@return parley.imap.Mailbox mailbox
---@return parley.imap.Result result
function Session:select(name, opts) end

--- EXAMINE: opens a mailbox read-only (same results as `select`).
---@param name string
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Mailbox mailbox
---@return parley.imap.Result result
function Session:examine(name, opts) end

--- LIST: mailboxes matching a pattern.
---
--- Returns an array of `{name=, raw_name=, delimiter=, flags=}` and the tagged result
---@param ref string reference name (default "")
---@param pattern string mailbox pattern with * and % (default "*")
---@param opts? parley.imap.CommandOptions
---@return parley.imap.ListEntry[] entries
---@return parley.imap.Result result
function Session:list(ref, pattern, opts) end

--- STATUS: counters of a mailbox without selecting it.
---
--- Returns a table item -> number and the tagged result
---@param name string
---@param items string|string[] array of names, or a string such as "(MESSAGES UNSEEN)" (default MESSAGES, RECENT, UIDNEXT, UIDVALIDITY, UNSEEN)
---@param opts? parley.imap.CommandOptions
---@return table<string, integer> status
---@return parley.imap.Result result
function Session:status(name, items, opts) end

--- CREATE a mailbox.
---@param name string
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result
function Session:create(name, opts) end

--- DELETE a mailbox.
---@param name string
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result
function Session:delete(name, opts) end

--- RENAME a mailbox.
---@param from string
---@param to string
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result
function Session:rename(from, to, opts) end

--- SUBSCRIBE to a mailbox.
---@param name string
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result
function Session:subscribe(name, opts) end

--- UNSUBSCRIBE from a mailbox.
---@param name string
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result
function Session:unsubscribe(name, opts) end

--- APPEND a message to a mailbox, as a literal (non-synchronising with LITERAL+).
---
--- Returns the tagged result (with `appenduid = {uidvalidity=, uid=}` under UIDPLUS)
---@param name string the mailbox
---@param message string|parley.mime.Message the message text (LF line ends become CRLF; a bare CR is refused), or a table for parley.mime.build
---@param opts? parley.imap.CommandOptions `flags` (array, e.g. {"\\Seen"}), `date` (INTERNALDATE string), `expect`, `timeout`
---@return parley.imap.Result
function Session:append(name, message, opts) end

--- FETCH: data about messages.
---
--- Returns a table keyed by message number, each a table of items with upper-case keys
--- (`m["BODY[]"]`, `m.FLAGS` (array), `m.UID`, `m["RFC822.SIZE"]`, `m.ENVELOPE` (parsed, see
--- `parse_envelope`), `m.INTERNALDATE`, `m.BODYSTRUCTURE` (parsed list)); and the tagged
--- result. BODY.PEEK[...] comes back as BODY[...].
---@param set string|integer message numbers: 5, "1:*", "2,4:6", or an array of numbers
---@param items string|table "(FLAGS UID BODY.PEEK[])", "ENVELOPE", or an array of item names
---@param opts? parley.imap.CommandOptions
---@return table<integer, table<string, any>> messages
---@return parley.imap.Result result
function Session:fetch(set, items, opts) end

--- UID FETCH: as `fetch`, the set being UIDs (the result is still keyed by message number; each
--- entry has `UID`).
---@param set string|integer
---@param items string|table
---@param opts? parley.imap.CommandOptions
---@return table<integer, table<string, any>> messages
---@return parley.imap.Result result
function Session:uid_fetch(set, items, opts) end

--- SEARCH: message numbers matching the criteria.
---
--- Returns an array of numbers and the tagged result
---@param criteria string|table a string sent as it is ("UNSEEN", "SUBJECT \"hello\""), or an array of parts encoded like command arguments (`{"SUBJECT", "hello world"}`; use `imap.atom` for sequence sets); non-ASCII parts add CHARSET UTF-8
---@param opts? parley.imap.CommandOptions
---@return integer[] numbers
---@return parley.imap.Result result
function Session:search(criteria, opts) end

--- UID SEARCH: as `search`, returning UIDs.
---@param criteria string|table
---@param opts? parley.imap.CommandOptions
---@return integer[] uids
---@return parley.imap.Result result
function Session:uid_search(criteria, opts) end

--- STORE: changes flags.
---
--- Returns the FETCH data the server sent back (keyed by number) and the tagged result
---@param set string|integer message numbers
---@param action string "+FLAGS", "-FLAGS", "FLAGS" (add ".SILENT" for no answer)
---@param flags string|string[] a flag or an array of flags ({"\\Seen", "\\Deleted"})
---@param opts? parley.imap.CommandOptions
---@return table<integer, table<string, any>> fetched
---@return parley.imap.Result result
function Session:store(set, action, flags, opts) end

--- UID STORE.
---@param set string|integer
---@param action string
---@param flags string|string[]
---@param opts? parley.imap.CommandOptions
---@return table<integer, table<string, any>> fetched
---@return parley.imap.Result result
function Session:uid_store(set, action, flags, opts) end

--- COPY messages to another mailbox.
---
--- Returns the tagged result (with `copyuid` under UIDPLUS) and the untagged responses
---@param set string|integer
---@param name string
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result result
---@return parley.imap.Response[] untagged
function Session:copy(set, name, opts) end

--- UID COPY.
---@param set string|integer
---@param name string
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result result
---@return parley.imap.Response[] untagged
function Session:uid_copy(set, name, opts) end

--- MOVE messages to another mailbox (RFC 6851).
---@param set string|integer
---@param name string
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result result
---@return parley.imap.Response[] untagged
function Session:move(set, name, opts) end

--- UID MOVE.
---@param set string|integer
---@param name string
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result result
---@return parley.imap.Response[] untagged
function Session:uid_move(set, name, opts) end

--- EXPUNGE: removes the messages flagged \Deleted.
---
--- Returns an array of the expunged message numbers (as the server reported them, in order) and
--- the tagged result
---@param opts? parley.imap.CommandOptions
---@return integer[] expunged
---@return parley.imap.Result result
function Session:expunge(opts) end

--- UID EXPUNGE (UIDPLUS): removes only the given \Deleted messages.
---@param set string|integer
---@param opts? parley.imap.CommandOptions
---@return integer[] expunged
---@return parley.imap.Result result
function Session:uid_expunge(set, opts) end

--- CHECK.
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result
function Session:check(opts) end

--- CLOSE: closes the selected mailbox, expunging silently (the connection stays open).
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result
function Session:close_mailbox(opts) end

--- UNSELECT (RFC 3691): closes the mailbox without expunging.
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result
function Session:unselect(opts) end

--- ENABLE (RFC 5161) extensions, e.g. "CONDSTORE", "UTF8=ACCEPT".
---@param ... string
---@return parley.imap.Result
function Session:enable(...) end

--- IDLE (RFC 2177): waits for the server to report changes, then sends DONE. Returns as soon as
--- news arrives (EXISTS, EXPUNGE, FETCH, ... — not keep-alive OKs), or after `timeout` seconds
--- with whatever came (possibly nothing).
---
--- Returns an array of the untagged responses that arrived (parsed), the tagged result, and why
--- IDLE ended: "news" (what `until` waits for arrived, by default any news), "timeout" (the
--- time ran out; the array holds whatever came, keep-alives included) or "refused" (the server
--- answered the IDLE command itself, without a "+")
---@param timeout? number seconds to wait at most (default: the connection's timeout)
---@param opts? parley.imap.IdleOptions `until` (a function(response, all) returning true to stop; e.g. stop on `r.type == "EXISTS"`), `expect`
---@return parley.imap.Response[] untagged
---@return parley.imap.Result? result
---@return "news"|"timeout"|"refused" why
function Session:idle(timeout, opts) end

--- Reads one response and parses it, without checking; a timeout or the end of the connection
--- fails the conversation (see `read_reply` for a call that returns them).
---@param timeout? number
---@return parley.imap.Response
function Session:read_response(timeout) end

--- Reads one response without checking it, parsed (`tag`, `status`, `text`, `type`, ...;
--- untagged data updates the session as usual), for reading by hand after `s:send`.
---
--- Returns the response, or nil and "timeout" or "eof"
---@param timeout? number
---@return parley.imap.Response? response
---@return "timeout"|"eof"|nil why
function Session:read_reply(timeout) end

--- Same as `authenticate` (the name every protocol has).
---@param mech? string
---@param user string
---@param password string
---@param opts? parley.imap.AuthOptions
---@return parley.imap.Result
function Session:auth(mech, user, password, opts) end

--- Same as `logout` (the name every protocol has).
---@param opts? parley.imap.CommandOptions
---@return parley.imap.Result
function Session:quit(opts) end

--- Sends a line (CRLF added; CR or LF inside refused) without reading anything.
---@param line string
function Session:send(line) end

--- Sends bytes as they are.
---@param bytes string
function Session:send_raw(bytes) end

--- Reads one reply and checks it as the connection's `c:expect` does (see [core](core.md)).
---@param spec string
---@param timeout? number
---@return parley.Reply
function Session:expect(spec, timeout) end

--- Installs a handler on the connection, checked before every later reply is checked (see
--- `c:on`). **Returns** the session.
---@param spec parley.Matcher
---@param fn fun(r: any): ...
---@return parley.imap.Session
function Session:on(spec, fn) end

--- Removes the handlers installed with `on`. **Returns** the session.
---@return parley.imap.Session
function Session:off() end

--- Closes the connection without the protocol's goodbye.
function Session:close() end

return imap
