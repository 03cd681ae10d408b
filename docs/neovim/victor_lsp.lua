-- Victor workflow language server (python -m victor_lsp) for Neovim's built-in LSP client.
-- Copy into your init.lua, or load this file as is. Neovim 0.11+ uses vim.lsp.config/enable;
-- older versions (0.8+) fall back to vim.lsp.start from a FileType autocommand.
-- Set vim.g.victor_python beforehand to pick the interpreter that has the Victor tools installed.

local python = vim.g.victor_python or 'python3'

-- The settings the server reads (initializationOptions and workspace/configuration, section "victor").
local victor_settings = {
  registry = {}, -- Python modules exposing HANDLERS/CONDITIONS/TRANSFORMS/TOOLS
  stageLibraries = {}, -- extra stage_templates files
  historyPath = '', -- SQLite path or postgresql:// URL; '' = $VICTOR_HOME/workflows.db
  checks = vim.empty_dict(), -- problem code -> true/false, e.g. { VW101 = false }
}

-- Runs `victor workflow ...` with the same interpreter, in a terminal split.
local function victor_cli(args)
  local argv = vim.list_extend({ python, '-m', 'engine.cli', 'workflow' }, args)
  vim.cmd('botright split')
  vim.cmd.terminal(table.concat(vim.tbl_map(vim.fn.shellescape, argv), ' '))
end

-- Arguments of the server's code lenses: { uri, workflowName }.
local function lens_target(command)
  local args = command.arguments or {}
  local name = args[2]
  return vim.uri_to_fname(args[1]), name, (name and name ~= '') and { '-n', name } or {}
end

-- Client-side commands behind the code lenses (Run / Trace / Debug above each workflow).
local victor_commands = {
  ['victor.runWorkflow'] = function(command)
    local file, _, name_opt = lens_target(command)
    victor_cli(vim.list_extend({ 'run', file }, name_opt))
  end,
  ['victor.traceWorkflow'] = function(command)
    local file, _, name_opt = lens_target(command)
    local report = vim.fn.tempname() .. '.html'
    local args = vim.list_extend(vim.list_extend({ 'trace', file }, name_opt), { '-f', 'html', '-o', report })
    if not vim.system then -- Neovim < 0.10: run it in a terminal and print where the report goes
      victor_cli(args)
      return vim.notify('Victor trace report: ' .. report)
    end
    vim.system(vim.list_extend({ python, '-m', 'engine.cli', 'workflow' }, args), { text = true }, function(result)
      vim.schedule(function()
        if vim.uv.fs_stat(report) then
          vim.notify('Victor trace report: ' .. report)
          vim.ui.open(report)
        else
          vim.notify('victor workflow trace failed:\n' .. (result.stderr or ''), vim.log.levels.ERROR)
        end
      end)
    end)
  end,
  ['victor.debugWorkflow'] = function(command)
    local file, name = lens_target(command)
    local ok, dap = pcall(require, 'dap')
    if not ok then
      return vim.notify('Debugging needs nvim-dap (see docs/neovim.md)', vim.log.levels.WARN)
    end
    dap.run({ type = 'victor-workflow', request = 'launch', name = 'Debug ' .. (name or file),
      program = file, workflow = name })
  end,
}

local victor_config = {
  cmd = { python, '-m', 'victor_lsp' },
  -- Workflow files are plain YAML (*.yaml, *.workflow.yaml); the server ignores YAML that is not a workflow.
  filetypes = { 'yaml' },
  root_markers = { 'victor.toml', '.git' },
  init_options = victor_settings,
  settings = { victor = victor_settings },
  commands = victor_commands,
  on_attach = function(client, bufnr)
    if client.server_capabilities.codeLensProvider then
      vim.lsp.codelens.refresh({ bufnr = bufnr })
      vim.api.nvim_create_autocmd({ 'BufEnter', 'InsertLeave', 'BufWritePost' }, {
        buffer = bufnr,
        callback = function() vim.lsp.codelens.refresh({ bufnr = bufnr }) end,
      })
    end
  end,
}

if vim.fn.has('nvim-0.11') == 1 then
  vim.lsp.config('victor', victor_config)
  vim.lsp.enable('victor')
else
  vim.api.nvim_create_autocmd('FileType', {
    pattern = victor_config.filetypes,
    callback = function(args)
      local marker = vim.fs.find(victor_config.root_markers,
        { upward = true, path = vim.fs.dirname(vim.api.nvim_buf_get_name(args.buf)) })[1]
      vim.lsp.start(vim.tbl_extend('force', victor_config, {
        name = 'victor',
        root_dir = marker and vim.fs.dirname(marker) or vim.fn.getcwd(),
      }), { bufnr = args.buf })
    end,
  })
end
