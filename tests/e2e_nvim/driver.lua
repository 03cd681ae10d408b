-- Headless Neovim driver: loads docs/neovim/victor_lsp.lua verbatim, opens a workflow,
-- reads diagnostics with vim.diagnostic.get, fixes the text and waits for them to clear.
-- Arguments come through environment variables; results are written as JSON.
local repo = os.getenv('VICTOR_REPO')
local workflow = os.getenv('VICTOR_WORKFLOW')
local out = os.getenv('VICTOR_OUT')
local bad, good = os.getenv('VICTOR_BAD'), os.getenv('VICTOR_GOOD')
vim.g.victor_python = os.getenv('VICTOR_PYTHON')

local result = { errors_before = {}, errors_after = nil, attached = false }
local function finish()
  local handle = assert(io.open(out, 'w'))
  handle:write(vim.json.encode(result))
  handle:close()
  vim.cmd('qa!')
end

local ok, err = pcall(dofile, repo .. '/docs/neovim/victor_lsp.lua')
if not ok then
  result.load_error = tostring(err)
  return finish()
end

vim.cmd.edit(workflow)
local function errors()
  return vim.diagnostic.get(0, { severity = vim.diagnostic.severity.ERROR })
end

result.attached = vim.wait(20000, function() return #vim.lsp.get_clients({ bufnr = 0 }) > 0 end, 50)
vim.wait(20000, function() return #errors() > 0 end, 50)
for _, d in ipairs(errors()) do
  table.insert(result.errors_before, { code = d.code, lnum = d.lnum, col = d.col, message = d.message })
end

local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
for i, line in ipairs(lines) do
  lines[i] = line:gsub(bad, good)
end
vim.api.nvim_buf_set_lines(0, 0, -1, false, lines)
vim.wait(20000, function() return #errors() == 0 end, 50)
result.errors_after = #errors()
finish()
