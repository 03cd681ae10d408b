-- Headless Neovim driver for incremental sync: loads docs/neovim/victor_lsp.lua, opens a
-- CRLF workflow whose text holds emoji, CJK and a U+2028 before the error, then edits
-- it the way a user does (ranged changes, lines added and removed, an append at the
-- end) and records the error diagnostics after each step as JSON.
local out = os.getenv('VICTOR_OUT')
vim.g.victor_python = os.getenv('VICTOR_PYTHON')

local result = { steps = {} }
local function finish()
  local handle = assert(io.open(out, 'w'))
  handle:write(vim.json.encode(result))
  handle:close()
  vim.cmd('qa!')
end

local ok, err = pcall(dofile, os.getenv('VICTOR_REPO') .. '/docs/neovim/victor_lsp.lua')
if not ok then
  result.load_error = tostring(err)
  return finish()
end

vim.cmd.edit(os.getenv('VICTOR_WORKFLOW'))
result.fileformat = vim.bo.fileformat
local function errors()
  local found = {}
  for _, d in ipairs(vim.diagnostic.get(0, { severity = vim.diagnostic.severity.ERROR })) do
    table.insert(found, { lnum = d.lnum, col = d.col, end_col = d.end_col, code = d.code,
      message = d.message })
  end
  return found
end
local function record(name, wanted)
  vim.wait(20000, function() return #errors() == wanted end, 50)
  table.insert(result.steps, { name = name, errors = errors(),
    lines = vim.api.nvim_buf_get_lines(0, 0, -1, false) })
end
local function find(pattern)
  for n, line in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
    local at = line:find(pattern, 1, true)
    if at then return n - 1, at - 1 end
  end
  error('not found: ' .. pattern)
end

result.attached = vim.wait(20000, function() return #vim.lsp.get_clients({ bufnr = 0 }) > 0 end, 50)
record('opened', 1)
local row, col = find('nowhere')
vim.api.nvim_buf_set_text(0, row, col, row, col + #'nowhere', { 'done' })
record('fixed', 0)
vim.api.nvim_buf_set_lines(0, row, row, false, { '        description: "🚀 second 開始"' })
row, col = find('[done]')
vim.api.nvim_buf_set_text(0, row, col + 1, row, col + 5, { 'gone' })
record('line added, target broken', 1)
vim.api.nvim_buf_set_lines(0, -3, -1, false, {})
vim.api.nvim_buf_set_lines(0, -1, -1, false, { '      - id: gone', '        goal: "back"' })
record('last node replaced at the end', 0)
finish()
