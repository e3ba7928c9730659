-- process.lua -- asched.process: run(argv [, opts]) on the C primitive
-- (runtime/process.c), with `timeout` through wait_for: on expiry the child is
-- killed and TimeoutError raised.
local asched, prim = ...

local process_run, arg_error, type_name = prim.process_run, prim.arg_error, prim.type_name
local type, format, ipairs, pairs = type, string.format, ipairs, pairs

asched.process = {}

local function check_options(opts)
  for _, field in ipairs({"stdin", "cwd"}) do
    local value = opts[field]
    if value ~= nil and type(value) ~= "string" then
      arg_error(2, "run", format("%s must be a string, got %s", field, type_name(value)))
    end
  end
  if opts.env ~= nil then
    if type(opts.env) ~= "table" then
      arg_error(2, "run", format("env must be a table, got %s", type_name(opts.env)))
    end
    for name, value in pairs(opts.env) do
      if type(name) ~= "string" or (type(value) ~= "string" and type(value) ~= "number") then
        arg_error(2, "run", "env must map names to strings")
      end
    end
  end
end

-- run(argv [, {stdin=, cwd=, env=, timeout=}]) -> {code=, signal=, stdout=, stderr=}
function asched.process.run(argv, opts)
  if type(argv) ~= "table" then
    arg_error(1, "run", format("table expected, got %s", type_name(argv)))
  end
  if opts ~= nil and type(opts) ~= "table" then
    arg_error(2, "run", format("table expected, got %s", type_name(opts)))
  end
  if #argv == 0 then arg_error(1, "run", "argv must name a program") end
  for i = 1, #argv do
    if type(argv[i]) ~= "string" then
      arg_error(1, "run", format("argv[%d] must be a string, got %s", i, type_name(argv[i])))
    end
  end
  if opts then check_options(opts) end
  local timeout = opts and opts.timeout
  if timeout == nil then return process_run(argv, opts) end
  if type(timeout) ~= "number" or timeout ~= timeout then
    arg_error(2, "run", format("timeout must be a number, got %s", type_name(timeout)))
  end
  return asched.wait_for(function() return process_run(argv, opts) end, timeout)
end
