---@meta parley.mock.smtp
-- lua-language-server definitions of parley.mock.smtp, the mock SMTP server (the options and the
-- server object are in mock-store.lua). Reference: README.md, "Mock servers".

---@class parley.mock.smtp
local smtp = {}

--- Starts a mock SMTP server (in this process, on loopback by default).
---@param opts? parley.mock.Options
---@return parley.mock.Server
function smtp.start(opts) end

return smtp
