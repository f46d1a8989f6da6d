---@meta parley.sasl
-- lua-language-server definitions of parley.sasl. Reference: docs/sasl.md.

--- A client exchange from `sasl.start`: send `m:initial()` (when the protocol allows an
--- initial response), feed each server challenge (base64-decoded) to `m:step`, and call
--- `m:finish()` when the server reports success.
---@class parley.sasl.Mechanism
---@field name string the mechanism's name
---@field done boolean whether the exchange is complete
---@field verified? boolean SCRAM: whether the server's signature was checked
local Mechanism = {}

--- The initial response, or nil when the mechanism starts with a server challenge.
---@return string?
function Mechanism:initial() end

--- Whether the mechanism has an initial response at all.
---@return boolean
function Mechanism:has_initial() end

--- The response to a server challenge, or nil, a message and a kind when it cannot go on.
---@param challenge string
---@return string? response
---@return string? err
---@return string? kind
function Mechanism:step(challenge) end

--- Checks the exchange ended as it must (SCRAM: the server's signature was verified).
---@return boolean? ok
---@return string? err
function Mechanism:finish() end

---@class parley.sasl
local sasl = {}

--- The mechanisms parley speaks, strongest first.
---@type string[]
sasl.mechanisms = {}

--- The most iterations a server may ask of SCRAM.
---@type integer
sasl.MAX_SCRAM_ITERATIONS = 1000000

--- Whether this module speaks `mech` (case-insensitive).
---@param mech string
---@return boolean
function sasl.supported(mech) end

--- The strongest mechanism that both sides speak.
---
--- Returns a mechanism name, or nil
---@param offered table<string, boolean>|string[] a set (`{PLAIN=true}`) or an array of names, as the server advertised them
---@param preference? string[] array of names to try in order (default `sasl.mechanisms`)
---@return string?
function sasl.choose(offered, preference) end

--- Starts a client exchange.
---
--- Returns the mechanism object (`initial`, `step`, `finish`, fields `name`, `done`,
--- `verified`)
---@param mech string mechanism name (case-insensitive): PLAIN, LOGIN, CRAM-MD5, XOAUTH2, SCRAM-SHA-256, SCRAM-SHA-1, EXTERNAL, ANONYMOUS
---@param user string user name (for XOAUTH2 the account; for ANONYMOUS the trace text)
---@param pass string password (or the OAuth bearer token for XOAUTH2); made a secret
---@param opts? {authzid: string?, nonce: string?, max_iterations: integer?} `{authzid=, nonce=, max_iterations=}` (nonce: a fixed SCRAM client nonce, for tests)
---@return parley.sasl.Mechanism
function sasl.start(mech, user, pass, opts) end

return sasl
