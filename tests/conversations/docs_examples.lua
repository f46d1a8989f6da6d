-- docs_examples.lua: the examples in docs/ are Lua that parley runs. Every ```lua block of
-- docs/*.md compiles; the blocks that need no server (no connect, args, listen, test or step)
-- run, and a `print(...)  -- VALUE` line in them must print VALUE. A block in docs/editor.md
-- is an editor's configuration (Neovim's), compiled only.
-- exit: 0
-- args: --timeout 10
-- stdout: docs examples: [0-9]+ compiled, [0-9]+ run
-- within: 10

local docs = "../../docs/"
local FILES = { "README", "core", "vocabulary", "smtp", "pop3", "imap", "sasl", "mime", "codes",
                "crypto", "checks", "testing", "load", "session", "editor" }
-- Words that say a block talks to a server or belongs to another program.
local NEEDS = { "connect", "args%.", "listen", "test%(", "step%(", "thresholds", "vim%.",
                "session%.class" }

local function read(path)
  local f = assert(io.open(path, "r"), "cannot read " .. path)
  local text = f:read("a")
  f:close()
  return text
end

local compiled, ran, problems = 0, 0, {}
for _, file in ipairs(FILES) do
  local text = read(docs .. file .. ".md")
  local n = 0
  for block in text:gmatch("\n```lua\n(.-)\n```") do
    n = n + 1
    local name = file .. ".md, example " .. n
    local fn, err = load(block, "=" .. name, "t", setmetatable({}, { __index = _G }))
    if not fn then
      problems[#problems + 1] = name .. " does not compile: " .. err
    else
      compiled = compiled + 1
      local pure = true
      for _, w in ipairs(NEEDS) do
        if block:find(w) then pure = false end
      end
      if pure then
        -- Run it with a print that records what it shows.
        local shown = {}
        local env = setmetatable({ print = function(...)
          local parts = {}
          for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
          shown[#shown + 1] = table.concat(parts, "\t")
        end }, { __index = _G })
        local ok, why = pcall(load(block, "=" .. name, "t", env))
        if not ok then
          problems[#problems + 1] = name .. " fails: " .. tostring(why)
        else
          ran = ran + 1
          -- print(...) -- VALUE: the i-th print must show VALUE.
          local i = 0
          for line in block:gmatch("[^\n]+") do
            if line:find("^%s*print%(") then
              i = i + 1
              local want = line:match("%)%s*%-%-%s*(.-)%s*$")
              if want and want ~= "" and not (shown[i] or ""):find(want, 1, true) then
                problems[#problems + 1] = name .. ": print " .. i .. " shows " ..
                  string.format("%q", shown[i] or "nothing") .. ", the example says " .. want
              end
            end
          end
        end
      end
    end
  end
end
if #problems > 0 then fail("docs/ examples:\n  " .. table.concat(problems, "\n  ")) end
assert(ran >= 3, "only " .. ran .. " examples ran")
print("docs examples: " .. compiled .. " compiled, " .. ran .. " run")
