--[=[ par.jit.check: pass 3 of parlua's kernel compiler.

Consumes a Function of the AST (par.jit.parser) and its chunk name.
Produces true, or nil and a list of error records {file, line, col, msg}
naming the first construct outside the native subset (API.md section 5),
in source order:
  "tests/k.lua:12:9: table constructor is not supported in native code"
The check is syntactic: what depends on types (a number where an array is
needed, a call of a non-function) is reported by par.jit.types. Nested
functions are checked when they are compiled (as callees), not here, except
the function expressions a kernel defines, which it can only call.
]=]

local lexer = require "par.jit.lexer"

local M = {}

local format = string.format

local stat_names = {
  Goto = "'goto'", Label = "label", FunctionStat = "function statement (assigns a global or field)",
}

local expr_names = {
  Nil = "nil value", Dots = "vararg expression '...'", String = "string value",
  Table = "table constructor", Function = "function value (only 'local function' is supported)",
}

local unsupported_binop = {[".."] = "string concatenation '..'"}

local function fail (st, node, what)
  error(lexer.new_error(st.file, node.line, node.col,
    what .. " is not supported in native code"), 0)
end

local check_block, check_expr

-- error("msg") and assert(c, "msg") may carry a string literal message.
local function message_call (e)
  local f = e.func
  return f.tag == "Name" and f.kind == "global" and (f.name == "error" or f.name == "assert")
end

local function check_call (st, e)
  if e.tag == "Invoke" then check_expr(st, e.obj) else check_expr(st, e.func) end
  for k, a in ipairs(e.args) do
    if not (a.tag == "String" and e.tag == "Call" and message_call(e)
            and k == (e.func.name == "error" and 1 or 2)) then
      check_expr(st, a)
    end
  end
end

function check_expr (st, e)
  local tag = e.tag
  if expr_names[tag] then fail(st, e, expr_names[tag]) end
  if tag == "Binop" then
    if unsupported_binop[e.op] then fail(st, e, unsupported_binop[e.op]) end
    check_expr(st, e.lhs)
    check_expr(st, e.rhs)
  elseif tag == "Unop" then
    check_expr(st, e.operand)
  elseif tag == "Paren" then
    check_expr(st, e.expr)
  elseif tag == "Index" then
    check_expr(st, e.obj)
    if e.key.tag ~= "String" then check_expr(st, e.key) end
  elseif tag == "Call" or tag == "Invoke" then
    check_call(st, e)
  end
end

-- 'for i in par.prange(n)' (the only generic for).
local function is_prange (s)
  local e = s.exprs[1]
  return #s.vars == 1 and #s.exprs == 1 and e.tag == "Call" and e.func.tag == "Index"
    and e.func.obj.tag == "Name" and e.func.obj.name == "par"
    and e.func.key.tag == "String" and e.func.key.value == "prange" and #e.args == 1
end

local function check_stat (st, s)
  local tag = s.tag
  if stat_names[tag] then fail(st, s, stat_names[tag]) end
  if tag == "Local" then
    for _, d in ipairs(s.vars) do
      if d.attrib == "close" then fail(st, s, "to-be-closed variable") end
    end
    if #s.exprs == 1 and #s.vars == 1 and s.exprs[1].tag == "Function" then
      check_block(st, s.exprs[1].body)   -- 'local f = function ... end'
      return
    end
    for _, e in ipairs(s.exprs) do check_expr(st, e) end
  elseif tag == "LocalFunction" then
    if s.func.is_vararg then fail(st, s.func, "vararg function") end
    check_block(st, s.func.body)
  elseif tag == "Assign" then
    for _, t in ipairs(s.targets) do
      if t.tag == "Index" then check_expr(st, t) end
    end
    for _, e in ipairs(s.exprs) do check_expr(st, e) end
  elseif tag == "Call" or tag == "Invoke" then
    check_call(st, s)
  elseif tag == "Do" then
    check_block(st, s.body)
  elseif tag == "While" or tag == "Repeat" then
    check_expr(st, s.cond)
    check_block(st, s.body)
  elseif tag == "If" then
    for _, c in ipairs(s.clauses) do
      check_expr(st, c.cond)
      check_block(st, c.body)
    end
    if s.orelse then check_block(st, s.orelse) end
  elseif tag == "Fornum" then
    check_expr(st, s.start)
    check_expr(st, s.limit)
    if s.step then check_expr(st, s.step) end
    check_block(st, s.body)
  elseif tag == "Forin" then
    if not is_prange(s) then
      fail(st, s, "generic 'for' (other than 'for i in par.prange(n)')")
    end
    check_expr(st, s.exprs[1].args[1])
    check_block(st, s.body)
  elseif tag == "Return" then
    for _, e in ipairs(s.exprs) do check_expr(st, e) end
  end
end

function check_block (st, b)
  for _, s in ipairs(b.stats) do check_stat(st, s) end
end

M.is_prange = is_prange

-- Checks Function f of a chunk named 'chunkname' (as debug.getinfo's
-- source). Returns true, or nil and {error record}.
function M.check (f, chunkname)
  local st = {file = lexer.chunkid(chunkname)}
  local ok, err = pcall(function ()
    if f.is_vararg and not f.main then fail(st, f, "vararg function") end
    if f.main then fail(st, f, "main chunk as a kernel") end
    check_block(st, f.body)
  end)
  if ok then return true end
  if not lexer.is_error(err) then error(err, 0) end
  return nil, {err}
end

return M
