--[=[ par.jit.lua_loops: the parallel loops of a par.jit function in Lua mode.

Consumes a Lua closure f. Produces a closure g that runs f's code with each
`for i in par.prange(n)` loop made a parallel Lua-mode kernel (par._ploop,
kernel_api.c), sharing f's upvalues (debug.upvaluejoin: writes are seen
both ways); or nil when f has no such loop or its source is not available
(its loops then run as the serial loops of par.prange(n)).

  lua_loops.prepare(f)   -- g | nil; g(call, ...) runs f(...) for a call
                         -- context made by kernel_api.c

Errors: a loop that breaks the rules of API section 4 raises
"file:line:col: message", in the words of the native type checker
(par.jit.types): assignments to variables declared outside the loop other
than reductions, reads of a reduction variable, 'return', 'break', 'goto'
out of the loop and '...' inside it. Every loop of the text is checked, a
nested one too: it runs serially, but is a parallel loop all the same.

The rewrite is textual, so that every token keeps its line and error
messages name f's own lines. The loop

  for i in par.prange(n) do BODY end

with reductions on s (x = x + e) and m (x = math.min(x, e)) becomes

  s, m = __par_ploop(__par_ctx, n, function(i, s, m) do BODY end return s, m end,
    "+s <m", s, m)

(on the lines of the original; the parameters s and m hold the block's
partials inside BODY), and f's
header `function name(a, b)` becomes `function(__par_ctx, a, b)`, in a chunk
that declares f's upvalues as locals to be joined to f's. A loop inside
another loop's body gets nil for __par_ctx: it runs serially, seeded from
the iteration's stream. The loaded chunk is cached per prototype, g per
closure.
]=]

local lexer = require "par.jit.lexer"
local parser = require "par.jit.parser"
local check = require "par.jit.check"
local sources = require "par.jit.sources"

local M = {}

local format, concat, rep = string.format, table.concat, string.rep
local getinfo, getupvalue, upvaluejoin = debug.getinfo, debug.getupvalue, debug.upvaluejoin

---------------------------------------------------------------------------
-- Walking the AST in source order
---------------------------------------------------------------------------

local children = {
  Block = {"stats"}, Local = {"exprs"}, LocalFunction = {"func"},
  FunctionStat = {"target", "func"}, Assign = {"targets", "exprs"}, Call = {"func", "args"},
  Invoke = {"obj", "args"}, Do = {"body"}, While = {"cond", "body"}, Repeat = {"body", "cond"},
  If = {"clauses", "orelse"}, Clause = {"cond", "body"}, Fornum = {"start", "limit", "step", "body"},
  Forin = {"exprs", "body"}, Return = {"exprs"}, Binop = {"lhs", "rhs"}, Unop = {"operand"},
  Paren = {"expr"}, Index = {"obj", "key"}, Table = {"fields"}, Field = {"key", "value"},
  Function = {"body"},
}

-- Calls fn(c) for each node c right below n, in source order.
local function each_child (n, fn)
  for _, k in ipairs(children[n.tag] or {}) do
    local c = n[k]
    if c and c.tag then
      fn(c)
    elseif c then
      for _, x in ipairs(c) do fn(x) end
    end
  end
end

-- Calls visit(node) on n and the nodes below it; visit returning false
-- skips what is below that node.
local function walk (n, visit)
  if visit(n) == false then return end
  each_child(n, function (c) walk(c, visit) end)
end

-- The prange loops in f's code, in source order: {node, nested} where
-- nested says the loop lies in another loop's body.
local function find_loops (fnode)
  local loops = {}
  local function scan (n, nested)
    walk(n, function (x)
      if x.tag == "Forin" and check.is_prange(x) then
        loops[#loops + 1] = {node = x, nested = nested}
        scan(x.exprs[1], nested)
        scan(x.body, true)
        return false
      end
    end)
  end
  scan(fnode.body, false)
  return loops
end

---------------------------------------------------------------------------
-- The rules of a loop body (API section 4, Writes)
---------------------------------------------------------------------------

local function fail (file, node, msg, ...)
  error(tostring(lexer.new_error(file, node.line, node.col, format(msg, ...))), 0)
end

-- x = x + e, x = x * e, x = math.min(x, e), x = math.max(x, e): the op.
local function reduction_form (s)
  if #s.targets ~= 1 or #s.exprs ~= 1 then return nil end
  local t, e = s.targets[1], s.exprs[1]
  local function isx (n) return n.tag == "Name" and n.decl == t.decl end
  if e.tag == "Binop" and (e.op == "+" or e.op == "*") and isx(e.lhs) then return e.op end
  if e.tag == "Call" and #e.args == 2 and isx(e.args[1]) and e.func.tag == "Index"
     and e.func.obj.tag == "Name" and e.func.obj.name == "math" and e.func.key.tag == "String"
     and (e.func.key.value == "min" or e.func.key.value == "max") then
    return e.func.key.value
  end
  return nil
end

local loop_tags = {While = true, Repeat = true, Fornum = true, Forin = true}

-- Checks loop L's body by the rules of native code (par.jit.types), with
-- one extension: upvalues may be reduced too. Returns the reductions
-- {decl, op} in declaration order.
local function check_loop (L, file)
  local s = L.node
  local first = s.vars[1].id
  local function outside (n)
    return n.tag == "Name" and (n.kind == "local" or n.kind == "upvalue") and n.decl.id < first
  end
  local labels, red, redstat = {}, {}, {}
  walk(s.body, function (x)
    if x.tag == "Function" then return false end
    if x.tag == "Label" then labels[x] = true end
  end)
  -- own: in the loop's own code (not in a function or loop nested in it)
  local function scan (n, own, infn, depth, inloop)
    local tag = n.tag
    if tag == "Function" then infn, own, depth = true, false, 0
    elseif tag == "Forin" and check.is_prange(n) then own, inloop = false, true end
    if tag == "Assign" then
      local t = n.targets[1]
      if own and #n.targets == 1 and outside(t) then
        local op = reduction_form(n)
        if not op then
          fail(file, n, "assignment to '%s', declared outside the parallel loop (only "
            .. "reductions x = x + e, x * e, math.min, math.max)", t.name)
        end
        if red[t.decl] and red[t.decl] ~= op then
          fail(file, n, "'%s' is reduced with both '%s' and '%s'", t.name, red[t.decl], op)
        end
        red[t.decl], redstat[n] = op, t.decl
      else
        local nested = inloop and not infn and reduction_form(n)
        for _, tg in ipairs(n.targets) do
          if outside(tg) then
            fail(file, tg, "assignment to '%s', declared outside the parallel loop%s", tg.name,
              nested and " (a nested loop reduces only into locals of the enclosing loop's body)" or "")
          end
        end
      end
    elseif not infn and tag == "Return" then
      fail(file, n, "'return' inside a parallel loop")
    elseif not infn and tag == "Break" and depth == 0 then
      fail(file, n, "'break' out of a parallel loop")
    elseif not infn and tag == "Goto" and not labels[n.label] then
      fail(file, n, "'goto' out of a parallel loop")
    elseif not infn and tag == "Dots" then
      fail(file, n, "vararg expression '...' inside a parallel loop")
    end
    if loop_tags[tag] then depth = depth + 1 end
    each_child(n, function (c) scan(c, own, infn, depth, inloop) end)
  end
  scan(s.body, true, false, 0, false)
  -- a reduction variable is read only in its own reduction statements
  local function reads (n, allowed)
    if redstat[n] then
      for _, e in ipairs(n.exprs) do reads(e, redstat[n]) end
      return
    end
    if n.tag == "Name" and n.decl and red[n.decl] and n.decl ~= allowed then
      fail(file, n, "reduction variable '%s' is read inside the parallel loop", n.name)
    end
    each_child(n, function (c) reads(c, allowed) end)
  end
  reads(s.body, nil)
  local list = {}
  for d, op in pairs(red) do list[#list + 1] = {decl = d, op = op} end
  table.sort(list, function (a, b) return a.decl.id < b.decl.id end)
  return list
end

---------------------------------------------------------------------------
-- Tokens
---------------------------------------------------------------------------

-- The token that starts at (line, col).
local function token_at (s, line, col)
  local lo, hi = 1, s.n
  while lo < hi do
    local mid = (lo + hi) // 2
    if s.line[mid] < line or (s.line[mid] == line and s.col[mid] < col) then
      lo = mid + 1
    else
      hi = mid
    end
  end
  assert(s.line[lo] == line and s.col[lo] == col, "lua_loops: token not found")
  return lo
end

local openers = {["do"] = true, ["if"] = true, ["function"] = true}

-- The 'end' that closes the block opened by token i.
local function matching_end (s, i)
  local depth = 0
  repeat
    local k = s.kind[i]
    if openers[k] then depth = depth + 1 elseif k == "end" then depth = depth - 1 end
    i = i + 1
  until depth == 0
  return i - 1
end

-- The ')' that closes the '(' at token i.
local function matching_paren (s, i)
  local depth = 0
  repeat
    local k = s.kind[i]
    if k == "(" then depth = depth + 1 elseif k == ")" then depth = depth - 1 end
    i = i + 1
  until depth == 0
  return i - 1
end

---------------------------------------------------------------------------
-- The rewrite
---------------------------------------------------------------------------

local opchar = {["+"] = "+", ["*"] = "*", min = "<", max = ">"}

-- Edits {from, to, text} (bytes of s.src) turning loop L into a call.
local function loop_edits (s, L, reds, edits)
  local node = L.node
  local call = node.exprs[1]
  local a = token_at(s, node.line, node.col)
  local p = token_at(s, call.line, call.col)
  local q = matching_paren(s, p)
  local d = q + 1
  assert(s.kind[d] == "do", "lua_loops: 'do' expected")
  local e = matching_end(s, d)
  local names, spec = {}, {}
  for k, r in ipairs(reds) do
    names[k] = r.decl.name
    spec[k] = opchar[r.op] .. r.decl.name
  end
  local list = concat(names, ", ")
  local ctx = L.nested and "nil" or "__par_ctx"
  local head = (#reds > 0 and list .. " = " or "") .. "__par_ploop(" .. ctx .. ", "
  edits[#edits + 1] = {s.pos[a], s.epos[p], head .. rep("\n", s.line[p] - s.line[a])}
  edits[#edits + 1] = {s.pos[q], s.epos[d], ", function(" .. node.vars[1].name
    .. (#reds > 0 and ", " .. list .. ") do" or ")") .. rep("\n", s.line[d] - s.line[q])}
  local tail = ' end, "' .. concat(spec, " ") .. '"' .. (#reds > 0 and ", " .. list or "") .. ")"
  if #reds > 0 then tail = " end return " .. list .. tail end   -- BODY's locals end first
  edits[#edits + 1] = {s.pos[e], s.epos[e], tail}
end

-- The text of f's function, rewritten, from token i to token j.
local function apply (src, i, j, edits)
  table.sort(edits, function (x, y) return x[1] < y[1] end)
  local out, at = {}, i
  for _, ed in ipairs(edits) do
    out[#out + 1] = src:sub(at, ed[1] - 1)
    out[#out + 1] = ed[3]
    at = ed[2] + 1
  end
  out[#out + 1] = src:sub(at, j)
  return concat(out)
end

local chunks = {}   -- chunk key -> {ast, tokens} | false

local function chunk (f)
  local src = sources.of(f)
  if not src then return nil end
  local c = chunks[src.key]
  if c == nil then
    local ast = parser.parse(src.text, src.name, src.isfile)
    c = ast and {ast = ast, s = lexer.scan(src.text, src.name, src.isfile), key = src.key} or false
    chunks[src.key] = c
  end
  return c or nil
end

-- The loader of f's rewritten prototype: a function that, given
-- par._ploop, returns a new closure; or nil.
local function build (c, info, names)
  local fnode = parser.find_function(c.ast, info.linedefined, info.lastlinedefined,
    {nparams = info.nparams, isvararg = info.isvararg, nups = info.nups, upvalues = names})
  if not fnode then return nil end
  local loops = find_loops(fnode)
  if #loops == 0 then return nil end
  local file, s = lexer.chunkid(c.ast.chunkname), c.s
  local edits = {}
  for _, L in ipairs(loops) do loop_edits(s, L, check_loop(L, file), edits) end
  local fi = token_at(s, fnode.line, fnode.col)
  local pi = fi
  while s.kind[pi] ~= "(" do pi = pi + 1 end
  local ei = matching_end(s, fi)
  local params = "function(__par_ctx"
  if fnode.is_method then params = params .. ", self" end
  if #fnode.params > (fnode.is_method and 1 or 0) or fnode.is_vararg then params = params .. ", " end
  local decl = {}
  for k, n in ipairs(names) do decl[k] = n end
  local text = "local __par_ploop = ... " .. (#decl > 0 and "local " .. concat(decl, ", ") .. " " or "")
    .. rep("\n", s.line[pi] - 1) .. "return " .. params .. apply(s.src, s.epos[pi] + 1, s.epos[ei], edits)
  return assert(load(text, info.source, "t"))
end

local loaders = {}                              -- prototype key -> loader | false
local closures = setmetatable({}, {__mode = "k"})  -- f -> g | false

-- See the header.
function M.prepare (f)
  local g = closures[f]
  if g ~= nil then return g or nil end
  local info = getinfo(f, "Su")
  if info.what ~= "Lua" then return nil end
  local c = chunk(f)
  if not c then closures[f] = false; return nil end
  local names = {}
  for k = 1, info.nups do names[k] = getupvalue(f, k) end
  local key = format("%s\0%d:%d:%d:%s", c.key, info.linedefined, info.lastlinedefined,
    info.nparams, concat(names, ","))
  local loader = loaders[key]
  if loader == nil then
    loader = build(c, info, names) or false
    loaders[key] = loader
  end
  g = loader and loader((package.loaded.par or rawget(_G, "par"))._ploop)
  if g then
    local index = {}
    for k, n in ipairs(names) do index[n] = k end
    for j = 1, math.huge do
      local n = getupvalue(g, j)
      if n == nil then break end
      if index[n] then upvaluejoin(g, j, f, index[n]) end
    end
  end
  closures[f] = g or false
  return g or nil
end

return M
