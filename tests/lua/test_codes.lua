-- Tests for lua/parley/codes.lua. Run from the repository root:
--   lua5.4 tests/lua/test_codes.lua
package.path = "lua/?.lua;" .. package.path

local globals_before = {}
for k in pairs(_G) do globals_before[k] = true end

local codes = require("parley.codes")

local passed, failed = 0, 0

-- Runs one named case; a failing assert inside it counts as one failure and the run goes on.
local function test(name, fn)
  local ok, err = pcall(fn)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write("FAIL ", name, ": ", tostring(err), "\n")
  end
end

local function has(haystack, needle, what)
  assert(type(haystack) == "string",
         (what or "value") .. ": expected a string, got " .. tostring(haystack))
  assert(haystack:find(needle, 1, true),
         (what or "value") .. ": expected to contain " .. string.format("%q", needle)
             .. ", got " .. string.format("%q", haystack))
end

local function lacks(haystack, needle, what)
  assert(type(haystack) == "string", (what or "value") .. ": expected a string")
  assert(not haystack:find(needle, 1, true),
         (what or "value") .. ": expected not to contain " .. string.format("%q", needle)
             .. ", got " .. string.format("%q", haystack))
end

local function eq(actual, expected, what)
  assert(actual == expected, string.format("%s: expected %s, got %s", what or "value",
                                           tostring(expected), tostring(actual)))
end

local function same_list(actual, expected, what)
  assert(type(actual) == "table", (what or "list") .. ": expected a table, got " .. tostring(actual))
  local a, e = table.concat(actual, ","), table.concat(expected, ",")
  assert(a == e, string.format("%s: expected {%s}, got {%s}", what or "list", e, a))
end

-- The codes the module must know (RFC 5321 section 4.2, RFC 4954, RFC 7504).
local SMTP_CODES = {
  211, 214, 220, 221, 235, 250, 251, 252, 334, 354, 421, 432, 450, 451, 452, 454, 455, 500, 501,
  502, 503, 504, 521, 530, 534, 535, 538, 550, 551, 552, 553, 554, 555, 556,
}

-- Every detail defined by RFC 3463, as subject -> highest detail.
local RFC3463_DETAILS = { [0] = 0, [1] = 8, [2] = 4, [3] = 5, [4] = 7, [5] = 5, [6] = 5, [7] = 7 }

local IANA_LATER = {
  "1.9", "1.10", "3.6", "5.6", "6.6", "6.7", "6.8", "6.9", "6.10", "7.8", "7.9", "7.10", "7.11",
  "7.12", "7.13", "7.14", "7.15", "7.16", "7.17", "7.18", "7.19", "7.20", "7.21", "7.22", "7.23",
  "7.24", "7.25", "7.26", "7.27", "7.28", "7.29", "7.30",
}

local POP3_CODES = { "IN-USE", "LOGIN-DELAY", "SYS/TEMP", "SYS/PERM", "AUTH", "UTF8" }

local IMAP_CODES = {
  "ALERT", "BADCHARSET", "CAPABILITY", "PARSE", "PERMANENTFLAGS", "READ-ONLY", "READ-WRITE",
  "TRYCREATE", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "APPENDUID", "COPYUID", "UIDNOTSTICKY",
  "UNAVAILABLE", "AUTHENTICATIONFAILED", "AUTHORIZATIONFAILED", "EXPIRED", "PRIVACYREQUIRED",
  "CONTACTADMIN", "NOPERM", "INUSE", "EXPUNGEISSUED", "CORRUPTION", "SERVERBUG", "CLIENTBUG",
  "CANNOT", "LIMIT", "OVERQUOTA", "ALREADYEXISTS", "NONEXISTENT",
}

---------------------------------------------------------------------------------------------
-- module shape
---------------------------------------------------------------------------------------------

test("module is a table with the public functions", function()
  assert(type(codes) == "table", "require must return a table")
  for _, f in ipairs({ "describe", "describe_enhanced", "meaning", "valid_for", "check_grammar",
                       "explain", "pop3", "imap", "commands_for", "valid_codes", "hint" }) do
    assert(type(codes[f]) == "function", "codes." .. f .. " must be a function")
  end
end)

test("loading the module creates no globals", function()
  for k in pairs(_G) do
    assert(globals_before[k], "new global after require: " .. tostring(k))
  end
end)

---------------------------------------------------------------------------------------------
-- describe
---------------------------------------------------------------------------------------------

test("describe knows every RFC 5321 / 4954 / 7504 code", function()
  for _, c in ipairs(SMTP_CODES) do
    local d = codes.describe(c)
    assert(type(d) == "string" and #d > 5, "no meaning for " .. c)
    lacks(d, "unregistered", "describe(" .. c .. ")")
  end
end)

test("describe gives specific meanings", function()
  has(codes.describe(250), "completed", "250")
  has(codes.describe(550), "mailbox unavailable", "550")
  has(codes.describe(354), "dot", "354")
  has(codes.describe(221), "closing", "221")
  has(codes.describe(235), "authentication succeeded", "235")
  has(codes.describe(535), "credentials invalid", "535")
  has(codes.describe(521), "does not accept mail", "521")
  has(codes.describe(556), "domain does not accept mail", "556")
  has(codes.describe(503), "bad sequence", "503")
end)

test("describe accepts numeric strings and integral floats", function()
  eq(codes.describe("550"), codes.describe(550), "describe('550')")
  eq(codes.describe(" 250 "), codes.describe(250), "describe(' 250 ')")
  eq(codes.describe(250.0), codes.describe(250), "describe(250.0)")
end)

test("describe falls back to the digits for unknown codes", function()
  local d = codes.describe(557)
  has(d, "unregistered", "557")
  has(d, "permanent negative completion", "557")
  has(d, "mail system", "557")
  d = codes.describe(436)
  has(d, "transient negative completion", "436")
  has(d, "authentication", "436")
  d = codes.describe(299)
  has(d, "positive completion", "299")
  has(d, "undefined group", "299")
  has(codes.describe(312), "positive intermediate", "312")
  has(codes.describe(507), "syntax", "507")
  has(codes.describe(519), "information", "519")
  has(codes.describe(120), "positive preliminary", "120")
  assert(codes.describe(100) and codes.describe(599), "100 and 599 are in range")
end)

test("describe returns nil for non-codes", function()
  for _, bad in ipairs({ 99, 600, 1000, 0, -250, 250.5, "abc", "25", "2500", "", "25 0",
                         math.huge, 0 / 0, true }) do
    eq(codes.describe(bad), nil, "describe(" .. tostring(bad) .. ")")
  end
  eq(codes.describe(nil), nil, "describe(nil)")
  eq(codes.describe({}), nil, "describe({})")
end)

---------------------------------------------------------------------------------------------
-- describe_enhanced
---------------------------------------------------------------------------------------------

test("describe_enhanced combines class, subject and detail", function()
  local d = codes.describe_enhanced("5.7.1")
  has(d, "permanent failure", "5.7.1")
  has(d, "security or policy", "5.7.1")
  has(d, "delivery not authorized", "5.7.1")
  d = codes.describe_enhanced("4.2.2")
  has(d, "persistent transient failure", "4.2.2")
  has(d, "mailbox full", "4.2.2")
  has(codes.describe_enhanced("2.0.0"), "success", "2.0.0")
  has(codes.describe_enhanced("5.1.1"), "bad destination mailbox address", "5.1.1")
  has(codes.describe_enhanced("5.7.8"), "credentials invalid", "5.7.8")
  has(codes.describe_enhanced("5.7.26"), "multiple authentication checks failed", "5.7.26")
  has(codes.describe_enhanced("5.1.10"), "null MX", "5.1.10")
  has(codes.describe_enhanced("5.7.27"), "null MX", "5.7.27")
  has(codes.describe_enhanced("5.6.7"), "non-ASCII", "5.6.7")
end)

test("describe_enhanced knows every RFC 3463 detail", function()
  for subject, last in pairs(RFC3463_DETAILS) do
    for detail = 0, last do
      for _, class in ipairs({ 2, 4, 5 }) do
        local code = class .. "." .. subject .. "." .. detail
        local d = codes.describe_enhanced(code)
        assert(d, "no meaning for " .. code)
        lacks(d, "not registered", code)
      end
    end
  end
end)

test("describe_enhanced knows the later IANA registrations", function()
  for _, sd in ipairs(IANA_LATER) do
    local d = codes.describe_enhanced("5." .. sd)
    assert(d, "no meaning for 5." .. sd)
    lacks(d, "not registered", "5." .. sd)
  end
end)

test("describe_enhanced falls back to the subject for unknown details", function()
  local d = codes.describe_enhanced("5.7.99")
  has(d, "permanent failure", "5.7.99")
  has(d, "security or policy status", "5.7.99")
  has(d, "not registered", "5.7.99")
  d = codes.describe_enhanced("4.1.999")
  has(d, "addressing status", "4.1.999")
  has(codes.describe_enhanced("5.9.1"), "unregistered subject", "5.9.1")
end)

test("describe_enhanced returns nil for malformed codes", function()
  for _, bad in ipairs({ "3.1.1", "6.1.1", "1.0.0", "5.1", "5.1.1.1", "5.1.1000", "5.1000.1",
                         "5.01.1", "5.1.01", "a.b.c", "5..1", "", "5.1.1x", "x5.1.1" }) do
    eq(codes.describe_enhanced(bad), nil, "describe_enhanced(" .. bad .. ")")
  end
  eq(codes.describe_enhanced(511), nil, "describe_enhanced(511)")
  eq(codes.describe_enhanced(nil), nil, "describe_enhanced(nil)")
end)

test("describe_enhanced tolerates surrounding blanks", function()
  eq(codes.describe_enhanced(" 5.1.1 "), codes.describe_enhanced("5.1.1"), "padded 5.1.1")
end)

---------------------------------------------------------------------------------------------
-- meaning
---------------------------------------------------------------------------------------------

test("meaning combines code and enhanced code", function()
  eq(codes.meaning({ code = 550, enhanced = "5.1.1", text = "no such user" }),
     "550: mailbox unavailable (requested action not taken); 5.1.1: bad destination mailbox address",
     "meaning(550 5.1.1)")
end)

test("meaning with only one of the two", function()
  eq(codes.meaning({ code = 250 }), "250: requested action completed", "meaning(250)")
  eq(codes.meaning({ enhanced = "5.7.1" }), "5.7.1: delivery not authorized, message refused",
     "meaning(5.7.1)")
  eq(codes.meaning({ code = 250, enhanced = "" }), "250: requested action completed",
     "empty enhanced is ignored")
  has(codes.meaning({ code = 557 }), "557: unregistered", "meaning(557)")
  has(codes.meaning({ code = 550, enhanced = "5.7.99" }),
      "5.7.99: security or policy status (detail 99 not registered)", "unknown detail")
end)

test("meaning returns nil when nothing is known", function()
  eq(codes.meaning({}), nil, "meaning({})")
  eq(codes.meaning(nil), nil, "meaning(nil)")
  eq(codes.meaning("550"), nil, "meaning of a string")
  eq(codes.meaning({ code = 999 }), nil, "meaning(999)")
  eq(codes.meaning({ text = "hello world" }), nil, "meaning of plain text")
  eq(codes.meaning({ enhanced = "9.9.9" }), nil, "meaning of a bad enhanced code")
end)

test("meaning explains POP3 and IMAP response codes", function()
  has(codes.meaning({ text = "-ERR [IN-USE] mailbox locked" }), "IN-USE: ", "POP3 IN-USE")
  has(codes.meaning({ status = "-ERR", text = "[SYS/TEMP] try later" }), "SYS/TEMP: ", "POP3 status")
  has(codes.meaning({ text = "a1 NO [AUTHENTICATIONFAILED] Invalid credentials" }),
      "AUTHENTICATIONFAILED: ", "IMAP code")
  eq(codes.meaning({ text = "a1 NO [BOGUS] x" }), nil, "unknown IMAP code")
end)

---------------------------------------------------------------------------------------------
-- valid_for, commands_for, valid_codes
---------------------------------------------------------------------------------------------

test("valid_for follows RFC 5321 section 4.3.2", function()
  local cases = {
    { "GREETING", 220, true }, { "GREETING", 554, true }, { "GREETING", 250, false },
    { "EHLO", 250, true }, { "EHLO", 354, false }, { "EHLO", 502, true },
    { "HELO", 250, true }, { "HELO", 221, false },
    { "MAIL", 250, true }, { "MAIL", 552, true }, { "MAIL", 555, true }, { "MAIL", 251, false },
    { "MAIL", 354, false },
    { "RCPT", 250, true }, { "RCPT", 251, true }, { "RCPT", 551, true }, { "RCPT", 452, true },
    { "RCPT", 354, false }, { "RCPT", 252, false },
    { "DATA", 354, true }, { "DATA", 503, true }, { "DATA", 250, false },
    { "DATA_END", 250, true }, { "DATA_END", 552, true }, { "DATA_END", 354, false },
    { "RSET", 250, true }, { "RSET", 550, false },
    { "VRFY", 250, true }, { "VRFY", 252, true }, { "VRFY", 551, true }, { "VRFY", 354, false },
    { "EXPN", 250, true }, { "EXPN", 252, true }, { "EXPN", 251, false },
    { "HELP", 211, true }, { "HELP", 214, true }, { "HELP", 250, false },
    { "NOOP", 250, true }, { "NOOP", 550, false },
    { "QUIT", 221, true }, { "QUIT", 250, false },
  }
  for _, c in ipairs(cases) do
    eq(codes.valid_for(c[1], c[2]), c[3], "valid_for(" .. c[1] .. ", " .. c[2] .. ")")
  end
end)

test("valid_for knows AUTH, STARTTLS and BDAT", function()
  local cases = {
    { "AUTH", 334, true }, { "AUTH", 235, true }, { "AUTH", 535, true }, { "AUTH", 534, true },
    { "AUTH", 538, true }, { "AUTH", 432, true }, { "AUTH", 454, true }, { "AUTH", 504, true },
    { "AUTH", 354, false }, { "AUTH", 250, false },
    { "STARTTLS", 220, true }, { "STARTTLS", 454, true }, { "STARTTLS", 501, true },
    { "STARTTLS", 235, false }, { "STARTTLS", 250, false },
    { "BDAT", 250, true }, { "BDAT", 552, true }, { "BDAT", 354, false },
    { "MAIL", 530, true }, { "RCPT", 530, true }, { "EHLO", 530, false }, { "QUIT", 530, false },
    { "RCPT", 556, true }, { "GREETING", 521, true },
  }
  for _, c in ipairs(cases) do
    eq(codes.valid_for(c[1], c[2]), c[3], "valid_for(" .. c[1] .. ", " .. c[2] .. ")")
  end
end)

test("421 answers anything, 500 and 501 any command but not the greeting", function()
  for name in pairs(codes.replies) do
    eq(codes.valid_for(name, 421), true, "421 after " .. name)
    local expected = name ~= "GREETING"
    eq(codes.valid_for(name, 500), expected, "500 after " .. name)
    eq(codes.valid_for(name, 501), expected, "501 after " .. name)
  end
end)

test("valid_for: command names are case-insensitive and have aliases", function()
  eq(codes.valid_for("ehlo", 250), true, "ehlo")
  eq(codes.valid_for("Rcpt", 251), true, "Rcpt")
  eq(codes.valid_for("data_end", 250), true, "data_end")
  eq(codes.valid_for("DATA-END", 250), true, "DATA-END")
  eq(codes.valid_for("data end", 250), true, "data end")
  eq(codes.valid_for("connect", 220), true, "connect")
  eq(codes.valid_for("Greeting", 220), true, "Greeting")
  eq(codes.valid_for("starttls", 220), true, "starttls")
  eq(codes.valid_for("MAIL FROM:<a@b.example>", 250), true, "command line with arguments")
  eq(codes.valid_for("EHLO client.example", 354), false, "EHLO with argument, bad code")
  eq(codes.valid_for("lhlo", 250), true, "LMTP LHLO")
end)

test("valid_for: unknown commands give nil, bad codes false", function()
  eq(codes.valid_for("FOO", 250), nil, "FOO")
  eq(codes.valid_for("", 250), nil, "empty command")
  eq(codes.valid_for(nil, 250), nil, "nil command")
  eq(codes.valid_for(42, 250), nil, "numeric command")
  eq(codes.valid_for("MAIL", "250"), true, "string code")
  eq(codes.valid_for("MAIL", "abc"), false, "bad code")
  eq(codes.valid_for("MAIL", 999), false, "out-of-range code")
  eq(codes.valid_for("MAIL", nil), false, "nil code")
end)

test("commands_for and valid_codes", function()
  same_list(codes.commands_for(354), { "DATA" }, "commands_for(354)")
  same_list(codes.commands_for(334), { "AUTH" }, "commands_for(334)")
  same_list(codes.commands_for(221), { "QUIT" }, "commands_for(221)")
  same_list(codes.commands_for(999), {}, "commands_for(999)")
  same_list(codes.valid_codes("QUIT"), { 221, 421, 500, 501 }, "valid_codes(QUIT)")
  same_list(codes.valid_codes("noop"), { 250, 421, 500, 501, 521 }, "valid_codes(noop)")
  eq(codes.valid_codes("nope"), nil, "valid_codes(nope)")
end)

test("the reply table only names known codes", function()
  for name, entry in pairs(codes.replies) do
    for _, field in ipairs({ "success", "intermediate", "error", "common" }) do
      for _, c in ipairs(entry[field] or {}) do
        assert(codes.smtp_codes[c], name .. "." .. field .. " names unknown code " .. c)
      end
    end
  end
  for _, name in ipairs({ "GREETING", "EHLO", "HELO", "MAIL", "RCPT", "DATA", "DATA_END", "RSET",
                          "VRFY", "EXPN", "HELP", "NOOP", "QUIT", "AUTH", "STARTTLS", "BDAT" }) do
    assert(codes.replies[name], "reply table lacks " .. name)
  end
end)

---------------------------------------------------------------------------------------------
-- check_grammar
---------------------------------------------------------------------------------------------

local function one_violation(reply, command, needle, what)
  local v = codes.check_grammar(reply, command)
  assert(type(v) == "table", what .. ": expected a table")
  eq(#v, 1, what .. ": number of violations (" .. table.concat(v, " | ") .. ")")
  has(v[1], needle, what)
end

test("check_grammar accepts good replies", function()
  eq(#codes.check_grammar({ code = 250, enhanced = "2.1.0", text = "ok" }, "MAIL"), 0, "250 2.1.0")
  eq(#codes.check_grammar({ code = 250 }), 0, "250 without command")
  eq(#codes.check_grammar({ code = 354, text = "go ahead" }, "DATA"), 0, "354 to DATA")
  eq(#codes.check_grammar({ code = 250, enhanced = "" }, "data_end"), 0, "250 after the dot")
  eq(#codes.check_grammar({ code = 250 }, "XYZZY"), 0, "unknown command is not judged")
  eq(#codes.check_grammar({ code = "250" }), 0, "code as string")
end)

test("check_grammar: replies without a proper code", function()
  one_violation({ text = "25 ok" }, nil, "not three digits", "25 ok")
  one_violation({ text = "2500 ok" }, nil, "not three digits", "2500 ok")
  one_violation({ text = "abc" }, nil, "does not start with a three-digit code", "abc")
  one_violation({ text = "" }, nil, "empty", "empty line")
  one_violation({}, nil, "empty", "no text at all")
  one_violation({ text = "250x ok" }, nil, "must be followed by a space", "250x")
  one_violation({ lines = { "hello" } }, nil, "does not start with a three-digit code", "lines[1]")
end)

test("check_grammar: digits out of range", function()
  one_violation({ code = 650 }, nil, "first digit 6", "650")
  one_violation({ code = 150 }, nil, "first digit 1", "150")
  one_violation({ code = 260 }, nil, "second digit 6", "260")
  one_violation({ code = 25 }, nil, "not three digits", "25")
  one_violation({ code = 1000 }, nil, "not three digits", "1000")
  one_violation({ code = "x" }, nil, "not three digits", "x")
  eq(#codes.check_grammar({ code = 690 }), 2, "690: both digits wrong")
end)

test("check_grammar: enhanced codes", function()
  local v = codes.check_grammar({ code = 550, enhanced = "4.1.1" })
  eq(#v, 1, "class mismatch count")
  has(v[1], "class 4", "class mismatch")
  has(v[1], "class 5", "class mismatch")
  one_violation({ code = 354, enhanced = "2.0.0" }, nil, "3xx", "enhanced on 354")
  one_violation({ code = 550, enhanced = "5.1" }, nil, "malformed", "5.1")
  one_violation({ code = 550, enhanced = "7.1.1" }, nil, "malformed", "7.1.1")
end)

test("check_grammar: code not valid for the command", function()
  one_violation({ code = 354 }, "RCPT", "not a valid reply to RCPT", "354 to RCPT")
  one_violation({ code = 354 }, "rcpt", "250", "the expected codes are listed")
  one_violation({ code = 250 }, "GREETING", "connection greeting", "250 as greeting")
  local v = codes.check_grammar({ code = 450, enhanced = "5.1.1" }, "QUIT")
  eq(#v, 2, "class mismatch and wrong command: " .. table.concat(v, " | "))
end)

test("check_grammar: not a table", function()
  local v = codes.check_grammar("250 ok")
  eq(#v, 1, "string reply")
  has(v[1], "not a table", "string reply")
end)

---------------------------------------------------------------------------------------------
-- explain
---------------------------------------------------------------------------------------------

test("explain an SMTP code", function()
  local e = codes.explain("250")
  has(e, "250", "explain 250")
  has(e, "positive completion", "explain 250")
  has(e, "valid reply to:", "explain 250")
  has(e, "EHLO", "explain 250")
  has(e, "RFC 5321", "explain 250")
  assert(e:find("\n"), "explain is multi-line")
  has(codes.explain(535), "credentials invalid", "explain(535) as a number")
  has(codes.explain("535"), "5.7.8", "usual enhanced code")
  has(codes.explain("421"), "any command", "explain 421")
  has(codes.explain("354"), "valid reply to: DATA", "explain 354")
  has(codes.explain("550"), "hint:", "explain 550 hint")
  has(codes.explain("557"), "unregistered", "explain 557")
end)

test("explain SMTP code with enhanced code and text", function()
  local e = codes.explain("550 5.1.1")
  has(e, "550", "550 5.1.1")
  has(e, "bad destination mailbox address", "550 5.1.1")
  has(e, "permanent failure", "550 5.1.1")
  has(e, "addressing status", "550 5.1.1")
  e = codes.explain("550 5.1.1 some text")
  has(e, "server text: some text", "text kept")
  has(e, "bad destination mailbox address", "with text")
  e = codes.explain("550-5.1.1 user unknown")
  has(e, "bad destination mailbox address", "continuation form")
  has(codes.explain("550 4.1.1 x"), "differs", "class mismatch noted")
  has(codes.explain("550 no such user"), "server text: no such user", "text without enhanced")
end)

test("explain an enhanced code alone", function()
  local e = codes.explain("5.7.1")
  has(e, "delivery not authorized", "5.7.1")
  has(e, "security or policy", "5.7.1")
  has(e, "permanent failure", "5.7.1")
  has(codes.explain("X.7.26"), "multiple authentication checks failed", "X.7.26")
  has(codes.explain("4.7.99"), "not registered", "unknown detail")
end)

test("explain classes", function()
  local e = codes.explain("5xx")
  has(e, "permanent negative completion", "5xx")
  has(e, "550", "5xx lists codes")
  e = codes.explain("45x")
  has(e, "mail system", "45x")
  has(e, "452", "45x lists codes")
  lacks(e, "421", "45x excludes other groups")
end)

test("explain POP3 and IMAP response codes", function()
  has(codes.explain("[IN-USE]"), "POP3", "[IN-USE]")
  has(codes.explain("in-use"), "locked", "in-use")
  has(codes.explain("-ERR [SYS/TEMP] try later"), "SYS/TEMP", "POP3 status line")
  has(codes.explain("LOGIN-DELAY"), "RFC 2449", "LOGIN-DELAY")
  has(codes.explain("AUTHENTICATIONFAILED"), "IMAP", "AUTHENTICATIONFAILED")
  has(codes.explain("authenticationfailed"), "RFC 5530", "lower case")
  has(codes.explain("a1 NO [TRYCREATE] no such mailbox"), "TRYCREATE", "IMAP status line")
  has(codes.explain("[UIDNEXT 4392]"), "UID", "code with argument")
end)

test("explain refuses what it does not know", function()
  for _, bad in ipairs({ "foo", "", "   ", "650", "2500", "99", "5.01.1", "3.1.1", "25O" }) do
    local r, err = codes.explain(bad)
    eq(r, nil, "explain(" .. string.format("%q", bad) .. ")")
    assert(type(err) == "string" and #err > 0, "explain(" .. bad .. ") must give an error message")
  end
  local r, err = codes.explain(nil)
  eq(r, nil, "explain(nil)")
  assert(type(err) == "string", "explain(nil) error message")
  r = codes.explain({})
  eq(r, nil, "explain({})")
  has(select(2, codes.explain("650")), "650", "error names the input")
end)

---------------------------------------------------------------------------------------------
-- pop3, imap, hint
---------------------------------------------------------------------------------------------

test("pop3 knows the RFC 2449 / 3206 / 6856 codes", function()
  for _, name in ipairs(POP3_CODES) do
    assert(codes.pop3(name), "pop3(" .. name .. ")")
    eq(codes.pop3("[" .. name:lower() .. "]"), codes.pop3(name), "bracketed lower-case " .. name)
  end
  has(codes.pop3("IN-USE"), "locked", "IN-USE")
  has(codes.pop3("SYS/PERM"), "permanent", "SYS/PERM")
  has(codes.pop3("SYS/TEMP"), "temporary", "SYS/TEMP")
  has(codes.pop3("AUTH"), "credentials", "AUTH")
  has(codes.pop3("UTF8"), "UTF-8", "UTF8")
  eq(codes.pop3("SYS/OTHER"), codes.pop3("SYS"), "unknown SYS subcode falls back")
  eq(codes.pop3("NOPE"), nil, "unknown POP3 code")
  eq(codes.pop3("INUSE"), nil, "IMAP spelling is not POP3")
  eq(codes.pop3(""), nil, "empty")
  eq(codes.pop3(nil), nil, "nil")
end)

test("imap knows the RFC 3501 / 4315 / 5530 codes", function()
  for _, name in ipairs(IMAP_CODES) do
    assert(codes.imap(name), "imap(" .. name .. ")")
    eq(codes.imap(name:lower()), codes.imap(name), "lower-case " .. name)
  end
  has(codes.imap("TRYCREATE"), "does not exist", "TRYCREATE")
  has(codes.imap("OVERQUOTA"), "quota", "OVERQUOTA")
  eq(codes.imap("[UIDNEXT 4392]"), codes.imap("UIDNEXT"), "code with argument")
  eq(codes.imap("[COPYUID 38505 304,319:320 3956:3958]"), codes.imap("COPYUID"), "COPYUID args")
  eq(codes.imap("BOGUS"), nil, "unknown IMAP code")
  eq(codes.imap("IN-USE"), nil, "POP3 spelling is not IMAP")
  eq(codes.imap(nil), nil, "nil")
  eq(codes.imap(7), nil, "number")
end)

test("hint for SMTP and enhanced codes", function()
  has(codes.hint(550), "no such user", "hint(550)")
  has(codes.hint("552"), "SIZE", "hint('552')")
  has(codes.hint("5.1.1"), "local part", "hint(5.1.1)")
  eq(codes.hint(557), nil, "hint(557)")
  eq(codes.hint("5.3.3"), nil, "detail without hint")
  eq(codes.hint("nonsense"), nil, "hint(nonsense)")
end)

test("the enhanced meaning depends on the class: 2.x.x reads as a success", function()
  -- 235 2.7.0 after AUTH: a security step that went well, not "a security problem".
  local m = codes.meaning({ code = 235, enhanced = "2.7.0" })
  has(m, "2.7.0: security: ok", "meaning(235 2.7.0)")
  lacks(m, "problem", "meaning(235 2.7.0)")
  has(codes.meaning({ code = 535, enhanced = "5.7.0" }), "security or policy problem", "5.7.0")
  has(codes.describe_enhanced("2.7.0"), "success; security or policy status: security: ok",
      "describe_enhanced(2.7.0)")
  -- Every X.N.0 with class 2 is a success, with 4 and 5 a problem; "X.N.0" the RFC's words.
  for subject = 0, 7 do
    local ok = codes.describe_enhanced("2." .. subject .. ".0")
    lacks(ok, "problem", "2." .. subject .. ".0")
    has(ok, "ok", "2." .. subject .. ".0")
    lacks(codes.meaning({ enhanced = "2." .. subject .. ".0" }), "problem", "meaning 2." .. subject .. ".0")
    lacks(codes.describe_enhanced("5." .. subject .. ".0"), ": ok", "5." .. subject .. ".0")
    local any = codes.explain("X." .. subject .. ".0")
    has(any, "status", "X." .. subject .. ".0")
    lacks(any, "problem", "X." .. subject .. ".0")
  end
  -- The usual success details of real servers.
  has(codes.meaning({ code = 250, enhanced = "2.1.0" }), "2.1.0: address: ok", "250 2.1.0")
  has(codes.meaning({ code = 250, enhanced = "2.6.0" }), "2.6.0: message content: ok", "250 2.6.0")
  has(codes.meaning({ code = 250, enhanced = "2.1.5" }), "destination address valid", "250 2.1.5")
  lacks(codes.meaning({ code = 250, enhanced = "2.1.5" }), "failure", "250 2.1.5")
  has(codes.meaning({ code = 250, enhanced = "2.6.4" }), "loss of information", "250 2.6.4")
  lacks(codes.meaning({ code = 250, enhanced = "2.6.4" }), "failure", "250 2.6.4")
end)

test("a failure's detail sent with class 2 (and a success's with 5) says so", function()
  has(codes.describe_enhanced("2.1.1"), "names a failure, but the class says success", "2.1.1")
  has(codes.describe_enhanced("5.1.5"), "reports a success, but the class says failure", "5.1.5")
  lacks(codes.describe_enhanced("5.1.1"), "but the class", "5.1.1")
end)

test("explain and hint by class", function()
  local e = codes.explain("235 2.7.0 Authentication successful")
  has(e, "Enhanced status 2.7.0: security: ok", "explain 235 2.7.0")
  lacks(e, "problem", "explain 235 2.7.0")
  lacks(e, "530 or 454", "explain 235 2.7.0: a failure's hint")
  has(codes.explain("530 5.7.0 Must issue a STARTTLS command first"), "530 or 454", "explain 530 5.7.0")
  eq(codes.hint("2.7.0"), nil, "hint(2.7.0)")
  has(codes.hint("5.7.0"), "530 or 454", "hint(5.7.0)")
  has(codes.hint("2.0.0"), "class is meaningful", "hint(2.0.0)")
  eq(codes.hint("2.1.1"), nil, "hint(2.1.1): a failure's advice")
  -- The subjects read the same for every class.
  lacks(codes.explain("250 2.1.0 Ok"), "can fix", "explain 250 2.1.0")
end)

---------------------------------------------------------------------------------------------

print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then os.exit(1) end
