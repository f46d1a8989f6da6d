-- wire_text.lua: parley.wire_text, which parley.smtp uses for every message it sends after
-- DATA: bare LFs get their CR, a final CRLF is added, text already on the wire comes back
-- unchanged, and a bare CR anywhere is refused with its byte position.
-- exit: 0
-- stdout: wire_text ok
-- within: 5

local parley = require "parley"
local smtp = require "parley.smtp.args"

local function eq(got, want, what)
  if got ~= want then
    error(string.format("%s: got %q, want %q", what, tostring(got), tostring(want)), 2)
  end
end

eq(parley.wire_text(""), "", "empty")
eq(parley.wire_text("a"), "a\r\n", "no line end")
eq(parley.wire_text("a\n"), "a\r\n", "bare LF at the end")
eq(parley.wire_text("\n"), "\r\n", "a lone LF")
eq(parley.wire_text("a\nb\r\nc\n\n"), "a\r\nb\r\nc\r\n\r\n", "mixed line ends")
eq(parley.wire_text("a\r\nb"), "a\r\nb\r\n", "final CRLF added")
local canonical = string.rep("line\r\n", 100)
eq(parley.wire_text(canonical), canonical, "canonical text unchanged")
eq(parley.wire_text("x\0y\n"), "x\0y\r\n", "NUL bytes kept")

for _, case in ipairs { { "a\rb", 2 }, { "abc\r", 4 }, { "\r\n\r", 3 }, { "\rx\n", 1 } } do
  local wire, at = parley.wire_text(case[1])
  eq(wire, nil, "bare CR in " .. string.format("%q", case[1]))
  eq(at, case[2], "position of the bare CR in " .. string.format("%q", case[1]))
end

-- The SMTP library's normalisation is this function: same text, same refusal.
eq(smtp.normalise("a\nb", "DATA"), "a\r\nb\r\n", "parley.smtp normalise")
local ok, err = pcall(smtp.normalise, "a\rb", "DATA")
assert(not ok and tostring(err.message or err):find("bare CR at byte 2", 1, true), tostring(err))

print("wire_text ok")
