-- Loads docs/neovim/victor_dap.lua against a recording stand-in for nvim-dap and replays HITL
-- scenarios. Input: $VICTOR_DAP_SCENARIOS (JSON list of {event, answer}); output: JSON written to
-- $VICTOR_DAP_RESULT with the adapter, the configurations and every request sent back.

local auto = { __index = function(t, k) local v = {}; rawset(t, k, v); return v end }
local fake_dap = {
  adapters = {},
  configurations = {},
  listeners = { before = setmetatable({}, auto), after = setmetatable({}, auto) },
}
package.preload['dap'] = function() return fake_dap end

dofile(vim.env.VICTOR_DAP_SNIPPET)

local sent = {}
local session = {
  request = function(_, command, arguments, callback)
    table.insert(sent, { command = command, arguments = arguments })
    callback(nil, {})
  end,
}

local answer
vim.ui.select = function(items, _, on_choice)
  table.insert(sent, { shown = 'select', items = items })
  on_choice(answer ~= vim.NIL and answer or nil)
end
vim.ui.input = function(opts, on_confirm)
  table.insert(sent, { shown = 'input', default = opts.default })
  on_confirm(answer ~= vim.NIL and answer or nil)
end

local scenarios = vim.json.decode(table.concat(vim.fn.readfile(vim.env.VICTOR_DAP_SCENARIOS), '\n'))
local listener = fake_dap.listeners.after['event_victorHitlRequest']['victor']
for _, scenario in ipairs(scenarios) do
  answer = scenario.answer
  listener(session, scenario.event)
end

local configurations = {}
for _, config in ipairs(fake_dap.configurations.yaml or {}) do
  local plain = {}
  for key, value in pairs(config) do
    plain[key] = type(value) == 'function' and '<function>' or value
  end
  table.insert(configurations, plain)
end
local result = { adapter = fake_dap.adapters['victor-workflow'], configurations = configurations, sent = sent }
vim.fn.writefile({ vim.json.encode(result) }, vim.env.VICTOR_DAP_RESULT)
