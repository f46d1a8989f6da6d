-- luacheck configuration for lua/ (parley's standard library), examples/ (scripts users
-- copy) and lua-types/ (the editor definitions). Run by scripts/test:
--   luacheck lua examples lua-types
std = "lua54"

-- The globals every conversation script sees (src/script/ and lua/parley/prelude.lua), and those
-- of a `parley test` file (lua/parley/testrun.lua).
local script_globals = {
  "args", "connect", "listen", "spawn", "sleep", "exec", "secret", "fail", "step",
  "test", "skip", "capture", "before", "after", "before_all", "after_all",
  "expect_eq", "expect_ne", "expect_match", "expect_true", "expect_false", "expect_error",
}
read_globals = script_globals

-- Callbacks and methods keep their documented parameters even when they do not use them.
unused_args = false
-- An empty branch holding only a comment ("-- the usual case: nothing to look at") is this
-- code's way of naming a case it deliberately ignores.
ignore = { "542" }
-- Long reply texts, patterns and messages read better unwrapped.
max_line_length = false

-- prelude.lua installs the script globals print (masking secrets) and step; load.lua replaces
-- print in each load thread.
files["lua/parley/prelude.lua"] = { globals = { "print", "step" } }
files["lua/parley/load.lua"] = { globals = { "print" } }
-- serve.lua keeps the started servers in a local list for the whole run (their references).
files["lua/parley/mock/serve.lua"] = { ignore = { "241/started" } }
-- lua-types/: lua-language-server definition files. Declaring the script globals is what they
-- are for, and a class table's methods are stubs that nothing reads.
files["lua-types"] = { globals = script_globals, ignore = { "241" } }
