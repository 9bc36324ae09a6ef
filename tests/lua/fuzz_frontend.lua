-- fuzz_frontend.lua: fuzzing of the kernel compiler's front end
-- (par.jit.lexer, par.jit.parser with par.jit.scope, par.jit.ast_print)
-- by a grammar-based generator of Lua 5.4 chunks and by mutations of them.
-- For every input the parser must return an AST or a clean error record,
-- never raise; it must accept exactly what Lua's load accepts, with load's
-- message; an AST must print back to source that parses to the
-- same AST and prints the same again.
-- Runs for PARLUA_FUZZ_SECONDS (default 2) from seed PARLUA_FUZZ_SEED
-- (default 1: the normal suite is deterministic); .ci/stages/fuzz.sh runs
-- it longer from a fresh seed. A failing input is written to a file named
-- in the error (PARLUA_FUZZ_OUT, default the system's temporary folder).
print("testing the kernel compiler's front end with generated and mutated source")

local ok_lexer, lexer = pcall(require, "par.jit.lexer")
if not ok_lexer then
  print("  (par.jit.lexer not found: skipped)")
  return
end
local parser = require "par.jit.parser"
local ast_print = require "par.jit.ast_print"

local seconds = tonumber(os.getenv("PARLUA_FUZZ_SECONDS")) or 2
local seed = math.tointeger(tonumber(os.getenv("PARLUA_FUZZ_SEED"))) or 1
local clock = par and par.clock or os.clock
local rng = par and par.rng and par.rng(seed)

-- 1..n (the global math.random must stay untouched: other code may use it)
local state = seed
local function rnd (n)
  if rng then return rng:integers(1, n + 1) end
  state = state * 6364136223846793005 + 1442695040888963407
  return (state >> 33) % n + 1
end
local function pick (t) return t[rnd(#t)] end
local function chance (k) return rnd(k) == 1 end

---------------------------------------------------------------------------
-- The generator: random chunks over the whole grammar, mostly valid.
-- env: names in scope, flags (in a loop, vararg function), a counter.
---------------------------------------------------------------------------

local gen_expr, gen_block

local numerals = {"0", "1", "42", "3.0", "0.5", ".5", "5.", "1e10", "1E-3", "0x10", "0XfF",
  "0x.8p1", "0x1P-2", "9223372036854775807", "9223372036854775808", "0x7fffffffffffffff",
  "0xffffffffffffffff", "1e309", "0x1p1024", "00012", "3e+2"}
local strings = {'"a"', "'b'", '"\\n\\t\\\\"', "'\\x41\\65\\u{48}'", '"\\z\n   x"',
  "[[long]]", "[==[with ]] inside]==]", "'\\''", '""', '"\\u{7FFFFFFF}"', "[[\nfirst newline]]",
  '"\\0\\255"'}
local binops = {"+", "-", "*", "/", "//", "%", "^", "..", "==", "~=", "<", "<=", ">", ">=",
  "and", "or", "&", "|", "~", "<<", ">>"}
local unops = {"-", "not ", "#", "~", "- "}

local function name (env)
  return pick(env.names)
end

local function args (env, depth)
  local r = rnd(6)
  if r == 1 then return pick(strings) end
  if r == 2 then return "{" .. gen_expr(env, depth) .. "}" end
  local t = {}
  for i = 1, rnd(4) - 1 do t[i] = gen_expr(env, depth) end
  if env.vararg and chance(4) then t[#t + 1] = "..." end
  return "(" .. table.concat(t, ", ") .. ")"
end

-- A prefix expression: a name, a field, an index, a call, a method call.
local function prefix (env, depth)
  local e = chance(6) and "(" .. gen_expr(env, depth) .. ")" or name(env)
  for _ = 1, rnd(3) - 1 do
    local r = rnd(5)
    if r == 1 then e = e .. "." .. pick{"x", "y", "end_", "_1"}
    elseif r == 2 then e = e .. "[" .. gen_expr(env, depth) .. "]"
    elseif r == 3 then e = e .. args(env, depth)
    elseif r == 4 then e = e .. ":" .. pick{"m", "n"} .. args(env, depth)
    else e = e .. pick{"", " "} .. pick(strings) end
  end
  return e
end

local function constructor (env, depth)
  local fields = {}
  for i = 1, rnd(5) - 1 do
    local r = rnd(3)
    fields[i] = r == 1 and gen_expr(env, depth)
      or r == 2 and pick{"x", "y", "k"} .. " = " .. gen_expr(env, depth)
      or "[" .. gen_expr(env, depth) .. "] = " .. gen_expr(env, depth)
  end
  local sep = pick{", ", "; ", ","}
  return "{" .. table.concat(fields, sep) .. (chance(3) and sep or "") .. "}"
end

local function funcbody (env, depth, params)
  local p = params or {}
  local inner = {names = {table.unpack(env.names)}, count = env.count, vararg = false,
    loop = false, labels = {}}
  for _, n in ipairs(p) do inner.names[#inner.names + 1] = n end
  if chance(3) then
    inner.vararg = true
    p[#p + 1] = "..."
  end
  local body = gen_block(inner, depth - 1)
  env.count = inner.count
  return "(" .. table.concat(p, ", ") .. ")\n" .. body .. "end"
end

function gen_expr (env, depth)
  depth = depth - 1
  local r = rnd(depth > 0 and 12 or 5)
  if r == 1 then return pick(numerals) end
  if r == 2 then return pick(strings) end
  if r == 3 then return pick{"nil", "true", "false"} end
  if r == 4 then return env.vararg and chance(3) and "..." or name(env) end
  if r == 5 then return prefix(env, 0) end
  if r <= 7 then
    return gen_expr(env, depth) .. " " .. pick(binops) .. " " .. gen_expr(env, depth)
  end
  if r == 8 then return pick(unops) .. gen_expr(env, depth) end
  if r == 9 then return constructor(env, depth) end
  if r == 10 then return "function " .. funcbody(env, depth, {"a", "b"}) end
  if r == 11 then return "(" .. gen_expr(env, depth) .. ")" end
  return prefix(env, depth)
end

local function explist (env, depth, n)
  local t = {}
  for i = 1, n or rnd(3) do t[i] = gen_expr(env, depth) end
  return table.concat(t, ", ")
end

-- A new local name, visible after the statement that declares it.
local function newname (env)
  env.count = env.count + 1
  return pick{"v", "w", "_"} .. env.count
end

local function declare (env, names)
  for _, n in ipairs(names) do env.names[#env.names + 1] = n end
end

local function loop_body (env, depth)
  local was = env.loop
  env.loop = true
  local b = gen_block(env, depth)
  env.loop = was
  return b
end

local function gen_stat (env, depth)
  local r = rnd(depth > 0 and 18 or 8)
  if r == 1 then
    local names = {newname(env), chance(2) and newname(env) or nil}
    local attrib = pick{"", "", " <const>", " <close>"}
    local s = "local " .. names[1] .. attrib .. (names[2] and ", " .. names[2] or "")
    if attrib == "" or chance(2) then s = s .. " = " .. explist(env, depth) end
    declare(env, names)
    return s
  elseif r == 2 then
    return prefix(env, depth) .. pick{".f", "[1]", ""} .. ", " .. name(env) .. " = "
      .. explist(env, depth)
  elseif r == 3 then return name(env) .. " = " .. gen_expr(env, depth)
  elseif r == 4 then return prefix(env, depth) .. args(env, depth)
  elseif r == 5 then return ";"
  elseif r == 6 then
    local l = "l" .. env.count
    env.count = env.count + 1
    env.labels[#env.labels + 1] = l
    return "::" .. l .. "::"
  elseif r == 7 then
    return #env.labels > 0 and "goto " .. pick(env.labels) or "goto nowhere"
  elseif r == 8 then return env.loop and "break" or "do end"
  elseif r == 9 then return "do\n" .. gen_block(env, depth - 1) .. "end"
  elseif r == 10 then
    return "while " .. gen_expr(env, depth) .. " do\n" .. loop_body(env, depth - 1) .. "end"
  elseif r == 11 then
    return "repeat\n" .. loop_body(env, depth - 1) .. "until " .. gen_expr(env, depth)
  elseif r == 12 then
    local v = newname(env)
    local saved = #env.names
    declare(env, {v})
    local s = "for " .. v .. " = " .. explist(env, depth, rnd(2) + 1) .. " do\n"
      .. loop_body(env, depth - 1) .. "end"
    env.names[saved + 1] = nil
    return s
  elseif r == 13 then
    local vs = {newname(env), newname(env)}
    local saved = #env.names
    local e = explist(env, depth)
    declare(env, vs)
    local s = "for " .. table.concat(vs, ", ") .. " in " .. e .. " do\n"
      .. loop_body(env, depth - 1) .. "end"
    for k = #env.names, saved + 1, -1 do env.names[k] = nil end
    return s
  elseif r == 14 then
    local s = "if " .. gen_expr(env, depth) .. " then\n" .. gen_block(env, depth - 1)
    for _ = 1, rnd(3) - 1 do
      s = s .. "elseif " .. gen_expr(env, depth) .. " then\n" .. gen_block(env, depth - 1)
    end
    return s .. (chance(2) and "else\n" .. gen_block(env, depth - 1) or "") .. "end"
  elseif r == 15 then
    local n = newname(env)
    declare(env, {n})
    return "local function " .. n .. funcbody(env, depth, {"p"})
  elseif r == 16 then
    return "function " .. name(env) .. pick{"", ".a", ".a.b", ":m"} .. funcbody(env, depth, {})
  elseif r == 17 then return "print(" .. explist(env, depth) .. ")"
  end
  return "local t" .. env.count .. " = " .. constructor(env, depth)
end

function gen_block (env, depth)
  local saved_names, saved_labels, lines = #env.names, #env.labels, {}
  for i = 1, rnd(5) - 1 do lines[i] = gen_stat(env, depth) end
  if chance(4) then lines[#lines + 1] = "return" .. pick{"", " "} .. explist(env, depth)
    .. pick{"", ";"} end
  for k = #env.names, saved_names + 1, -1 do env.names[k] = nil end
  for k = #env.labels, saved_labels + 1, -1 do env.labels[k] = nil end
  local text = table.concat(lines, pick{"\n", " ", "\n\n", "\r\n", " -- c\n", " --[[ c ]] "})
  return text .. "\n"
end

local function gen_chunk ()
  local env = {names = {"a", "b", "t", "print", "math"}, count = 0, vararg = true,
    loop = false, labels = {}}
  local head = chance(8) and "#!/usr/bin/parlua\n" or ""
  return head .. gen_block(env, rnd(4))
end

---------------------------------------------------------------------------
-- Mutations of a chunk: bytes and tokens removed, repeated, swapped,
-- inserted; truncation.
---------------------------------------------------------------------------

local tokens = {"end", "do", "then", "(", ")", "[", "]", "{", "}", "=", "==", ",", ";", ":",
  "::", ".", "..", "...", "local", "function", "return", "break", "goto", "<const>",
  "<close>", "[[", "]]", "--[[", "'", '"', "\\", "\n", "\r", "0x", "1e", "..=", "~", "<<",
  "//", "#", "@", "$", "`", "\0", "\255", "\xe2\x82\xac", "if", "else", "elseif", "until"}

local function mutate (s)
  for _ = 1, rnd(3) do
    local n = #s
    local i = rnd(n + 1)
    local j = math.min(n, i + rnd(8) - 1)
    local r = rnd(7)
    if r == 1 then s = s:sub(1, i - 1) .. s:sub(j + 1)                       -- delete
    elseif r == 2 then s = s:sub(1, i - 1) .. pick(tokens) .. s:sub(i)       -- insert
    elseif r == 3 then s = s:sub(1, j) .. s:sub(i, j) .. s:sub(j + 1)        -- repeat
    elseif r == 4 then s = s:sub(1, i - 1) .. string.char(rnd(256) - 1) .. s:sub(i + 1)
    elseif r == 5 then s = s:sub(1, i)                                       -- truncate
    elseif r == 6 then                                                       -- swap
      local k = rnd(n + 1)
      local a, b = math.min(i, k), math.max(i, k)
      s = s:sub(1, a - 1) .. s:sub(b, b) .. s:sub(a + 1, b - 1) .. s:sub(a, a) .. s:sub(b + 1)
    else s = s:sub(1, i - 1) .. string.rep("(", rnd(300)) .. s:sub(i) end   -- nesting
  end
  return s
end

---------------------------------------------------------------------------
-- The checks
---------------------------------------------------------------------------

-- Structural equality of two ASTs, source positions aside; links to
-- declarations are compared as the path they were first met at.
local positions = {line = true, col = true, linedefined = true, lastlinedefined = true,
  chunkname = true}
local function same_ast (a, b, seen, path)
  if type(a) ~= "table" or type(b) ~= "table" then
    if a == b or (a ~= a and b ~= b) then
      return math.type(a) == math.type(b) or nil, path
    end
    return nil, path .. ": " .. tostring(a) .. " vs " .. tostring(b)
  end
  if seen[a] ~= nil then return seen[a] == b or nil, path end
  seen[a] = b
  for k, v in pairs(a) do
    if not positions[k] then
      local ok, where = same_ast(v, b[k], seen, path .. "." .. tostring(k))
      if not ok then return nil, where end
    end
  end
  for k in pairs(b) do
    if not positions[k] and a[k] == nil then return nil, path .. "." .. tostring(k) end
  end
  return true
end

local outdir = os.getenv("PARLUA_FUZZ_OUT")

-- Saves a failing input and raises with the reason and where it is.
local function finding (src, case, why)
  local path = outdir and (outdir .. "/frontend-" .. seed .. "-" .. case .. ".lua")
    or os.tmpname()
  local f = io.open(path, "wb")
  if f then
    f:write(src)
    f:close()
  end
  error(string.format("front end: %s\n  (seed %d, case %d; input saved in %s)",
                      why, seed, case, path), 0)
end

-- The message of load's error without its position (the parser puts a
-- semantic error, such as a goto without a label, at the construct; load
-- at the point where it noticed, the end of the block).
-- A runtime error in load ("C stack overflow") passes through the message
-- handler of the script, which may add a traceback.
local function message (lerr)
  return (lerr:gsub("^fuzz:%d+: ", "", 1):gsub("\nstack traceback:.*", ""))
end

local counts = {accepted = 0, refused = 0}

local function check (src, case)
  -- load reads a chunk starting with ESC as precompiled code; the kernel
  -- compiler only ever reads source
  if src:byte(1) == 27 then src = " " .. src end
  local ok, ast, errs = pcall(parser.parse, src, "=fuzz")
  if not ok then finding(src, case, "parser raised: " .. tostring(ast)) end
  local fn, lerr = load(src, "=fuzz", "t")
  if not ast then
    if type(errs) ~= "table" or not lexer.is_error(errs[1]) then
      finding(src, case, "no AST and no error record")
    end
    local e = errs[1]
    if type(e.msg) ~= "string" or math.type(e.line) ~= "integer" or math.type(e.col) ~= "integer" then
      finding(src, case, "malformed error record " .. tostring(e))
    end
    if fn then finding(src, case, "refused what load accepts: " .. tostring(e)) end
    if e.file ~= "fuzz" or e.msg ~= message(lerr) then
      finding(src, case, "error '" .. tostring(e) .. "', load says '" .. lerr .. "'")
    end
    counts.refused = counts.refused + 1
    return
  end
  if not fn then finding(src, case, "accepted what load refuses: " .. lerr) end
  local text = ast_print.tostring(ast)
  local ast2, errs2 = parser.parse(text, "=reprint")
  if not ast2 then
    finding(src, case, "printed AST does not parse: " .. tostring(errs2[1]) .. "\n" .. text)
  end
  local same, where = same_ast(ast, ast2, {}, "ast")
  if not same then finding(src, case, "printed AST parses differently at " .. where) end
  if ast_print.tostring(ast2) ~= text then finding(src, case, "printing is not stable") end
  if not load(text, "=reprint") then finding(src, case, "load refuses the printed AST") end
  counts.accepted = counts.accepted + 1
end

local start, case = clock(), 0
repeat
  case = case + 1
  local src = gen_chunk()
  check(src, case)
  for _ = 1, 3 do
    case = case + 1
    check(mutate(src), case)
  end
until clock() - start >= seconds
print(string.format("  %d inputs in %.1f s (seed %d): %d parsed and printed back, %d refused",
                    case, clock() - start, seed, counts.accepted, counts.refused))
assert(counts.accepted > 0 and counts.refused > 0)
print("OK")
