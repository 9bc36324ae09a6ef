--[=[ par.jit.scope: name resolution, driven by par.jit.parser as it parses.

Consumes the parser's events (functions, blocks, declarations, names,
assignments, gotos, labels, loops) in source order, as Lua's own parser
meets them. Produces the scope fields of the AST (see the schema in
parser.lua) and Lua's scope errors at the moments Lua raises them:
  Name       kind = "local" | "upvalue" | "global" | "const" (a compile-time
             constant), decl = its Decl, env = the _ENV Decl of a global
  Decl       id (declaration order), captured, assigned, ctc and value
  Function   upvalues (Decls, in Lua's order: debug.getupvalue's indices),
             globals (names used directly in it, first use first)
  loops      outer_assigns: the locals declared outside a loop and assigned
             in its repeated part (the body, and the condition of while and
             repeat), nested functions included
  Goto       label = its Label node
plus the errors: const assignment, goto/label rules, and the limits of 200
locals and 255 upvalues per function. Lua's parser decides which
'<const>' locals are compile-time constants (no register, no upvalue) by
folding constants; this module repeats that decision, so that upvalue lists
match debug.getupvalue.
]=]

local M = {}

local format = string.format
local tointeger, mathtype = math.tointeger, math.type

local MAXVARS, MAXUPVAL = 200, 255

local Scope = {}
Scope.__index = Scope

-- errors.syntax(msg) raises near the current token; errors.semantic(msg,
-- line, col) raises at a position, with no "near" part.
function M.new (errors)
  return setmetatable({errors = errors, nextid = 1, loops = {}}, Scope)
end

---------------------------------------------------------------------------
-- Compile-time constants: Lua folds numerals through arithmetic and
-- bitwise operators, 'not', 'and', 'or' and parentheses (lcode.c).
---------------------------------------------------------------------------

local arith = {
  ["+"] = function (a, b) return a + b end, ["-"] = function (a, b) return a - b end,
  ["*"] = function (a, b) return a * b end, ["/"] = function (a, b) return a / b end,
  ["//"] = function (a, b) return a // b end, ["%"] = function (a, b) return a % b end,
  ["^"] = function (a, b) return a ^ b end, ["&"] = function (a, b) return a & b end,
  ["|"] = function (a, b) return a | b end, ["~"] = function (a, b) return a ~ b end,
  ["<<"] = function (a, b) return a << b end, [">>"] = function (a, b) return a >> b end,
}
local bitwise = {["&"] = true, ["|"] = true, ["~"] = true, ["<<"] = true, [">>"] = true}
local divisions = {["/"] = true, ["//"] = true, ["%"] = true}

local function isint (v)
  return mathtype(v) == "integer" or tointeger(v) ~= nil
end

-- Lua keeps a folded result unless it is a float NaN or zero.
local function folded (v)
  if mathtype(v) == "float" and (v ~= v or v == 0) then return false end
  return true, v
end

local constant

local function fold_unop (e)
  local ok, v = constant(e.operand)
  if not ok then return false end
  if e.op == "not" then return true, not v end
  if type(v) ~= "number" then return false end
  if e.op == "-" then return folded(-v) end
  if e.op == "~" and isint(v) then return folded(~v) end
  return false
end

local function fold_binop (e)
  local op = e.op
  local ok, a = constant(e.lhs)
  if not ok then return false end
  if op == "and" or op == "or" then
    -- without jumps only when the left side always goes on to the right
    if (op == "and") ~= (a ~= nil and a ~= false) then return false end
    return constant(e.rhs)
  end
  local ok2, b = constant(e.rhs)
  if not (ok2 and arith[op] and type(a) == "number" and type(b) == "number") then return false end
  if bitwise[op] and not (isint(a) and isint(b)) then return false end
  if divisions[op] and b == 0 then return false end
  return folded(arith[op](a, b))
end

-- true and the value when Lua's parser sees expression e as a constant.
function constant (e)
  local tag = e.tag
  if tag == "Number" or tag == "String" then return true, e.value end
  if tag == "Nil" then return true, nil end
  if tag == "True" then return true, true end
  if tag == "False" then return true, false end
  if tag == "Name" then
    if e.kind == "const" then return true, e.decl.value end
    return false
  end
  if tag == "Paren" then return constant(e.expr) end
  if tag == "Unop" then return fold_unop(e) end
  if tag == "Binop" then return fold_binop(e) end
  return false
end


---------------------------------------------------------------------------
-- Functions and blocks. A function state holds its declared variables
-- (vars[1..nvars], the first nactive of them in scope), its upvalues by
-- name, its active labels, its pending gotos and its innermost block.
---------------------------------------------------------------------------

local function where (fs)
  if fs.node.main then return "main function" end
  return format("function at line %d", fs.node.linedefined)
end

local function check_limit (self, fs, n, limit, what)
  if n > limit then
    self.errors.syntax(format("too many %s (limit is %d) in %s", what, limit, where(fs)))
  end
end

function Scope:open_function (node)
  local fs = {node = node, parent = self.fs, vars = {}, nvars = 0, nactive = 0,
    upnames = {}, globalset = {}, labels = {}, gotos = {}}
  node.upvalues, node.globals = {}, {}
  if not fs.parent then      -- the main function's upvalue _ENV
    local env = {tag = "Decl", name = "_ENV", id = 0, implicit = true}
    node.env, node.upvalues[1], fs.upnames._ENV = env, env, env
  end
  self.fs = fs
  self:enter_block(false)
end

function Scope:close_function ()
  self:leave_block()
  self.fs = self.fs.parent
end

function Scope:enter_block (isloop)
  local fs = self.fs
  fs.block = {prev = fs.block, nactive = fs.nactive, isloop = isloop,
    firstlabel = #fs.labels + 1, firstgoto = #fs.gotos + 1}
end

-- Resolves the pending gotos of the current block that target label l.
local function solve_gotos (self, fs, l)
  local gotos, k = fs.gotos, fs.block.firstgoto
  while gotos[k] do
    local g = gotos[k]
    if g.name ~= l.name then
      k = k + 1
    else
      if g.nactive < l.nactive then
        self.errors.semantic(format("<goto %s> at line %d jumps into the scope of local '%s'",
          g.name, g.line, fs.vars[g.nactive + 1].name), g.node.line, g.node.col)
      end
      g.node.label = l.node
      table.remove(gotos, k)
    end
  end
end

local function undefined_goto (self, g)
  local msg = format("no visible label '%s' for <goto> at line %d", g.name, g.line)
  if g.name == "break" then msg = format("break outside loop at line %d", g.line) end
  self.errors.semantic(msg, g.node.line, g.node.col)
end

function Scope:leave_block ()
  local fs = self.fs
  local bl = fs.block
  if bl.isloop then solve_gotos(self, fs, {name = "break", nactive = fs.nactive}) end
  fs.block = bl.prev
  for k = fs.nvars, bl.nactive + 1, -1 do fs.vars[k] = nil end
  fs.nvars, fs.nactive = bl.nactive, bl.nactive
  for k = #fs.labels, bl.firstlabel, -1 do fs.labels[k] = nil end
  if bl.prev then           -- pending gotos move out to the enclosing block
    for k = bl.firstgoto, #fs.gotos do fs.gotos[k].nactive = bl.nactive end
  elseif fs.gotos[bl.firstgoto] then
    undefined_goto(self, fs.gotos[bl.firstgoto])
  end
end

---------------------------------------------------------------------------
-- Variables. A declared variable enters the scope only when activated
-- (after its initialisers, or at once for 'local function').
---------------------------------------------------------------------------

-- Declares a Decl, or a hidden control variable of a 'for' when d is nil.
function Scope:declare (d)
  local fs = self.fs
  local n = fs.nvars + 1
  check_limit(self, fs, n, MAXVARS, "local variables")
  if d then
    d.id, self.nextid = self.nextid, self.nextid + 1
  else
    d = {name = "(for state)"}
  end
  fs.vars[n], fs.nvars = d, n
end

function Scope:activate (n)
  self.fs.nactive = self.fs.nactive + n
end

-- Lua's rule: the last variable of a '<const>' local statement, without
-- adjustment, is a compile-time constant when its value is constant.
function Scope:local_constants (vars, exprs)
  local last = vars[#vars]
  if #vars ~= #exprs or last.attrib ~= "const" then return end
  local ok, v = constant(exprs[#exprs])
  if ok then last.ctc, last.value = true, v end
end

local function find_active (fs, name)
  local vars = fs.vars
  for k = fs.nactive, 1, -1 do
    if vars[k].name == name then return vars[k] end
  end
end

local function add_upvalue (self, fs, name, d)
  local ups = fs.node.upvalues
  check_limit(self, fs, #ups + 1, MAXUPVAL, "upvalues")
  ups[#ups + 1], fs.upnames[name] = d, d
end

-- How 'name' is seen from function fs (Lua's singlevaraux): "local",
-- "upvalue" or "const" and its Decl, or nil for a global. Enclosing
-- functions get the upvalues needed to pass the variable down.
local function search (self, fs, name, base)
  local d = find_active(fs, name)
  if d then
    if d.ctc then return "const", d end
    if not base then d.captured = true end
    return "local", d
  end
  d = fs.upnames[name]
  if d then return "upvalue", d end
  if not fs.parent then return nil end
  local kind
  kind, d = search(self, fs.parent, name, false)
  if kind == "local" or kind == "upvalue" then
    add_upvalue(self, fs, name, d)
    return "upvalue", d
  end
  return kind, d
end

function Scope:resolve (n)
  local fs = self.fs
  local kind, d = search(self, fs, n.name, true)
  if kind then
    n.kind, n.decl = kind, d
    return
  end
  n.kind = "global"
  n.env = select(2, search(self, fs, "_ENV", true))
  if not fs.globalset[n.name] then
    fs.globalset[n.name] = true
    fs.node.globals[#fs.node.globals + 1] = n.name
  end
end

-- An assignment to target t (Name or Index).
function Scope:assign (t)
  if t.tag ~= "Name" or t.kind == "global" then return end
  local d = t.decl
  if d.attrib then
    self.errors.semantic(format("attempt to assign to const variable '%s'", d.name), t.line, t.col)
  end
  d.assigned = true
  local loops = self.loops
  for k = #loops, 1, -1 do
    local lp = loops[k]
    if d.id >= lp.first then break end
    if not lp.seen[d] then
      lp.seen[d] = true
      lp.node.outer_assigns[#lp.node.outer_assigns + 1] = d
    end
  end
end

-- A loop's repeated part begins; variables with ids from 'first' on (by
-- default: from now on) are its own.
function Scope:open_loop (node, first)
  node.outer_assigns = {}
  self.loops[#self.loops + 1] = {node = node, first = first or self.nextid, seen = {}}
end

function Scope:close_loop ()
  self.loops[#self.loops] = nil
end

---------------------------------------------------------------------------
-- Gotos and labels (Lua 5.4's rules: a goto sees the labels of its
-- enclosing blocks in its function, and may not jump into a local's scope).
---------------------------------------------------------------------------

local function find_label (fs, name)
  for _, l in ipairs(fs.labels) do
    if l.name == name then return l end
  end
end

-- A goto (or a break, whose name is "break") at node; 'line' is shown in
-- messages.
function Scope:jump (node, name, line)
  local fs = self.fs
  local l = find_label(fs, name)
  if l then
    node.label = l.node
  else
    fs.gotos[#fs.gotos + 1] = {name = name, line = line, nactive = fs.nactive, node = node}
  end
end

-- A label; 'last' when only void statements follow it in its block (the
-- block's locals are then out of scope at the label).
function Scope:label (node, last)
  local fs = self.fs
  local old = find_label(fs, node.name)
  if old then
    self.errors.semantic(format("label '%s' already defined on line %d", node.name, old.line),
      node.line, node.col)
  end
  local l = {name = node.name, line = node.line, node = node,
    nactive = last and fs.block.nactive or fs.nactive}
  fs.labels[#fs.labels + 1] = l
  solve_gotos(self, fs, l)
end

return M
