---@meta parley.mock.imap
-- lua-language-server definitions of parley.mock.imap, the mock IMAP server (the options and the
-- server object are in mock-store.lua). Reference: README.md, "Mock servers".

---@class parley.mock.imap
local imap = {}

--- Starts a mock IMAP server (in this process, on loopback by default).
---@param opts? parley.mock.Options
---@return parley.mock.Server
function imap.start(opts) end

return imap
