---@meta parley.mock.store
-- lua-language-server definitions of parley.mock.store, the mailbox store the mock servers
-- share, and of what the mocks have in common (parley.mock.Options, parley.mock.Server).
-- Reference: README.md, "Mock servers".

--- A stored message.
---@class parley.mock.Message
---@field uid integer
---@field text string the message as received (CRLF line ends)
---@field size integer
---@field flags table<string, boolean> a set: `flags["\\Seen"] = true`
---@field from? string the envelope sender
---@field to? string[] the envelope recipients
---@field internaldate integer seconds since the epoch

--- A mailbox: INBOX or a folder.
---@class parley.mock.Mailbox
---@field uidvalidity integer
---@field uidnext integer
---@field messages parley.mock.Message[]

---@class parley.mock.StoreOptions
---@field uidvalidity? integer the IMAP UIDVALIDITY of every mailbox (default: the time)

--- A mailbox store: mail the SMTP mock accepts for `USER@any-domain` is read, flagged and
--- deleted over POP3 and IMAP.
---@class parley.mock.Store
local Store = {}

--- The INBOX of a user (made on first use).
---@param user string case does not matter
---@return parley.mock.Mailbox
function Store:mailbox(user) end

--- Delivers a message into a user's INBOX.
---@param user string
---@param text string the message (header, blank line, body); line ends are made CRLF
---@param meta? {from: string?, to: string[]?, flags: string[]?, internaldate: integer?}
---@return parley.mock.Message
function Store:deliver(user, text, meta) end

--- Adds a message to a mailbox (from `mailbox` or `folder`), as `deliver`.
---@param box parley.mock.Mailbox
---@param text string
---@param meta? {from: string?, to: string[]?, flags: string[]?, internaldate: integer?}
---@return parley.mock.Message
function Store:add(box, text, meta) end

--- The messages of a user's INBOX, oldest first (the store's own list: do not change it).
---@param user string
---@return parley.mock.Message[]
function Store:messages(user) end

--- How many messages a user has.
---@param user string
---@return integer
function Store:count(user) end

--- Removes the given messages from a user's INBOX, or from `box`.
---@param user string
---@param list parley.mock.Message[]
---@param box? parley.mock.Mailbox
---@return integer removed
function Store:remove(user, list, box) end

--- Removes every message flagged `\Deleted` from a user's INBOX.
---@param user string
---@return parley.mock.Message[] removed
function Store:expunge(user) end

--- Calls `fn()` after each change of a user's INBOX (or of `box`) until `unwatch`.
---@param user string
---@param fn fun()
---@param box? parley.mock.Mailbox
---@return any token for `unwatch`
function Store:watch(user, fn, box) end

--- Stops calling a function given to `watch`.
---@param user string
---@param token any
---@param box? parley.mock.Mailbox
function Store:unwatch(user, token, box) end

--- A user's folders: name -> mailbox, INBOX included (do not change it).
---@param user string
---@return table<string, parley.mock.Mailbox>
function Store:folders(user) end

--- A user's folder by name ("INBOX" in any case), or nil.
---@param user string
---@param name string
---@return parley.mock.Mailbox?
function Store:folder(user, name) end

--- Makes a folder and the levels above it ("/" separates levels).
---@param user string
---@param name string
---@return parley.mock.Mailbox? box
---@return "exists"|"invalid"|"limit"|nil err
function Store:create(user, name) end

--- Deletes a folder and its messages (not INBOX).
---@param user string
---@param name string
---@return true? ok
---@return "inbox"|"missing"|nil err
function Store:delete(user, name) end

--- Renames a folder and the folders below it (INBOX: moves its messages to a new folder).
---@param user string
---@param from string
---@param to string
---@return true? ok
---@return "missing"|"exists"|"invalid"|nil err
function Store:rename(user, from, to) end

--- The user names that have a mailbox.
---@return string[]
function Store:users() end

--- Waits until a user has at least `n` messages (default 1), at most `timeout` seconds
--- (default 10).
---@param user string
---@param n? integer
---@param timeout? number
---@return parley.mock.Message[]? messages
---@return "timeout"|nil err
function Store:wait(user, n, timeout) end

--- A command as a hook sees it.
---@class parley.mock.Command
---@field verb string
---@field arg string
---@field line string
---@field tag? string IMAP
---@field args? any[] IMAP
---@field address? string MAIL and RCPT
---@field text? string the message, for the `message` hook

--- A reply a hook gives: a string, or a table of lines (`close = true`: hang up after it).
---@alias parley.mock.Reply string|{[integer]: string, close: boolean?}

--- A hook: a reply, or a function returning one (nil: the mock answers as usual; true: the
--- hook answered itself through `session.conn`).
---@alias parley.mock.Hook parley.mock.Reply|fun(cmd: parley.mock.Command, session: table): parley.mock.Reply|boolean|nil

--- A fault, per command or event (`greeting`, `tls`, `message`).
---@class parley.mock.Fault
---@field delay? number seconds before the reply
---@field trickle? number seconds between bytes
---@field silent? boolean stop answering
---@field hangup? boolean
---@field cut? integer hang up after this many bytes of the reply
---@field raw? string
---@field malformed? "two_digits"|"letter_code"|"mixed_codes"|"bare_lf"|"long_line"|"nul"|"endless"|"endless_reply"|"empty"|"huge_literal"
---@field fail? boolean the TLS handshake fails
---@field garbage? boolean the TLS handshake gets garbage
---@field after? integer
---@field times? integer
---@field on? string with a list of faults: the command or event

--- The options every mock takes (`parley.mock.smtp.start`, `pop3.start`, `imap.start`).
---@class parley.mock.Options
---@field host? string default "127.0.0.1"
---@field port? integer default 0: the kernel picks; read `m.port`
---@field tls? false|"starttls"|"implicit"
---@field cert? string PEM file (default: a certificate made on the fly)
---@field key? string PEM file
---@field cert_profile? "expired"|"wrong-host" an on-the-fly certificate that fails the client's check
---@field users? table<string, string> user -> password (masked in logs)
---@field act_as? table<string, string|string[]> who may log in for whom (SASL authorization identity; "*" for every user)
---@field allow_plaintext_auth? boolean with tls="starttls": offer logins before STARTTLS
---@field require_tls? boolean ask for TLS before anything else
---@field max_connections? integer|{max: integer, active: integer} sessions at once (default 500)
---@field store? parley.mock.Store default: a new one (`m.store`)
---@field hostname? string the name in greetings (default "mock.parley.test")
---@field on? table<string, parley.mock.Hook> hooks that override replies, by command or event
---@field faults? table<string, parley.mock.Fault>|parley.mock.Fault[]
---@field idle_timeout? number seconds a session waits for the next command (default 300)
---@field log? true|fun(line: string) a function taking one line, or true for stdout
---@field transcript? boolean show the mock's side in the transcript (default: with -v)
---@field handshake_timeout? number seconds a TLS handshake may take (default 30)
---@field accept_all? boolean SMTP: accept mail for any local part, not only the users'
---@field capabilities? string[]|fun(list: string[], session: table): string[]? the capabilities (EHLO extensions, CAPA, CAPABILITY) offered, or a function that edits them
---@field extensions? string[]|fun(list: string[], session: table): string[]? deprecated (SMTP): write `capabilities`
---@field advertise_starttls? boolean false: do not offer STARTTLS (STLS) even with tls="starttls"
---@field advertise_stls? boolean deprecated (POP3): write `advertise_starttls`
---@field auth_required? boolean SMTP: MAIL before AUTH is refused
---@field max_size? integer SMTP: the SIZE offered and enforced (default 10240000)
---@field max_recipients? integer SMTP: recipients per message (default 100)
---@field max_literal? integer IMAP: the largest literal (default 50 MiB)
---@field max_login_literal? integer IMAP: the largest literal before login (default 8 KiB)

--- A running mock server.
---@class parley.mock.Server
---@field port integer
---@field host string
---@field cert_pem? string its certificate, for a client's `ca_pem=`
---@field store parley.mock.Store
---@field errors string[] messages of hooks that failed
---@field sessions integer connections so far
---@field active integer connections now
local Server = {}

--- Stops the mock: closes the listener and ends every session.
function Server:stop() end

--- Waits until the mock is stopped; false when `timeout` ran out first.
---@param timeout? number seconds (default: no limit)
---@return boolean
function Server:wait(timeout) end

--- Writes one line to the server's log (if it has one).
---@param line string
function Server:log(line) end

--- The configured name of a user (user names are case-insensitive), or nil.
---@param user string
---@return string?
function Server:user_name(user) end

--- The password of a user, or nil.
---@param user string
---@return string?
function Server:password(user) end

--- Checks a user name and password: the user's configured name, or nil and "failed".
---@param user string
---@param pass string
---@return string? name
---@return "failed"|nil err
function Server:authenticate(user, pass) end

--- The user `who` may act for (by the `act_as` option), or nil.
---@param who string
---@param authz string
---@return string?
function Server:may_act_as(who, authz) end

--- The user an address delivers to (`USER@any-domain`), or nil.
---@param addr string
---@return string?
function Server:user_for_address(addr) end

---@class parley.mock.store
local store = {}

--- A new, empty store.
---@param opts? parley.mock.StoreOptions
---@return parley.mock.Store
function store.new(opts) end

return store
