---@meta parley
-- lua-language-server definitions of parley's core script API: the globals every conversation
-- script sees, connections, listeners, tasks, replies and TLS facts. Reference: docs/core.md.
-- Point the editor at this folder (docs/editor.md); these files are never run.

---@alias parley.Framing "smtp"|"line"|"pop3"|"imap"
---@alias parley.TlsVersion "1.0"|"1.1"|"1.2"|"1.3"

--- What `expect` accepts: a code (`250`, `"250"`), a class (`"2xx"`, `"25x"`), a Lua pattern
--- on the reply's text (any other string), or a function returning true to accept.
---@alias parley.Matcher integer|string|fun(r: parley.Reply): boolean?

--- A table of alternatives tried in order: `{ {"2xx", fn}, {"5xx", fn2}, timeout = fn3,
--- eof = fn4 }`; the first that matches wins and its function's results are `expect`'s
--- results. `timeout = seconds` sets the deadline instead.
---@alias parley.Alternatives table<integer|string, parley.Matcher|{[1]: parley.Matcher, [2]: fun(r: parley.Reply): ...}|fun(): ...|number>

---@alias parley.ExpectSpec parley.Matcher|parley.Alternatives

--- The TLS options of `connect`, `c:starttls` and every protocol session.
---@class parley.TlsOptions
---@field sni? string the name sent in SNI and checked against the certificate (default: `host` unless it is an address)
---@field verify? boolean false: a certificate that fails the check does not end the conversation (`c.tls.verified` tells)
---@field ca? string a file of certificates to trust (default: the system's)
---@field ca_pem? string PEM text of certificates to trust
---@field cert? string a client certificate (file)
---@field key? string the client certificate's key (file)
---@field tls_min? parley.TlsVersion
---@field tls_max? parley.TlsVersion

---@class parley.ConnectOptions: parley.TlsOptions
---@field host? string where to connect
---@field port? integer|string a port number or a service name
---@field path? string a unix socket instead of host and port
---@field tls? boolean|"implicit" true: implicit TLS (the handshake right after connecting)
---@field timeout? number the default deadline of every wait on this connection (default `--timeout`, 30 s)
---@field framing? parley.Framing how replies are cut (default "smtp")
---@field transcript? boolean false: this connection does not appear in the transcript
---@field max_line? integer the longest line the framing accepts (bytes)
---@field max_reply? integer the largest reply the framing accepts (bytes)

---@class parley.StarttlsOptions: parley.TlsOptions
---@field timeout? number the handshake's deadline (seconds)

---@class parley.ExecOptions
---@field [integer] string the program, then its arguments
---@field framing? parley.Framing
---@field timeout? number

---@class parley.ListenOptions
---@field host? string default 127.0.0.1
---@field port? integer 0 (default): the kernel picks one; read `srv.port`
---@field tls? boolean|"starttls" true: a TLS handshake on every accepted connection; "starttls": the script calls `c:starttls()` later
---@field cert? string the server certificate (file); without it a self-signed one for localhost is made
---@field key? string its key (file)
---@field cert_profile? "expired"|"wrong-host" a certificate a client's check must refuse (for tests)
---@field transcript? boolean false: its connections do not appear in the transcript

--- A reply as the connection's framing cuts it. SMTP framing: `code`, `class`, `enhanced`,
--- `text`, `lines`, `raw`, `violations`. POP3 framing: `status`, `ok`, `text` (the status
--- line), `lines` (a block's lines). IMAP framing: one response (`tag`, `literals`);
--- parley.imap parses it.
---@class parley.Reply
---@field code? integer the reply code (nil for a line without one)
---@field class? integer the first digit of the code
---@field enhanced? string the enhanced status code ("5.1.1")
---@field text string the text after the codes, lines joined by "\n"
---@field lines string[] each line without its code
---@field raw string the bytes as received
---@field violations? string[] what breaks the protocol's grammar
---@field status? string POP3: "+OK", "-ERR" or "+"
---@field ok? boolean POP3: whether the status is +OK
---@field tag? string IMAP framing: the response's tag
---@field literals? string[] IMAP framing: the literals of the response
---@field queue_id? string parley.smtp, after DATA or BDAT: the queue id the server named
---@field rcpt? string parley.smtp, LMTP: the recipient this reply is for

--- The peer's certificate, as `c.tls.cert`.
---@class parley.Certificate
---@field subject string
---@field issuer string
---@field serial string
---@field sans string[] the subject alternative names
---@field not_before string
---@field not_after string
---@field not_after_epoch integer `not_after` in seconds since 1970
---@field sha256 string the fingerprint (hex)
---@field pem string the certificate in PEM

--- The TLS facts of a connection after a handshake (`c.tls`, and what `c:starttls` returns).
---@class parley.TlsInfo
---@field version string "TLSv1.3", ...
---@field cipher string
---@field verified boolean whether the certificate passed the check
---@field verify_error? string why it did not
---@field sni? string the name sent in SNI
---@field alpn? string the protocol agreed by ALPN
---@field cert? parley.Certificate the peer's certificate

--- An error raised by parley (catch it with pcall); `tostring(err)` gives "where: message".
---@class parley.Error
---@field exit integer the exit status it stands for: 1 failed, 2 usage or script, 3 network or TLS
---@field kind string "failed", "timeout", "network", "tls", "script", ...
---@field message string
---@field where string the script's file and line

---@class parley.CloseOptions
---@field reset? boolean end with a TCP reset instead of the FIN exchange

--- A connection: from `connect`, `exec` or `srv:accept()`. A script may set fields of its own
--- on it.
---@class parley.Connection
---@field tls? parley.TlsInfo after a handshake
---@field peer string "host:port" (or the program for `exec`)
---@field host string
---@field port integer
---@field id integer its number in the transcript
---@field framing parley.Framing
---@field timeout number the default deadline of its waits (seconds)
---@field server_side boolean whether it was accepted by `listen`
---@field last_command? string the verb of the line sent last (used by --strict)
---@field [string] any
local Connection = {}

--- Sends `line` and CRLF. A CR or LF inside is refused (exit 2): it would smuggle a second
--- command. Raises exit 3 when the connection is gone.
---@param line string
function Connection:send(line) end

--- Sends exactly these bytes.
---@param bytes string
function Connection:send_raw(bytes) end

--- Reads the next reply and checks it against `spec`. Handlers installed with `c:on` are
--- tried first. `timeout` is a deadline for the whole wait. Raises exit 1 when the reply
--- matches nothing, when nothing came in time, or when the peer closed the connection.
---@param spec parley.ExpectSpec
---@param timeout? number|{timeout: number}
---@return parley.Reply|any ... the reply (or the chosen alternative's results)
function Connection:expect(spec, timeout) end

--- Reads one reply (cut by the connection's framing) without checking it.
---@param timeout? number
---@return parley.Reply? reply
---@return "timeout"|"eof"|"closed"|"woken"|nil why
function Connection:read_reply(timeout) end

--- Reads one line, without its line end.
---@param timeout? number
---@return string? line
---@return "timeout"|"eof"|"closed"|"woken"|nil why
function Connection:read_line(timeout) end

--- Reads `n` bytes (fewer at the end of the stream), or with no `n` whatever is there.
---@param n? integer
---@param timeout? number
---@return string? bytes
---@return "timeout"|"eof"|"closed"|"woken"|nil why
---@overload fun(self: parley.Connection): string?, string?
function Connection:read(n, timeout) end

--- Runs a TLS handshake on the live connection (the server side on an accepted connection).
--- Refused (exit 3) when plaintext arrived before the handshake (CVE-2011-0411). Raises
--- exit 3 when the handshake or the certificate check fails.
---@param opts? parley.StarttlsOptions
---@return parley.TlsInfo
function Connection:starttls(opts) end

--- Closes the connection. Input nobody read is a warning (an error under --strict).
---@param opts? parley.CloseOptions
function Connection:close(opts) end

--- Installs a handler checked before every later `expect`.
---@param spec parley.Matcher
---@param fn fun(r: parley.Reply): ...
---@return parley.Connection
function Connection:on(spec, fn) end

--- Removes every handler installed with `on`.
---@return parley.Connection
function Connection:off() end

--- Ends a read pending on this connection in another conversation at once: that read returns
--- `nil, "woken"`. With no read pending, the next read returns so.
function Connection:wake() end

--- Changes how replies are cut.
---@param name parley.Framing
function Connection:set_framing(name) end

--- With pop3 framing: the next reply is a multi-line block (as after LIST or RETR).
function Connection:want_block() end

--- Changes the connection's default deadline for later waits.
---@param seconds number
function Connection:set_timeout(seconds) end

--- How many received bytes are buffered and not read yet.
---@return integer
function Connection:pending() end

--- The last bytes received (up to a few hundred), for messages.
---@return string
function Connection:last_bytes() end

--- Whether the connection can still be read from or written to.
---@return boolean
function Connection:is_open() end

--- A listener from `listen`: plays the server side.
---@class parley.Listener
---@field port integer the port it listens on (the kernel's pick with port=0)
---@field host string
---@field cert_pem? string the server certificate, for a client's `ca_pem=`
---@field tls string "none", "implicit" or "starttls"
local Listener = {}

--- The next connection; raises (exit 1) when none came within the timeout.
---@param timeout? number|{timeout: number}
---@return parley.Connection
function Listener:accept(timeout) end

--- Stops listening.
function Listener:close() end

--- A conversation started with `spawn`.
---@class parley.Task
---@field id integer its number in the transcript
local Task = {}

--- Waits for the task and returns its results (or raises its error; a timeout raises).
---@param timeout? number
---@return any ...
function Task:join(timeout) end

--- Whether the task has ended.
---@return boolean
function Task:done() end

--- Ends the task and what it spawned.
---@param why? string
function Task:cancel(why) end

--- Opens a TCP connection, or a unix socket (`path=`), with implicit TLS when `tls=true`.
--- Raises exit 3 when the connection or the TLS handshake fails, exit 2 for bad options.
---@param host string
---@param port integer|string a port number or a service name
---@param opts? parley.ConnectOptions
---@return parley.Connection
---@overload fun(opts: parley.ConnectOptions): parley.Connection
function connect(host, port, opts) end

--- Runs a program and talks to its stdin and stdout like a connection:
--- `exec{"/usr/sbin/sendmail", "-bs"}`. Raises exit 3 when the program cannot start.
---@param opts parley.ExecOptions
---@return parley.Connection
function exec(opts) end

--- Plays the server side: listens on `host` (default 127.0.0.1) and `port`.
---@param opts? parley.ListenOptions
---@return parley.Listener
function listen(opts) end

--- Starts `fn(...)` as a concurrent conversation.
---@param fn fun(...): ...
---@param ... any
---@return parley.Task
function spawn(fn, ...) end

--- Waits without blocking other conversations.
---@param seconds number
function sleep(seconds) end

--- Fails the conversation here: exit 1, with the script's line.
---@param message? string
function fail(message) end

--- A value that works as the string it holds but shows as `****` in the transcript, in error
--- messages, in `print` and in every report (unless --show-secrets).
---@param value string
---@return string
function secret(value) end

--- Runs `fn(...)` as a named step: `parley load` reports each step's latencies; elsewhere it
--- just calls `fn`.
---@generic R
---@param name string
---@param fn fun(...): R
---@param ... any
---@return R ...
function step(name, fn, ...) end

--- The NAME=VALUE pairs given after the script (`parley run s.lua host=mx` gives
--- `args.host == "mx"`): strings. Names containing pass, secret, token or key are secrets.
---@type table<string, string>
args = {}

--- `require "parley"`: the globals above, and helpers for library modules.
---@class parley
---@field args table<string, string>
---@field options {timeout: number, strict: boolean, verbose: boolean, quiet: boolean} the run's options
---@field conn_methods table<string, function> the methods of every connection (`expect`, `on`, `off` once parley.core is loaded: a connection loads it when first asked for one)
---@field conn_meta table the metatable of connections (parley.core puts its own `__index` in front)
---@field task_methods table<string, function> the methods of every task
---@field listener_methods table<string, function> the methods of every listener
local parley = {}

parley.connect = connect
parley.exec = exec
parley.listen = listen
parley.spawn = spawn
parley.sleep = sleep
parley.fail = fail
parley.secret = secret
parley.step = step

--- Seconds since the epoch, as a float (the event loop's clock).
---@return number
function parley.clock() end

--- Raises a parley error, positioned at the script's line (for library code).
---@param exit integer
---@param kind string
---@param message string
function parley.raise(exit, kind, message) end

--- The script's "file:line" where the running library code was called.
---@return string
function parley.where() end

--- `v` itself (secrets are plain strings; kept for scripts written before).
---@param v string
---@return string
function parley.reveal(v) end

--- Whether the string `v` is registered as a secret (by `secret()`, args or a library).
---@param v any
---@return boolean
function parley.is_secret(v) end

--- Registers an encoding a library computed from a secret (an IMAP quoted form, a SASL
--- message), so that it is masked too; returns the value.
---@param value string
---@return string
function parley.derived(value) end

--- Writes an event line (`===`) into the transcript.
---@param text string
---@param conn_id? integer
function parley.note(text, conn_id) end

--- Writes a warning (an error under --strict where the caller makes it one).
---@param text string
function parley.warn(text) end

--- The message for a name that a connection, listener or task lacks (the bindings raise it):
--- parley.session's `no_method`.
---@param label string
---@param name string
---@param names string[] its methods
---@param fields? string[] its fields
---@return string message
function parley.no_method(label, name, names, fields) end

--- `text` with every registered secret shown as `****`.
---@param text string
---@param client_line? boolean a client's line, where secrets too short to mask elsewhere are masked too
---@return string
function parley.mask(text, client_line) end

--- The text as SMTP sends it after DATA (before dot-stuffing): every line end CRLF (a bare
--- LF gets its CR) and a final CRLF. A bare CR cannot be sent: then nil and its byte position.
---@param text string
---@return string|nil wire
---@return integer? bare_cr
function parley.wire_text(text) end

--- What SMTP sends after DATA: the text as `wire_text` gives it, dot-stuffed (a "." starting a
--- line gets another), and the final ".\r\n". A bare CR cannot be sent: then nil and its byte
--- position (the first, as `wire_text` says).
---@param text string
---@return string|nil wire
---@return integer? bare_cr
function parley.wire_message(text) end

--- The running conversation's id (0 outside one).
---@return integer
function parley.task_id() end

--- What a task's connections said (captured), up to `max_lines` lines (default 40).
---@param task_id integer
---@param max_lines? integer
---@return string
function parley.transcript_of(task_id, max_lines) end

--- Drops what was captured for a task.
---@param task_id integer
function parley.transcript_forget(task_id) end

--- The exit status of the run, whatever the main script's outcome.
---@param status integer
function parley.set_exit(status) end

--- An error's text, its exit status and its kind, read in a protected call (the error may be
--- a table whose fields or __tostring raise).
---@param err any
---@return string text
---@return integer? exit
---@return string? kind
function parley.describe_error(err) end

return parley
