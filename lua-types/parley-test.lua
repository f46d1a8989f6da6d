---@meta
-- lua-language-server definitions of what a test file for `parley test` sees besides parley's
-- globals (parley.lua beside this file). Reference: docs/testing.md.

--- A case: runs `fn` as a conversation of its own, bounded by --timeout.
---@param name string
---@param fn fun()
function test(name, fn) end

--- Ends the case as skipped, with the reason.
---@param reason? string
function skip(reason) end

--- Runs `fn` before each case of the file.
---@param fn fun()
function before(fn) end

--- Runs `fn` after each case of the file.
---@param fn fun()
function after(fn) end

--- Runs `fn` once before the file's cases (servers it starts belong to the file).
---@param fn fun()
function before_all(fn) end

--- Runs `fn` once after the file's cases.
---@param fn fun()
function after_all(fn) end

--- A fact carried into every report (JSON, TAP, JUnit properties).
---@generic T
---@param name string
---@param value T
---@return T value
function capture(name, value) end

--- Fails the case showing both sides unless `actual == expected`.
---@param actual any
---@param expected any
---@param msg? string
function expect_eq(actual, expected, msg) end

--- Fails the case when `actual == unexpected`.
---@param actual any
---@param unexpected any
---@param msg? string
function expect_ne(actual, unexpected, msg) end

--- Fails the case unless `text` matches the Lua pattern.
---@param text string
---@param pattern string
---@param msg? string
function expect_match(text, pattern, msg) end

--- Fails the case unless `v` is a true value.
---@param v any
---@param msg? string
function expect_true(v, msg) end

--- Fails the case unless `v` is false or nil.
---@param v any
---@param msg? string
function expect_false(v, msg) end

--- `fn` must raise (an error matching `pattern`, when given); returns the error.
---@param fn fun()
---@param pattern? string
---@param msg? string
---@return any err
function expect_error(fn, pattern, msg) end
