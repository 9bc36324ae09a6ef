--[=[ par.jit.ast_print: AST (par.jit.parser) back to Lua source.

Consumes any AST node: a chunk, a Function, a Block, a statement or an
expression. Produces Lua source text that parses back to the same AST
(positions aside), two spaces of indentation per level.

  ast_print.tostring(node [, {full = true}])

Parentheses come from Paren nodes, plus those that Lua's priorities
require (for ASTs not built from source); 'full' also parenthesises every
operator, to show how an expression was grouped.
]=]

local parser = require "par.jit.parser"
local lexer = require "par.jit.lexer"

local M = {}

local format, rep, concat = string.format, string.rep, table.concat
local left, right, UNARY = parser.left_priority, parser.right_priority, parser.unary_priority

local function is_name (s)
  return s:find("^[A-Za-z_][A-Za-z0-9_]*$") ~= nil and not lexer.keywords[s]
end

local escapes = {["\a"] = "\\a", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
  ["\r"] = "\\r", ["\t"] = "\\t", ["\v"] = "\\v", ['"'] = '\\"', ["\\"] = "\\\\"}

local function quote (s)
  return '"' .. s:gsub('[\0-\31"\\\127]', function (c)
    return escapes[c] or format("\\%03d", c:byte())
  end) .. '"'
end

-- The shortest numeral that reads back as v (integers below zero in hex:
-- a '-' would read back as an operator).
local function numeral (v)
  if math.type(v) == "integer" then return format(v < 0 and "0x%x" or "%d", v) end
  if v ~= v then return "(0/0)" end
  if v == math.huge or v == -math.huge then return v > 0 and "1e9999" or "-1e9999" end
  local s
  for digits = 15, 17 do
    s = format("%." .. digits .. "g", v)
    if tonumber(s) == v then break end
  end
  return s:find("[.eE]") and s or s .. ".0"
end

---------------------------------------------------------------------------
-- Expressions: each printer returns a string. p: {level, full}.
---------------------------------------------------------------------------

local exprs, block_lines = {}, nil

local function expr (p, e)
  return exprs[e.tag](p, e)
end

local function list (p, es)
  local parts = {}
  for i, e in ipairs(es) do parts[i] = expr(p, e) end
  return concat(parts, ", ")
end

-- Only names, indexing, calls and parentheses may be called or indexed.
local prefix_tags = {Name = true, Index = true, Call = true, Invoke = true, Paren = true}

local function prefix (p, e)
  local s = expr(p, e)
  return prefix_tags[e.tag] and s or "(" .. s .. ")"
end

-- Whether e reads as a unary operation (a negative numeral prints with '-').
local function unary_like (e)
  if e.tag == "Number" then
    return math.type(e.value) == "float" and (e.value < 0 or 1 / e.value < 0)
  end
  return e.tag == "Unop"
end

-- Parentheses needed around operand e of operator 'op' on 'side'.
local function needs_parens (e, op, side)
  if side == "lhs" then
    if unary_like(e) then return left[op] > UNARY end
    return e.tag == "Binop" and left[op] > right[e.op]
  end
  return e.tag == "Binop" and left[e.op] <= right[op]
end

local function operand (p, e, op, side)
  local s = expr(p, e)
  if not p.full and needs_parens(e, op, side) then return "(" .. s .. ")" end
  return s
end

exprs.Binop = function (p, e)
  local s = operand(p, e.lhs, e.op, "lhs") .. " " .. e.op .. " " .. operand(p, e.rhs, e.op, "rhs")
  return p.full and "(" .. s .. ")" or s
end

exprs.Unop = function (p, e)
  local s = expr(p, e.operand)
  if not p.full and e.operand.tag == "Binop" and left[e.operand.op] <= UNARY then
    s = "(" .. s .. ")"
  end
  local op = e.op == "not" and "not " or e.op
  if op == "-" and s:sub(1, 1) == "-" then op = "- " end
  s = op .. s
  return p.full and "(" .. s .. ")" or s
end

exprs.Nil = function () return "nil" end
exprs.True = function () return "true" end
exprs.False = function () return "false" end
exprs.Dots = function () return "..." end
exprs.Number = function (_, e) return numeral(e.value) end
exprs.String = function (_, e) return quote(e.value) end
exprs.Name = function (_, e) return e.name end
exprs.Paren = function (p, e) return "(" .. expr(p, e.expr) .. ")" end

exprs.Index = function (p, e)
  local key = e.key
  if key.tag == "String" and is_name(key.value) then
    return prefix(p, e.obj) .. "." .. key.value
  end
  return prefix(p, e.obj) .. "[" .. expr(p, key) .. "]"
end

exprs.Call = function (p, e)
  return prefix(p, e.func) .. "(" .. list(p, e.args) .. ")"
end

exprs.Invoke = function (p, e)
  return prefix(p, e.obj) .. ":" .. e.method .. "(" .. list(p, e.args) .. ")"
end

exprs.Table = function (p, e)
  local parts = {}
  for i, f in ipairs(e.fields) do
    local key, value = f.key, expr(p, f.value)
    if not key then
      parts[i] = value
    elseif key.tag == "String" and is_name(key.value) then
      parts[i] = key.value .. " = " .. value
    else
      parts[i] = "[" .. expr(p, key) .. "] = " .. value
    end
  end
  return "{" .. concat(parts, ", ") .. "}"
end

local function decls (ds, first)
  local parts = {}
  for i = first, #ds do
    local d = ds[i]
    parts[#parts + 1] = d.attrib and d.name .. " <" .. d.attrib .. ">" or d.name
  end
  return concat(parts, ", ")
end

-- "(params)", the body one level deeper, and "end" at the current level.
local function funcbody (p, f)
  local params = decls(f.params, f.is_method and 2 or 1)
  if f.is_vararg then params = params == "" and "..." or params .. ", ..." end
  p.level = p.level + 1
  local body = block_lines(p, f.body)
  p.level = p.level - 1
  return "(" .. params .. ")\n" .. body .. rep("  ", p.level) .. "end"
end

exprs.Function = function (p, e)
  return "function" .. funcbody(p, e)
end

---------------------------------------------------------------------------
-- Statements: each printer returns its lines; blocks are one level deeper.
---------------------------------------------------------------------------

local stats = {}

local function line (p, text)
  return rep("  ", p.level) .. text .. "\n"
end

local function nested (p, b)
  p.level = p.level + 1
  local s = block_lines(p, b)
  p.level = p.level - 1
  return s
end

-- A statement that starts with '(' would continue the previous one.
local function simple (p, text)
  return line(p, text:sub(1, 1) == "(" and ";" .. text or text)
end

stats.Call = function (p, s) return simple(p, expr(p, s)) end
stats.Invoke = stats.Call

stats.Assign = function (p, s)
  return simple(p, list(p, s.targets) .. " = " .. list(p, s.exprs))
end

stats.Local = function (p, s)
  local text = "local " .. decls(s.vars, 1)
  if #s.exprs > 0 then text = text .. " = " .. list(p, s.exprs) end
  return line(p, text)
end

stats.LocalFunction = function (p, s)
  return line(p, "local function " .. s.var.name .. funcbody(p, s.func))
end

stats.FunctionStat = function (p, s)
  local target = s.target
  local name = expr(p, target)
  if s.func.is_method then name = expr(p, target.obj) .. ":" .. target.key.value end
  return line(p, "function " .. name .. funcbody(p, s.func))
end

stats.Return = function (p, s)
  return line(p, #s.exprs > 0 and "return " .. list(p, s.exprs) or "return")
end

stats.Break = function (p) return line(p, "break") end
stats.Goto = function (p, s) return line(p, "goto " .. s.name) end
stats.Label = function (p, s) return line(p, "::" .. s.name .. "::") end

stats.Do = function (p, s)
  return line(p, "do") .. nested(p, s.body) .. line(p, "end")
end

stats.While = function (p, s)
  return line(p, "while " .. expr(p, s.cond) .. " do") .. nested(p, s.body) .. line(p, "end")
end

stats.Repeat = function (p, s)
  return line(p, "repeat") .. nested(p, s.body) .. line(p, "until " .. expr(p, s.cond))
end

stats.If = function (p, s)
  local parts = {}
  for i, c in ipairs(s.clauses) do
    local head = (i == 1 and "if " or "elseif ") .. expr(p, c.cond) .. " then"
    parts[#parts + 1] = line(p, head) .. nested(p, c.body)
  end
  if s.orelse then parts[#parts + 1] = line(p, "else") .. nested(p, s.orelse) end
  return concat(parts) .. line(p, "end")
end

stats.Fornum = function (p, s)
  local head = "for " .. s.var.name .. " = " .. expr(p, s.start) .. ", " .. expr(p, s.limit)
  if s.step then head = head .. ", " .. expr(p, s.step) end
  return line(p, head .. " do") .. nested(p, s.body) .. line(p, "end")
end

stats.Forin = function (p, s)
  local head = "for " .. decls(s.vars, 1) .. " in " .. list(p, s.exprs) .. " do"
  return line(p, head) .. nested(p, s.body) .. line(p, "end")
end

function block_lines (p, b)
  local parts = {}
  for i, s in ipairs(b.stats) do parts[i] = stats[s.tag](p, s) end
  return concat(parts)
end

function M.tostring (n, opts)
  local p = {level = 0, full = opts and opts.full}
  if n.tag == "Function" and n.main then return block_lines(p, n.body) end
  if n.tag == "Block" then return block_lines(p, n) end
  if stats[n.tag] and n.tag ~= "Call" and n.tag ~= "Invoke" then return stats[n.tag](p, n) end
  return expr(p, n)
end

return M
