--[=[ par.jit.parser: pass 2 of parlua's kernel compiler.

Consumes a token stream (par.jit.lexer). Produces the AST of a whole Lua 5.4
chunk, with names resolved (par.jit.scope), or nil and a list of one error
record {file, line, col, msg} carrying Lua's own message for the same input
("'end' expected (to close 'function' at line 3) near <eof>").

  parser.parse(source [, chunkname [, isfile]])  -- as load, or loadfile
  parser.parse_file(path)                        -- as loadfile(path)
  parser.find_function(ast, linedefined, lastlinedefined [, info])

AST: plain tables {tag = ..., line = L, col = C, ...}; (line, col) is where
the token that introduces the node starts: its keyword, operator, bracket,
name or literal ('=' for Assign, '(' '{' or the string for Call).

  Function   params = {Decl}, is_vararg, is_method (self is params[1]),
             body = Block, linedefined, lastlinedefined (as debug.getinfo
             reports them), upvalues = {Decl}, globals = {name}
             The chunk is a Function with main = true, linedefined = 0,
             env = the Decl of its upvalue _ENV, functions = every nested
             Function in source order, chunkname.
  Block      stats = {statement}
  Decl       a declared variable: name, attrib ("const" | "close" | nil), id,
             captured, assigned, ctc (compile-time constant) and value;
             the chunk's _ENV is a Decl with implicit = true
statements:
  Local          vars = {Decl}, exprs = {expr}
  LocalFunction  var = Decl, func = Function
  FunctionStat   target = Name | Index, func = Function
  Assign         targets = {Name | Index}, exprs = {expr}
  Call, Invoke   (expressions used as statements)
  Do             body
  While          cond, body
  Repeat         body, cond (it sees the body's locals)
  If             clauses = {Clause {cond, body}}, orelse = Block | nil
  Fornum         var = Decl, start, limit, step = expr | nil, body
  Forin          vars = {Decl}, exprs = {expr}, body
  Return         exprs = {expr}
  Break, Goto {name, label = Label}, Label {name}
  While, Repeat, Fornum and Forin also get outer_assigns = {Decl}.
expressions:
  Nil, True, False, Dots, Number {value}, String {value}, Function, Paren {expr}
  Table      fields = {Field {key = expr | nil (positional), value}}
  Binop      op ("+" "-" "*" "/" "//" "%" "^" ".." "==" "~=" "<" "<=" ">" ">="
             "and" "or" "&" "|" "~" "<<" ">>"), lhs, rhs
  Unop       op ("-" "not" "#" "~"), operand
  Name       name, kind, decl, env (see par.jit.scope)
  Index      obj, key (a.b has key String "b")
  Call       func, args = {expr}
  Invoke     obj, method = name, args = {expr}
]=]

local lexer = require "par.jit.lexer"
local scope = require "par.jit.scope"

local M = {}

local format = string.format

-- Nesting allowed by Lua (LUAI_MAXCCALLS 200, less the C calls below its
-- parser when load runs from a script).
local MAXLEVELS = 198

---------------------------------------------------------------------------
-- Tokens and errors. ls: s (stream), i (current token), t (its kind),
-- sc (scope), fn (current Function), depth, functions.
---------------------------------------------------------------------------

local function raise (ls, line, col, msg)
  error(lexer.new_error(ls.s.chunk, line, col, msg), 0)
end

local function syntax_error (ls, msg)
  local s, i = ls.s, ls.i
  if s.kind[i] ~= "\0" then   -- Lua names no token for a NUL character
    msg = msg .. " near " .. lexer.near(s, i)
  end
  raise(ls, s.line[i], s.col[i], msg)
end

local function advance (ls)
  local i = ls.i + 1
  ls.i, ls.t = i, ls.s.kind[i]
  if ls.t == "<error>" then error(ls.s.err, 0) end
end

-- The kind of the next token (Lua's lookahead reads it now).
local function peek (ls)
  local s = ls.s
  if s.kind[ls.i + 1] == "<error>" then error(s.err, 0) end
  ls.peeked = ls.i + 1
  return s.kind[ls.i + 1]
end

-- The line where the current token ends (Lua's line number), or where the
-- looked-ahead one ends while a lookahead is pending, as Lua's lexer has
-- then read that far.
local function cur_line (ls)
  local s, i = ls.s, ls.i
  if ls.peeked == i + 1 then i = i + 1 end
  return s.eline[i] or s.line[i]
end

local function node (ls, tag)
  local s, i = ls.s, ls.i
  return {tag = tag, line = s.line[i], col = s.col[i]}
end

local function error_expected (ls, kind)
  syntax_error(ls, lexer.token2str(kind) .. " expected")
end

local function check (ls, kind)
  if ls.t ~= kind then error_expected(ls, kind) end
end

local function checknext (ls, kind)
  check(ls, kind)
  advance(ls)
end

local function testnext (ls, kind)
  if ls.t ~= kind then return false end
  advance(ls)
  return true
end

-- Closes a construct opened by 'who' at 'line'.
local function check_match (ls, what, who, line)
  if testnext(ls, what) then return end
  if line == cur_line(ls) then error_expected(ls, what) end
  syntax_error(ls, format("%s expected (to close %s at line %d)",
    lexer.token2str(what), lexer.token2str(who), line))
end

local function str_checkname (ls)
  check(ls, "<name>")
  local name = ls.s.value[ls.i]
  advance(ls)
  return name
end

local function enter_level (ls)
  ls.depth = ls.depth + 1
  if ls.depth >= MAXLEVELS then
    raise(ls, ls.s.line[ls.i], ls.s.col[ls.i], "C stack overflow")
  end
end

local function block_follow (ls, withuntil)
  local t = ls.t
  return t == "else" or t == "elseif" or t == "end" or t == "<eof>"
    or (withuntil and t == "until")
end

---------------------------------------------------------------------------
-- Expressions
---------------------------------------------------------------------------

local expr, statement, statlist, body

-- Lua's priorities of binary operators (left, right) and unary ones.
local left = {["or"] = 1, ["and"] = 2, ["<"] = 3, [">"] = 3, ["<="] = 3, [">="] = 3,
  ["~="] = 3, ["=="] = 3, ["|"] = 4, ["~"] = 5, ["&"] = 6, ["<<"] = 7, [">>"] = 7,
  [".."] = 9, ["+"] = 10, ["-"] = 10, ["*"] = 11, ["/"] = 11, ["//"] = 11, ["%"] = 11,
  ["^"] = 14}
local right = {[".."] = 8, ["^"] = 13}
for op, p in pairs(left) do right[op] = right[op] or p end
local UNARY_PRIORITY = 12
local unary = {["not"] = true, ["-"] = true, ["#"] = true, ["~"] = true}
M.left_priority, M.right_priority, M.unary_priority = left, right, UNARY_PRIORITY

local function name_node (ls)
  local n = node(ls, "Name")
  n.name = str_checkname(ls)
  ls.sc:resolve(n)
  return n
end

local function string_node (ls)
  local n = node(ls, "String")
  n.value = ls.s.value[ls.i]
  advance(ls)
  return n
end

local function explist (ls)
  local list = {expr(ls)}
  while testnext(ls, ",") do list[#list + 1] = expr(ls) end
  return list
end

local function field (ls)
  local f = node(ls, "Field")
  if ls.t == "<name>" and peek(ls) == "=" then
    f.key = string_node(ls)
  elseif ls.t == "[" then
    advance(ls)
    f.key = expr(ls)
    checknext(ls, "]")
  else
    f.value = expr(ls)
    return f
  end
  checknext(ls, "=")
  f.value = expr(ls)
  return f
end

local function constructor (ls)
  local line, t = cur_line(ls), node(ls, "Table")
  local fields = {}
  t.fields = fields
  checknext(ls, "{")
  repeat
    if ls.t == "}" then break end
    fields[#fields + 1] = field(ls)
  until not (testnext(ls, ",") or testnext(ls, ";"))
  check_match(ls, "}", "{", line)
  return t
end

-- Arguments of a call whose expression started at 'line'.
local function funcargs (ls, line)
  local t = ls.t
  if t == "(" then
    advance(ls)
    local args = ls.t == ")" and {} or explist(ls)
    check_match(ls, ")", "(", line)
    return args
  elseif t == "{" then
    return {constructor(ls)}
  elseif t == "<string>" then
    return {string_node(ls)}
  end
  syntax_error(ls, "function arguments expected")
end

local function primaryexp (ls)
  if ls.t == "<name>" then return name_node(ls) end
  if ls.t ~= "(" then syntax_error(ls, "unexpected symbol") end
  local line, p = cur_line(ls), node(ls, "Paren")
  advance(ls)
  p.expr = expr(ls)
  check_match(ls, ")", "(", line)
  return p
end

-- a.name or a:name
local function fieldsel (ls, obj)
  local n = node(ls, "Index")
  advance(ls)
  n.obj = obj
  n.key = node(ls, "String")
  n.key.value = str_checkname(ls)
  return n
end

local function suffixedexp (ls)
  local line = cur_line(ls)
  local e = primaryexp(ls)
  while true do
    local t, n = ls.t, nil
    if t == "." then
      n = fieldsel(ls, e)
    elseif t == "[" then
      n = node(ls, "Index")
      advance(ls)
      n.obj, n.key = e, expr(ls)
      checknext(ls, "]")
    elseif t == ":" then
      n = node(ls, "Invoke")
      advance(ls)
      n.obj, n.method = e, str_checkname(ls)
      n.args = funcargs(ls, line)
    elseif t == "(" or t == "<string>" or t == "{" then
      n = node(ls, "Call")
      n.func, n.args = e, funcargs(ls, line)
    else
      return e
    end
    e = n
  end
end

local literals = {["nil"] = "Nil", ["true"] = "True", ["false"] = "False", ["..."] = "Dots"}

local function simpleexp (ls)
  local t = ls.t
  if t == "<number>" then
    local n = node(ls, "Number")
    n.value = ls.s.value[ls.i]
    advance(ls)
    return n
  elseif t == "<string>" then
    return string_node(ls)
  elseif literals[t] then
    if t == "..." and not ls.fn.is_vararg then
      syntax_error(ls, "cannot use '...' outside a vararg function")
    end
    local n = node(ls, literals[t])
    advance(ls)
    return n
  elseif t == "{" then
    return constructor(ls)
  elseif t == "function" then
    local n = node(ls, "Function")
    advance(ls)
    return body(ls, n, false, cur_line(ls))
  end
  return suffixedexp(ls)
end

-- An expression whose binary operators all bind tighter than 'limit'.
local function subexpr (ls, limit)
  enter_level(ls)
  local e
  if unary[ls.t] then
    e = node(ls, "Unop")
    e.op = ls.t
    advance(ls)
    e.operand = subexpr(ls, UNARY_PRIORITY)
  else
    e = simpleexp(ls)
  end
  local op = ls.t
  while left[op] and left[op] > limit do
    local b = node(ls, "Binop")
    advance(ls)
    b.op, b.lhs, b.rhs = op, e, subexpr(ls, right[op])
    e, op = b, ls.t
  end
  ls.depth = ls.depth - 1
  return e
end

function expr (ls)
  return subexpr(ls, 0)
end

---------------------------------------------------------------------------
-- Functions and blocks
---------------------------------------------------------------------------

local function new_decl (ls)
  local d = node(ls, "Decl")
  d.name = str_checkname(ls)
  return d
end

local function parlist (ls, f)
  local params = f.params
  local n = #params
  if ls.t ~= ")" then
    repeat
      if ls.t == "<name>" then
        params[#params + 1] = new_decl(ls)
        ls.sc:declare(params[#params])
      elseif ls.t == "..." then
        advance(ls)
        f.is_vararg = true
      else
        syntax_error(ls, "<name> or '...' expected")
      end
    until f.is_vararg or not testnext(ls, ",")
  end
  ls.sc:activate(#params - n)
end

-- The parameters and body of function f, whose line is 'line'.
function body (ls, f, is_method, line)
  f.params, f.is_vararg, f.linedefined = {}, false, line
  ls.functions[#ls.functions + 1] = f
  local outer = ls.fn
  ls.fn = f
  ls.sc:open_function(f)
  checknext(ls, "(")
  if is_method then
    f.is_method = true
    f.params[1] = {tag = "Decl", name = "self", line = f.line, col = f.col}
    ls.sc:declare(f.params[1])
    ls.sc:activate(1)
  end
  parlist(ls, f)
  checknext(ls, ")")
  f.body = node(ls, "Block")
  f.body.stats = statlist(ls, {})
  f.lastlinedefined = cur_line(ls)
  check_match(ls, "end", "function", line)
  ls.sc:close_function()
  ls.fn = outer
  return f
end

-- A block in its own scope.
local function block (ls)
  local b = node(ls, "Block")
  ls.sc:enter_block(false)
  b.stats = statlist(ls, {})
  ls.sc:leave_block()
  return b
end

function statlist (ls, stats)
  while not block_follow(ls, true) do
    if ls.t == "return" then
      statement(ls, stats)
      break
    end
    statement(ls, stats)
  end
  return stats
end

---------------------------------------------------------------------------
-- Statements: each parser appends its node to the block's list.
---------------------------------------------------------------------------

local statements = {}

statements[";"] = advance

statements["if"] = function (ls, stats)
  local line, n = cur_line(ls), node(ls, "If")
  n.clauses = {}
  repeat
    local c = node(ls, "Clause")
    advance(ls)
    c.cond = expr(ls)
    checknext(ls, "then")
    c.body = block(ls)
    n.clauses[#n.clauses + 1] = c
  until ls.t ~= "elseif"
  if testnext(ls, "else") then n.orelse = block(ls) end
  check_match(ls, "end", "if", line)
  stats[#stats + 1] = n
end

statements["while"] = function (ls, stats)
  local line, n = cur_line(ls), node(ls, "While")
  advance(ls)
  ls.sc:open_loop(n)
  n.cond = expr(ls)
  ls.sc:enter_block(true)
  checknext(ls, "do")
  n.body = block(ls)
  check_match(ls, "end", "while", line)
  ls.sc:leave_block()
  ls.sc:close_loop()
  stats[#stats + 1] = n
end

statements["do"] = function (ls, stats)
  local line, n = cur_line(ls), node(ls, "Do")
  advance(ls)
  n.body = block(ls)
  check_match(ls, "end", "do", line)
  stats[#stats + 1] = n
end

statements["repeat"] = function (ls, stats)
  local line, n = cur_line(ls), node(ls, "Repeat")
  ls.sc:open_loop(n)
  ls.sc:enter_block(true)
  ls.sc:enter_block(false)     -- the body's scope, which 'until' sees
  advance(ls)
  n.body = node(ls, "Block")
  n.body.stats = statlist(ls, {})
  check_match(ls, "until", "repeat", line)
  n.cond = expr(ls)
  ls.sc:leave_block()
  ls.sc:leave_block()
  ls.sc:close_loop()
  stats[#stats + 1] = n
end

-- 'do' block of a for loop n with nvars variables; 'first' is the first
-- declaration id belonging to the loop.
local function forbody (ls, n, nvars, first)
  checknext(ls, "do")
  ls.sc:enter_block(false)
  ls.sc:activate(nvars)
  ls.sc:open_loop(n, first)
  n.body = block(ls)
  ls.sc:close_loop()
  ls.sc:leave_block()
end

local function fornum (ls, n, var, first)
  n.tag, n.var = "Fornum", var
  for _ = 1, 3 do ls.sc:declare() end
  ls.sc:declare(var)
  checknext(ls, "=")
  n.start = expr(ls)
  checknext(ls, ",")
  n.limit = expr(ls)
  if testnext(ls, ",") then n.step = expr(ls) end
  ls.sc:activate(3)
  forbody(ls, n, 1, first)
end

local function forlist (ls, n, var, first)
  n.tag, n.vars = "Forin", {var}
  for _ = 1, 4 do ls.sc:declare() end
  ls.sc:declare(var)
  while testnext(ls, ",") do
    n.vars[#n.vars + 1] = new_decl(ls)
    ls.sc:declare(n.vars[#n.vars])
  end
  checknext(ls, "in")
  n.exprs = explist(ls)
  ls.sc:activate(4)
  forbody(ls, n, #n.vars, first)
end

statements["for"] = function (ls, stats)
  local line, n = cur_line(ls), node(ls, "For")
  local first = ls.sc.nextid
  ls.sc:enter_block(true)
  advance(ls)
  local var = new_decl(ls)
  if ls.t == "=" then
    fornum(ls, n, var, first)
  elseif ls.t == "," or ls.t == "in" then
    forlist(ls, n, var, first)
  else
    syntax_error(ls, "'=' or 'in' expected")
  end
  check_match(ls, "end", "for", line)
  ls.sc:leave_block()
  stats[#stats + 1] = n
end

statements["function"] = function (ls, stats)
  local line, n = cur_line(ls), node(ls, "FunctionStat")
  local f = node(ls, "Function")
  advance(ls)
  local target = name_node(ls)
  while ls.t == "." do target = fieldsel(ls, target) end
  local is_method = ls.t == ":"
  if is_method then target = fieldsel(ls, target) end
  n.target, n.func = target, body(ls, f, is_method, line)
  ls.sc:assign(target)
  stats[#stats + 1] = n
end

local function attribute (ls, d)
  if not testnext(ls, "<") then return end
  local s, i = ls.s, ls.i
  local attrib = str_checkname(ls)
  checknext(ls, ">")
  if attrib ~= "const" and attrib ~= "close" then
    raise(ls, s.line[i], s.col[i], format("unknown attribute '%s'", attrib))
  end
  d.attrib = attrib
end

local function localstat (ls, n)
  n.tag, n.vars, n.exprs = "Local", {}, {}
  local closing = false
  repeat
    local d = new_decl(ls)
    ls.sc:declare(d)
    attribute(ls, d)
    if d.attrib == "close" then
      if closing then raise(ls, d.line, d.col, "multiple to-be-closed variables in local list") end
      closing = true
    end
    n.vars[#n.vars + 1] = d
  until not testnext(ls, ",")
  if testnext(ls, "=") then n.exprs = explist(ls) end
  ls.sc:local_constants(n.vars, n.exprs)
  ls.sc:activate(#n.vars)
end

local function localfunc (ls, n)
  local f = node(ls, "Function")
  advance(ls)
  n.tag, n.var = "LocalFunction", new_decl(ls)
  ls.sc:declare(n.var)
  ls.sc:activate(1)
  n.func = body(ls, f, false, cur_line(ls))
end

statements["local"] = function (ls, stats)
  local n = node(ls, "Local")
  advance(ls)
  if ls.t == "function" then localfunc(ls, n) else localstat(ls, n) end
  stats[#stats + 1] = n
end

-- Void statements after a label are parsed first, as Lua does: they decide
-- whether the label ends its block.
statements["::"] = function (ls, stats)
  local n = node(ls, "Label")
  advance(ls)
  n.name = str_checkname(ls)
  checknext(ls, "::")
  stats[#stats + 1] = n
  while ls.t == ";" or ls.t == "::" do statement(ls, stats) end
  ls.sc:label(n, block_follow(ls, false))
end

statements["return"] = function (ls, stats)
  local n = node(ls, "Return")
  advance(ls)
  n.exprs = (block_follow(ls, true) or ls.t == ";") and {} or explist(ls)
  testnext(ls, ";")
  stats[#stats + 1] = n
end

statements["break"] = function (ls, stats)
  local n = node(ls, "Break")
  advance(ls)
  ls.sc:jump(n, "break", n.line)
  stats[#stats + 1] = n
end

statements["goto"] = function (ls, stats)
  local n = node(ls, "Goto")
  advance(ls)
  local line = cur_line(ls)
  n.name = str_checkname(ls)
  ls.sc:jump(n, n.name, line)
  stats[#stats + 1] = n
end

-- targets {, target} = explist, its first target already read.
local function assignment (ls, first)
  local targets, depth = {first}, ls.depth
  local target = first
  while true do
    if target.tag ~= "Name" and target.tag ~= "Index" then syntax_error(ls, "syntax error") end
    ls.sc:assign(target)
    if not testnext(ls, ",") then break end
    target = suffixedexp(ls)
    targets[#targets + 1] = target
    enter_level(ls)
  end
  local n = node(ls, "Assign")
  checknext(ls, "=")
  n.targets, n.exprs = targets, explist(ls)
  ls.depth = depth
  return n
end

local function exprstat (ls, stats)
  local e = suffixedexp(ls)
  if ls.t == "=" or ls.t == "," then
    e = assignment(ls, e)
  elseif e.tag ~= "Call" and e.tag ~= "Invoke" then
    syntax_error(ls, "syntax error")
  end
  stats[#stats + 1] = e
end

function statement (ls, stats)
  enter_level(ls)
  local f = statements[ls.t] or exprstat
  f(ls, stats)
  ls.depth = ls.depth - 1
end

---------------------------------------------------------------------------
-- Entry points
---------------------------------------------------------------------------

local function mainfunc (ls)
  local f = {tag = "Function", main = true, line = 1, col = 1, linedefined = 0,
    lastlinedefined = 0, params = {}, is_vararg = true}
  ls.fn = f
  ls.sc:open_function(f)
  advance(ls)
  f.body = node(ls, "Block")
  f.body.stats = statlist(ls, {})
  check(ls, "<eof>")
  ls.sc:close_function()
  f.functions = ls.functions
  return f
end

-- Parses a chunk as load(source, chunkname) would (chunkname defaults to
-- the source); 'isfile' reads it as loadfile does. Returns the AST, or nil
-- and a list of one error record.
function M.parse (source, chunkname, isfile)
  chunkname = chunkname or source
  local ls = {s = lexer.scan(source, chunkname, isfile), i = 0, depth = 0, functions = {}}
  ls.sc = scope.new{
    syntax = function (msg) syntax_error(ls, msg) end,
    semantic = function (msg, line, col) raise(ls, line, col, msg) end,
  }
  local ok, res = pcall(mainfunc, ls)
  if ok then
    res.chunkname = chunkname
    return res
  end
  if not lexer.is_error(res) then error(res, 0) end
  return nil, {res}
end

function M.parse_file (path)
  local f, err = io.open(path, "rb")
  if not f then return nil, {lexer.new_error(path, nil, nil, "cannot open " .. err)} end
  local source = f:read("a")
  f:close()
  return M.parse(source, "@" .. path, true)
end

local function same_upvalues (f, names)
  for k, d in ipairs(f.upvalues) do
    if names[k] ~= d.name then return false end
  end
  return #names == #f.upvalues
end

-- Whether Function f fits what debug.getinfo(fn, "u") reports (nparams,
-- isvararg, nups) and, given as info.upvalues, the names from
-- debug.getupvalue.
local function fits (f, info)
  return (info.nparams == nil or info.nparams == #f.params)
    and (info.isvararg == nil or info.isvararg == f.is_vararg)
    and (info.nups == nil or info.nups == #f.upvalues)
    and (info.upvalues == nil or same_upvalues(f, info.upvalues))
end

-- The Function of the chunk whose lines are those debug.getinfo reports
-- (0, 0 for the main chunk). When several share those lines, 'info' (see
-- fits) tells them apart. Returns the Function, or nil and a message.
function M.find_function (ast, linedefined, lastlinedefined, info)
  info = info or {}
  local found, count = nil, 0
  local candidates = linedefined == 0 and {ast} or ast.functions
  for _, f in ipairs(candidates) do
    if f.linedefined == linedefined and f.lastlinedefined == lastlinedefined and fits(f, info) then
      found, count = found or f, count + 1
    end
  end
  if count == 1 then return found end
  return nil, format("%s functions defined at lines %d-%d in %s", count == 0 and "no" or count,
    linedefined, lastlinedefined, lexer.chunkid(ast.chunkname))
end

return M
