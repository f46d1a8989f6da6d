---@meta parley.mime
-- lua-language-server definitions of parley.mime. Reference: docs/mime.md.

---@class parley.mime.Attachment
---@field name string the file name
---@field type? string the content type (default application/octet-stream)
---@field data string the bytes

--- What `mime.build` (and `s:data`, `s:send_message`, `s:append`) take.
---@class parley.mime.Message
---@field from? string
---@field to? string|string[]
---@field cc? string|string[]
---@field reply_to? string
---@field subject? string
---@field body? string
---@field headers? table<string, string>|{[1]: string, [2]: string}[] `{Name=value}` or `{{name, value}, ...}`
---@field attachments? parley.mime.Attachment[]
---@field date? string|integer a string, or seconds since the epoch
---@field message_id? string
---@field content_type? string of the text body (default text/plain)

---@class parley.mime
local mime = {}

--- An RFC 5322 date for `t` (seconds since the epoch, default now), in UTC. Independent of the
--- C locale.
---@param t? integer
---@return string
function mime.date(t) end

--- A fresh Message-ID, `<random@domain>`.
---@param domain? string right-hand side (default: the domain of `from`, or parley.invalid)
---@return string
function mime.message_id(domain) end

--- Encodes a header text as RFC 2047 encoded words when it is not plain ASCII.
---
--- Returns the text unchanged when it is ASCII, else `=?UTF-8?B?...?=` words
---@param s string
---@return string
function mime.encode_words(s) end

--- Decodes RFC 2047 encoded words (`=?charset?B|Q?...?=`) in a header value. The bytes are
--- returned as they are (no charset conversion); whitespace between adjacent encoded words is
--- dropped as the RFC says.
---@param s string
---@return string
function mime.decode_words(s) end

--- Line ends as CRLF: lone LF and CRLF become CRLF; a lone CR is left alone.
---@param text string
---@return string
function mime.crlf(text) end

--- Quoted-printable encoding (RFC 2045 section 6.7) of text with CRLF or LF line ends.
---@param text string
---@return string
function mime.qp_encode(text) end

--- Base64 wrapped at 76 characters a line, each line ending in CRLF.
---@param data string
---@return string
function mime.b64_lines(data) end

--- Builds a message: RFC 5322 text with CRLF line ends.
---
--- Returns the message text
---@param msg parley.mime.Message table: `from`, `to` (string or array), `cc`, `reply_to`, `subject`, `body`, `headers` (`{Name=value}` or `{{name, value}, ...}`), `attachments` (`{{name=, type=, data=}, ...}`), `date` (string, or a number of seconds since the epoch), `message_id`, `content_type` (of the text body, default text/plain)
---@return string
function mime.build(msg) end

--- Splits a message into its headers and body. Header names are lower-cased, folded values
--- unfolded (CRLF + whitespace becomes the whitespace); a name that appears more than once maps
--- to an array of its values in order.
---
--- Returns headers table, body (the text after the empty line, or "" when there is none), and
--- an array of `{name=, value=}` in the order they appear
---@param text string the message (CRLF or LF line ends)
---@return table<string, string|string[]> headers
---@return string body
---@return {name: string, value: string}[] order
function mime.parse_headers(text) end

--- The first value of a header from `parse_headers`' table (arrays give their first entry).
---@param headers table<string, string|string[]>
---@param name string
---@return string?
function mime.first(headers, name) end

return mime
