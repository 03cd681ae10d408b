-- nvim-dap set-up for Victor workflows: the adapter (python -m victor_dap), launch
-- configurations for the current file, and human-in-the-loop prompts during a debug session.
-- Needs the nvim-dap plugin. Set vim.g.victor_python to pick the interpreter.

local dap = require('dap')
local python = vim.g.victor_python or 'python3'

dap.adapters['victor-workflow'] = {
  type = 'executable',
  command = python,
  args = { '-m', 'victor_dap' },
}

dap.configurations.yaml = vim.list_extend(dap.configurations.yaml or {}, {
  {
    type = 'victor-workflow',
    request = 'launch',
    name = 'Victor: debug current workflow file',
    program = '${file}',
    cwd = '${workspaceFolder}',
    stopOnEntry = true,
  },
  {
    type = 'victor-workflow',
    request = 'launch',
    name = 'Victor: debug one workflow with inputs',
    program = '${file}',
    cwd = '${workspaceFolder}',
    workflow = function() return vim.fn.input('Workflow name: ') end,
    context = function()
      local text = vim.fn.input('Initial state (JSON): ', '{}')
      local ok, value = pcall(vim.json.decode, text)
      return ok and value or vim.empty_dict()
    end,
  },
})

-- HITL nodes: the adapter sends the custom event `victorHitlRequest`; we answer with the
-- custom request `victorHitlResponse` { requestId, approved, value?, reason? }.
local function respond(session, request, approved, value, reason)
  session:request('victorHitlResponse', {
    requestId = request.requestId,
    approved = approved,
    value = value,
    reason = reason,
  }, function(err)
    if err then
      vim.notify('victorHitlResponse failed: ' .. vim.inspect(err), vim.log.levels.ERROR)
    end
  end)
end

local DISMISSED = 'dismissed in the editor'

dap.listeners.after['event_victorHitlRequest']['victor'] = function(session, request)
  local kind = request.hitlType
  local choices = request.choices or {}
  local title = request.prompt ~= nil and request.prompt ~= '' and request.prompt
    or ('Workflow input needed: ' .. (request.nodeId or ''))
  if kind == 'approval' or kind == 'confirmation' then
    local yes = kind == 'approval' and 'Approve' or 'Yes'
    local no = kind == 'approval' and 'Reject' or 'No'
    vim.ui.select({ yes, no }, { prompt = title }, function(choice)
      if choice == nil then
        respond(session, request, false, nil, DISMISSED)
      elseif choice == yes then
        respond(session, request, true, true)
      else
        respond(session, request, false, false, no .. ' chosen in the editor')
      end
    end)
  elseif kind ~= 'input' and kind ~= 'review' and #choices > 0 then
    vim.ui.select(choices, { prompt = title }, function(choice)
      if choice == nil then
        respond(session, request, false, nil, DISMISSED)
      else
        respond(session, request, true, choice)
      end
    end)
  else
    local default = request.defaultValue
    local structured = default ~= nil and default ~= vim.NIL and type(default) ~= 'string'
    local shown = structured and vim.json.encode(default) or (type(default) == 'string' and default or '')
    vim.ui.input({ prompt = title .. ' ', default = shown }, function(text)
      if text == nil then
        return respond(session, request, false, nil, DISMISSED)
      end
      local ok, parsed = false, nil
      if structured then
        ok, parsed = pcall(vim.json.decode, text)
      end
      respond(session, request, true, ok and parsed or text)
    end)
  end
end
