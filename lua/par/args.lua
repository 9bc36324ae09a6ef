-- par.args: command-line options for experiment scripts.
--
--   local opts = require("par.args").parse(arg, {
--     {"households", 50000, "number of households"},
--     {"plot", false, "draw the histogram"},
--   }, "parlua scripts/wealth.lua [options]")
--
-- Accepts "--name value", "--name=value" and, for boolean options, "--name".
-- Values take the type of the default. "--help" prints the usage and exits.
-- A bad option or value raises an error naming it.
local M = {}

local function usage(spec, synopsis)
  local lines = {"usage: " .. synopsis, "options:"}
  for _, o in ipairs(spec) do
    local name, default, help = o[1], o[2], o[3]
    local value = ({number = " N", string = " TEXT"})[type(default)] or ""
    lines[#lines + 1] = string.format("  --%-18s %s (default: %s)", name .. value, help, tostring(default))
  end
  lines[#lines + 1] = string.format("  --%-18s %s", "help", "show this help and exit")
  return table.concat(lines, "\n")
end

local function convert(name, default, text)
  local kind = type(default)
  if kind == "number" then
    local int = math.type(default) == "integer"
    local v = int and math.tointeger(tonumber(text)) or tonumber(text)
    if v == nil then
      error(string.format("option '--%s' expects %s, got '%s'", name,
        int and "an integer" or "a number", text), 0)
    end
    return v
  elseif kind == "boolean" then
    if text == "true" or text == "1" then return true end
    if text == "false" or text == "0" then return false end
    error(string.format("option '--%s' expects true or false, got '%s'", name, text), 0)
  end
  return text
end

-- Parses the script's arguments 'argv' against 'spec' and returns a table of
-- values by option name.
function M.parse(argv, spec, synopsis)
  local byname, values = {}, {}
  for _, o in ipairs(spec) do
    byname[o[1]] = o
    values[o[1]] = o[2]
  end
  local i = 1
  while argv[i] ~= nil do
    local a = argv[i]
    if a == "--help" then
      print(usage(spec, synopsis))
      os.exit(0)
    end
    local name, inline = a:match("^%-%-([%w_%-]+)=(.*)$")
    name = name or a:match("^%-%-([%w_%-]+)$")
    local o = name and byname[name]
    if o == nil then
      error(string.format("unknown option '%s' (try --help)", a), 0)
    end
    local text = inline
    if text == nil and type(o[2]) == "boolean" then
      text = "true"
    elseif text == nil then
      i = i + 1
      text = argv[i]
      if text == nil then error(string.format("option '--%s' needs a value", name), 0) end
    end
    values[name] = convert(name, o[2], text)
    i = i + 1
  end
  return values
end

return M
