---@meta parley.crypto
-- lua-language-server definitions of parley.crypto (OpenSSL's). Reference: docs/crypto.md.

---@class parley.crypto
local crypto = {}

--- Returns the base64 text of `bytes` (no line breaks).
---@param bytes string
---@return string
function crypto.b64encode(bytes) end

--- Decodes base64 (CR, LF and spaces ignored). Strict: **returns** `nil` and a message for text
--- that is not base64, else the bytes.
---@param text string
---@return string?
function crypto.b64decode(text) end

--- Returns the lower-case hexadecimal text of `bytes`.
---@param bytes string
---@return string
function crypto.hex(bytes) end

--- A message digest: `name` is an OpenSSL digest name (`"md5"`, `"sha1"`, `"sha256"`, ...).
--- **Returns** the raw digest bytes (`crypto.hex` shows them). An unknown name is an error.
---@param name string
---@param data string
---@return string
function crypto.digest(name, data) end

--- HMAC with digest `name`. **Returns** the raw bytes.
---@param name string
---@param key string
---@param data string
---@return string
function crypto.hmac(name, key, data) end

--- PBKDF2 with HMAC-`name`. **Returns** `length` raw bytes.
---@param name string
---@param password string
---@param salt string
---@param iterations integer
---@param length integer
---@return string
function crypto.pbkdf2(name, password, salt, iterations, length) end

--- Returns `n` random bytes from OpenSSL's generator.
---@param n integer
---@return string
function crypto.random(n) end

--- Returns `n` bytes from the kernel's random source (getrandom), for values that must be
--- unique but need not be secret: Message-IDs, MIME boundaries. Cheaper at start-up than
--- `crypto.random`, which sets up OpenSSL's generator; use `crypto.random` for nonces and keys.
---@param n integer
---@return string
function crypto.unique(n) end

--- Byte-wise exclusive or of two strings of equal length. **Returns** the bytes.
---@param a string
---@param b string
---@return string
function crypto.xor(a, b) end

return crypto
