---@meta parley.dial
-- lua-language-server definitions of parley.dial: opening a protocol session's connection.
-- Reference: docs/session.md.

---@class parley.dial
local dial = {}

--- The TLS options among `opts` (what `connect` and `c:starttls` take).
---@param opts table
---@return parley.TlsOptions
function dial.tls_options(opts) end

--- The TLS options of a session, overridden by those given to its starttls.
---@param session_opts table
---@param opts? table
---@return parley.TlsOptions
function dial.merged_tls_options(session_opts, opts) end

--- `false`, "implicit" or "starttls" from a `tls=` option (true means implicit).
---@param v any
---@param what? string
---@return false|"implicit"|"starttls"
function dial.tls_mode(v, what) end

--- Same as `parley.session.class` (kept for modules written against it).
---@param name string
---@return table methods
---@return metatable meta
function dial.session_class(name) end

--- Opens the connection of a protocol session.
---
--- Returns the connection and the TLS mode
---@param opts table the options given to `PROTOCOL.connect` (`host`, `port`, `path`, `tls`, TLS options, `timeout`, `transcript`)
---@param proto {name: string, framing: parley.Framing, port: integer, implicit_port: integer} `{ name = "imap", framing = "imap", port = 143, implicit_port = 993 }`
---@return parley.Connection conn
---@return false|"implicit"|"starttls" mode
function dial.open(opts, proto) end

return dial
