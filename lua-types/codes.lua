---@meta parley.codes
-- lua-language-server definitions of parley.codes. Reference: docs/codes.md.

---@class parley.codes
---@field smtp_codes table<integer, string>
---@field replies table<string, integer[]>
---@field first_digit table<integer, string>
---@field second_digit table<integer, string>
---@field enhanced_classes table<integer, string>
---@field enhanced_subjects table<integer, string>
---@field enhanced_codes table<string, parley.codes.Detail> keyed "subject.detail" ("7.1")
---@field pop3_codes table<string, string>
---@field imap_codes table<string, string>
local codes = {}

--- An enhanced status detail (RFC 3463 and the IANA registry): its meaning depends on the
--- class the code is sent with.
---@class parley.codes.Detail
---@field rfc string where it is defined
---@field text string its meaning with a failure class (4 or 5)
---@field hint? string advice for a failure
---@field success? string its meaning with class 2 (the "other or undefined" details X.N.0)
---@field any? string its meaning whatever the class ("X.7.0"), or a detail that reads the same
---@field positive? boolean a detail that reports a success (X.1.5)
---@field hint_any? boolean the hint fits every class

--- Meaning of a numeric SMTP reply code. Unknown codes get a description from their first and
--- second digits. Example: `codes.describe(550) --> "mailbox unavailable (requested action not
--- taken)"`
---
--- Returns string meaning, or nil when `code` is not a three-digit code from 100 to 599
---@param code integer|string number or string of three digits, 100 to 599 (e.g. `550` or `"550"`)
---@return string?
function codes.describe(code) end

--- Meaning of an RFC 3463 enhanced status code: class, subject and detail. Unknown details fall
--- back to the subject's meaning.
---
--- Returns string such as "permanent failure; security or policy status: delivery not
--- authorized, message refused", or nil when `str` is not of the form class.subject.detail with
--- class 2, 4 or 5
---@param str string string such as `"5.7.1"`
---@return string?
function codes.describe_enhanced(str) end

--- One line explaining a reply: the SMTP code's and the enhanced code's meanings. For a reply
--- without SMTP codes whose text carries a POP3 or IMAP response code ("-ERR [IN-USE] ...", "a1
--- NO [AUTHENTICATIONFAILED] ...") that code is explained instead.
---
--- Returns string such as "550: mailbox unavailable (requested action not taken); 5.1.1: bad
--- destination mailbox address", or nil when nothing is known
---@param reply {code: integer?, enhanced: string?, text: string?, status: string?} table with optional fields `code` (number), `enhanced` (string), `text`, `status`
---@return string?
function codes.meaning(reply) end

--- Whether `code` is a valid reply to `command`. Follows RFC 5321 section 4.3.2 (with AUTH,
--- STARTTLS and BDAT from their RFCs); 421 is valid for everything, 500 and 501 for every
--- command, and the table's `common` codes are accepted too (see `codes.replies`).
---
--- Returns true or false; nil when the command is unknown
---@param command string string, case-insensitive: "EHLO", "mail", "MAIL FROM:<a@b>", "DATA_END" (the reply after the final dot), "GREETING" or "CONNECT" (the connection greeting)
---@param code integer|string number or three-digit string
---@return boolean?
function codes.valid_for(command, code) end

--- The commands that `code` may answer, in conversation order.
---
--- Returns array of command names ("GREETING", "EHLO", ..., "DATA_END", ...), possibly empty
---@param code integer|string number or three-digit string
---@return string[]
function codes.commands_for(code) end

--- The valid reply codes for a command, sorted.
---
--- Returns array of codes, or nil when the command is unknown
---@param command string string as for `valid_for`
---@return integer[]?
function codes.valid_codes(command) end

--- The usual cause / what-to-do hint for an SMTP code or an enhanced status code.
---
--- Returns string or nil
---@param code integer|string number, "550", or "5.7.1"
---@return string?
function codes.hint(code) end

--- Grammar problems of an SMTP reply. Reports: a reply without a code whose text looks like an
--- attempt at one ("25 ok", "abc"), a code that is not three digits, a first digit outside 2-5
--- or a second digit outside 0-5 (RFC 5321 section 4.2), a malformed enhanced code, an enhanced
--- class that differs from the reply's class, and (when `command` is given and known) a code
--- that is not a valid reply to that command.
---
--- Returns array of violation strings, empty when the reply is fine
---@param reply {code: integer?, enhanced: string?, text: string?} table with `code` (number or nil), `enhanced` (string or nil), `text`
---@param command? string command name as for `valid_for`
---@return string[]
function codes.check_grammar(reply, command) end

--- The POP3 extended response code's meaning.
---
--- Returns string or nil
---@param name string "IN-USE", "[IN-USE]", "sys/temp" (case-insensitive; an unknown "SYS/x" falls back to "SYS")
---@return string?
function codes.pop3(name) end

--- The IMAP response code's meaning.
---
--- Returns string or nil
---@param name string "TRYCREATE", "[UIDNEXT 4392]", "authenticationfailed" (case-insensitive)
---@return string?
function codes.imap(name) end

--- Human explanation of a code, for `parley explain`. Accepts an SMTP code ("250"), an enhanced
--- status code ("5.7.1", or "X.7.1" for any class), both with optional server text ("550 5.1.1
--- no such user", "550-5.1.1 ..."), a code class ("5xx", "55x"), a POP3 response code
--- ("IN-USE", "[SYS/TEMP]", "-ERR [IN-USE] locked") or an IMAP one ("AUTHENTICATIONFAILED", "a1
--- NO [TRYCREATE] ...").
---
--- Returns multi-line string; or nil and an error message for something unknown
---@param query string|integer string (or number)
---@return string? text
---@return string? err
function codes.explain(query) end

return codes
