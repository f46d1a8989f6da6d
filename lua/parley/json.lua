--- A small JSON encoder for reports (JSON Lines, load results). Keys are sorted so output is
-- stable; arrays are tables whose keys are 1..n.
-- @module parley.json

local M = {}

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

--- `s` with every byte sequence that is not valid UTF-8 replaced by U+FFFD.
function M.valid_utf8(s)
  if utf8.len(s) then return s end
  local out, i = {}, 1
  while i <= #s do
    local ok, bad = utf8.len(s, i)
    if ok then
      out[#out + 1] = s:sub(i)
      break
    end
    out[#out + 1] = s:sub(i, bad - 1) .. "\u{FFFD}"
    i = bad + 1
  end
  return table.concat(out)
end

local function quote(s)
  s = M.valid_utf8(s):gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end

local function is_array(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do
    if t[i] == nil then return false end
  end
  return true, n
end

local encode

local function encode_table(t, seen)
  if seen[t] then error("json: a table that contains itself") end
  seen[t] = true
  local parts = {}
  local array, n = is_array(t)
  if array and n > 0 then
    for i = 1, n do parts[i] = encode(t[i], seen) end
    seen[t] = nil
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    parts[#parts + 1] = quote(k) .. ":" .. encode(v, seen)
  end
  seen[t] = nil
  return "{" .. table.concat(parts, ",") .. "}"
end

encode = function(v, seen)
  local kind = type(v)
  if kind == "nil" then return "null" end
  if kind == "boolean" then return tostring(v) end
  if kind == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if math.type(v) == "integer" then return tostring(v) end
    return string.format("%.17g", v)
  end
  if kind == "string" then return quote(v) end
  if kind == "table" then return encode_table(v, seen) end
  return quote(tostring(v))
end

--- Encodes a Lua value as JSON text (one line).
-- Strings that are not valid UTF-8 are repaired; other values (functions, tables with a
-- metatable) become their tostring() as a string.
function M.encode(value)
  return encode(value, {})
end

return M
