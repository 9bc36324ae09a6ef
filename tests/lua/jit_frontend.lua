-- jit_frontend.lua: the kernel compiler's front end (par.jit.lexer,
-- par.jit.parser, par.jit.scope, par.jit.ast_print) against Lua itself:
-- tokens, numerals and escapes as load reads them, precedence, round trips
-- of the repository's files and of generated programs, syntax errors with
-- load's messages, scopes and upvalues as debug.getupvalue sees them.
-- Runs under parlua and under stock lua5.4 (lua5.4 tests/lua/jit_frontend.lua).
print("testing the kernel compiler's lexer and parser")

local root = (arg and arg[0] or ""):match("^(.-)/?tests/lua/[^/]+$")
root = (root == nil or root == "") and "." or root
if not pcall(require, "par.jit.lexer") then       -- stock lua5.4
  package.path = root .. "/lua/?.lua;" .. root .. "/tests/lua/?.lua;" .. package.path
end

local T = require "common"
local lexer = require "par.jit.lexer"
local parser = require "par.jit.parser"
local ast_print = require "par.jit.ast_print"

local rnd = T.lcg(12345)   -- rnd(n): 1..n, a fixed sequence
local function pick (t) return t[rnd(#t)] end

local function parse (src, name, isfile)
  local ast, errs = parser.parse(src, name or "=test", isfile)
  if not ast then error(tostring(errs[1]), 2) end
  return ast
end

-- Every table reachable from an AST, each once, in a fixed order
-- (links to declarations, labels and functions are not followed).
local links = {decl = true, env = true, label = true, upvalues = true,
  outer_assigns = true, functions = true}
local function walk (n, f, seen)
  seen = seen or {}
  if seen[n] then return end
  seen[n] = true
  f(n)
  local keys = {}
  for k, v in pairs(n) do
    if type(v) == "table" and not links[k] then keys[#keys + 1] = k end
  end
  table.sort(keys, function (a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do walk(n[k], f, seen) end
end

local function names_of (ast, name)
  local found = {}
  walk(ast, function (n) if n.tag == "Name" and n.name == name then found[#found + 1] = n end end)
  table.sort(found, function (a, b)
    return a.line < b.line or a.line == b.line and a.col < b.col
  end)
  return found
end

-- Structural equality of two ASTs, positions aside.
local positions = {line = true, col = true, linedefined = true, lastlinedefined = true,
  chunkname = true}
local function same_ast (a, b, seen, path)
  seen, path = seen or {}, path or "ast"
  if type(a) ~= "table" or type(b) ~= "table" then
    if T.same(a, b) or a == b then return true end
    return false, path .. ": " .. tostring(a) .. " ~= " .. tostring(b)
  end
  if seen[a] then return seen[a] == b, path end
  seen[a] = b
  for k, v in pairs(a) do
    if not positions[k] then
      local ok, where = same_ast(v, b[k], seen, path .. "." .. tostring(k))
      if not ok then return false, where end
    end
  end
  for k in pairs(b) do
    if not positions[k] and a[k] == nil then return false, path .. "." .. tostring(k) end
  end
  return true
end

-- source -> AST -> source -> AST: same AST, and printing is stable.
local function round_trip (src, name, isfile)
  local ast = parse(src, name, isfile)
  local text = ast_print.tostring(ast)
  local ast2, errs = parser.parse(text, "=reprint")
  assert(ast2, errs and tostring(errs[1]))
  local ok, where = same_ast(ast, ast2)
  assert(ok, (name or "") .. ": round trip differs at " .. tostring(where))
  assert(ast_print.tostring(ast2) == text)
  assert(load(text, "=reprint"))
  return ast, text
end

do print("  modules: no globals beyond the standard library")
  local std = {}
  for _, g in ipairs{"string", "table", "math", "utf8", "io", "error", "pcall", "select",
      "setmetatable", "getmetatable", "tostring", "tonumber", "type", "ipairs",
      "pairs", "require"} do
    std[g] = true
  end
  for _, m in ipairs{"lexer", "scope", "parser", "ast_print"} do
    local path = package.searchpath("par.jit." .. m, package.path)
      or root .. "/lua/par/jit/" .. m .. ".lua"
    local ast = assert(parser.parse_file(path))
    for _, f in ipairs(ast.functions) do
      for _, g in ipairs(f.globals) do assert(std[g], m .. ": global '" .. g .. "'") end
    end
    for _, g in ipairs(ast.globals) do assert(std[g], m .. ": global '" .. g .. "'") end
    walk(ast, function (n)
      if n.tag == "Assign" then
        for _, t in ipairs(n.targets) do assert(t.kind ~= "global", m .. ": sets a global") end
      end
    end)
  end
end


do print("  tokens")
  local function kinds (src)
    local s = assert(lexer.tokenize(src, "=t"))
    local out = {}
    for i = 1, s.n do
      local k, v = s.kind[i], s.value[i]
      if k == "<name>" then k = v
      elseif k == "<number>" then k = math.type(v) .. ":" .. v
      elseif k == "<string>" then k = string.format("%q", v) end
      out[i] = k
    end
    return table.concat(out, " ")
  end
  assert(kinds("a.b:c(...)..d//e<<f>>g~=h<=i>=j==k~l&m|n::o::#p%q^r")
    == "a . b : c ( ... ) .. d // e << f >> g ~= h <= i >= j == k ~ l & m | n :: o :: # p"
    .. " % q ^ r <eof>")
  assert(kinds("x.5 .. 3 ..4 a...b") == "x float:0.5 .. integer:3 .. integer:4 a ... b <eof>")
  assert(kinds("--[==[ long\n]] ]=] ]==] x --[[ ]] y -- z\n w --[= not long\n v")
    == "x y w v <eof>")
  assert(kinds("[[\nx]] [==[]]]==] [=[\r\na\n\rb\r\r]=]")
    == '"x" "]]" "a\\\nb\\\n\\\n" <eof>')
  assert(kinds("local function end_ if then else elseif goto until")
    == "local function end_ if then else elseif goto until <eof>")
  assert(kinds("a $ b ! \1") == "a $ b ! \1 <eof>")
  assert(kinds("") == "<eof>" and kinds("  \t\v\f\n") == "<eof>")
  assert(kinds("3-2 3 - -2 a--b\n") == "integer:3 - integer:2 integer:3 - - integer:2 a <eof>")

  -- positions: each line break sequence (\n, \r, \r\n, \n\r) counts once
  local s = assert(lexer.tokenize("a\r\nb\n\rc\n\nd\r\re 'x\\\r\ny' [[\n\n]] f", "=t"))
  local at = {}
  for i = 1, s.n do at[i] = s.line[i] .. ":" .. s.col[i] end
  assert(table.concat(at, " ") == "1:1 2:1 3:1 5:1 7:1 7:3 8:4 10:4 10:5")
  assert(s.eline[6] == 8 and s.eline[7] == 10 and s.eline[1] == nil)
  s = assert(lexer.tokenize("\tx = 'a\\z\n   b'  y", "=t"))
  assert(s.col[1] == 2 and s.col[3] == 6 and s.line[4] == 2 and s.col[4] == 8)

  -- a file's first line starting with '#' is skipped, as loadfile does
  s = assert(lexer.tokenize("#!/usr/bin/env parlua\nreturn 1", "@f", true))
  assert(s.kind[1] == "return" and s.line[1] == 2)
  s = assert(lexer.tokenize("\239\187\191# comment\nx", "@f", true))
  assert(s.value[1] == "x" and s.line[1] == 2)
  assert(not parser.parse("#!/usr/bin/env parlua\nreturn 1", "=f"))
end


do print("  numerals as load reads them")
  local numerals = {"0", "3", "345", "3.0", "3.1416", "314.16e-2", "0.31416E1", "34e1",
    "0x0.1E", "0xA23p-4", "0X1.921FB54442D18P+1", "0xff", "0XBEBADA", "0x.8", "0x8.", "0xA.8",
    ".5", "5.", "5.e3", ".5e-3", "1E+10", "1e308", "1e309", "2e-400", "4.9e-324", "0x1p-1074",
    "00012", "0x0", "0x00000000000000001", "1.7976931348623157e308", "2.2250738585072014e-308",
    "9223372036854775807", "9223372036854775808", "18446744073709551615", "1e19",
    "123456789012345678901234567890", "0x7fffffffffffffff", "0x8000000000000000",
    "0xffffffffffffffff", "0x10000000000000000", "0x123456789abcdef0123", "0x1p63",
    "0x.0000000000001p-1022", "1." .. string.rep("0", 400) .. "1", "0.1", "0.2", "0.3",
    "9007199254740993", "0x1P+4", "3e0", "7E-0"}
  for _, text in ipairs(numerals) do
    local s = assert(lexer.tokenize(text, "=t"))
    local want = load("return " .. text)()
    assert(s.n == 2 and s.kind[1] == "<number>", text)
    assert(T.same(s.value[1], want), text)
    assert(T.same(parse("return " .. text).body.stats[1].exprs[1].value, want))
  end
  -- malformed numerals: load's message
  for _, text in ipairs{"3x", "0x", "1e", "1e+", "3..2", "0x1p", "0xg", "08x", "3.4.5",
      ".5x", "1_000", "0x1p+", "12abc", "1.e", "0x.p1", "5e-x"} do
    local _, lerr = load("return " .. text)
    local ok, errs = lexer.tokenize("return " .. text, "=t")
    assert(not ok)
    assert(errs[1].msg == lerr:gsub("^t?:%d+: ", ""):gsub("^%[.-%]:%d+: ", ""), text)
    assert(errs[1].line == 1 and errs[1].col == 8)
  end
end


do print("  strings and escapes as load reads them")
  local strings = {[["\a\b\f\n\r\t\v\\\"\'"]], [['\'"']], [["\x41\x7a\xFF\x00\xfF"]],
    "\"a\\z  \n\t\r\n  b\\z\"", [["\65\0\255\0010\1234\9"]], [["\u{0}\u{7F}\u{80}\u{7FF}"]],
    [["\u{800}\u{FFFF}\u{10000}\u{10FFFF}\u{110000}\u{7FFFFFFF}\u{0000000041}"]],
    "'a\\\nb\\\r\nc\\\n\rd\\\re'", "[[]]", "[[\nx]]", "[[\r\n\r\nx\n]]", "[==[a]]b]=]c]==]",
    "[[\n]]", "[=[\n\r]=]", "'\\z'", "\"\\\\z\"", "[[a\0b]]", "'\200\255é'"}
  for _, text in ipairs(strings) do
    local want = load("return " .. text)()
    local s = assert(lexer.tokenize(text, "=t"))
    assert(s.n == 2 and s.kind[1] == "<string>" and s.value[1] == want, text)
    -- and back: the printer's quoting reads back to the same bytes
    local printed = ast_print.tostring(parse("return " .. text).body.stats[1].exprs[1])
    assert(load("return " .. printed)() == want, text)
  end
  for _, text in ipairs{[["\q"]], [["\x5"]], [["\xZZ"]], [["\u123"]], [["\u{}"]],
      [["\u{12"]], [["\u{zz}"]], [["\u{80000000}"]], [["\u{7FFFFFFF0}"]], [["\256"]],
      [["\300x"]], [["abc]], "'abc\ndef'", [["a\tb\0c\q"]], [["\]], "[=[ x", "[==x",
      "--[[ x", "[=", "'\\z \n"} do
    local _, lerr = load("x = " .. text, "=t")
    local _, errs = lexer.tokenize("x = " .. text, "=t")
    assert(tostring(errs[1]):gsub(":%d+:%d+:", ":") == lerr:gsub(":%d+:", ":"), text)
  end
end


do print("  precedence and associativity")
  local cases = {
    {"a + b * c", "(a + (b * c))"}, {"a * b + c", "((a * b) + c)"},
    {"a - b - c", "((a - b) - c)"}, {"a / b // c % d", "(((a / b) // c) % d)"},
    {"a ^ b ^ c", "(a ^ (b ^ c))"}, {"a .. b .. c", "(a .. (b .. c))"},
    {"-a ^ b", "(-(a ^ b))"}, {"a ^ -b", "(a ^ (-b))"}, {"-a ^ -b ^ c", "(-(a ^ (-(b ^ c))))"},
    {"not a == b", "((not a) == b)"}, {"#t + 1", "((#t) + 1)"}, {"- - a", "(-(-a))"},
    {"~a ~ b", "((~a) ~ b)"}, {"a ~ ~b", "(a ~ (~b))"}, {"2 ^ #t ^ 2", "(2 ^ (#(t ^ 2)))"},
    {"a or b and c", "(a or (b and c))"}, {"a and b or c", "((a and b) or c)"},
    {"a < b == c", "((a < b) == c)"}, {"a .. b < c .. d", "((a .. b) < (c .. d))"},
    {"a | b ~ c & d", "(a | (b ~ (c & d)))"}, {"a & b << c", "(a & (b << c))"},
    {"a << b .. c", "(a << (b .. c))"}, {"a .. b + c", "(a .. (b + c))"},
    {"a + b .. c + d", "((a + b) .. (c + d))"}, {"a == b ~= c", "((a == b) ~= c)"},
    {"a | b | c", "((a | b) | c)"}, {"a >> b >> c", "((a >> b) >> c)"},
    {"1 + 2 ^ 3 * 4", "(1 + ((2 ^ 3) * 4))"}, {"not not a", "(not (not a))"},
    {"a > b and c <= d or not e", "(((a > b) and (c <= d)) or (not e))"},
    {"-x^2 + y", "((-(x ^ 2)) + y)"}, {"(a + b) * c", "(((a + b)) * c)"},
    {"f(x)(y).z[w]:m(v)", "f(x)(y).z[w]:m(v)"}, {"a.b.c", "a.b.c"},
  }
  for _, c in ipairs(cases) do
    local e = parse("return " .. c[1]).body.stats[1].exprs[1]
    local got = ast_print.tostring(e, {full = true})
    assert(got == c[2], c[1] .. " -> " .. got)
    assert(ast_print.tostring(e) == c[1]:gsub("%- %- a", "- -a"):gsub("-x^2", "-x ^ 2"), c[1])
  end
end


-- Random expressions over numbers and booleans, as source text.
local atoms = {"a", "b", "c", "t", "1", "2", "0", "3.5", "0.0", "0x10", "7", "2^53", "1e300",
  "true", "false", "nil", "'4'", "i"}
local binops = {"+", "-", "*", "/", "//", "%", "^", "..", "==", "~=", "<", "<=", ">", ">=",
  "and", "or", "&", "|", "~", "<<", ">>"}
local unops = {"-", "not ", "#", "~"}
local function gen_expr (depth)
  local r = rnd(10)
  if depth <= 0 or r <= 2 then return pick(atoms) end
  if r <= 3 then return pick(unops) .. " " .. gen_expr(depth - 1) end
  if r <= 4 then return "(" .. gen_expr(depth - 1) .. ")" end
  return gen_expr(depth - 1) .. " " .. pick(binops) .. " " .. gen_expr(depth - 1)
end

local shared = {1, 2, 3}
local function result (f)
  local ok, v = pcall(f, 7, -3, 2.5, shared, 9)
  return ok and v or "error"
end

do print("  printed expressions compute what the source computes")
  for _ = 1, 1500 do
    local src = "local a, b, c, t, i = ... return " .. gen_expr(rnd(6))
    local f = load(src)
    local printed = ast_print.tostring(parse(src))
    local g = assert(load(printed), printed)
    local x, y = result(f), result(g)
    assert(T.same(x, y) or x == y, src .. "  vs  " .. printed)
  end
end


-- Random programs using every statement, as source text. Variables named
-- k... are '<const>' and never assigned; v... are locals, g... globals.
-- env.loop: 'break' allowed; env.continue: 'goto continue' reaches a label.
local gen_block
local function gen_name (env) return pick(env.names) end
local function gen_simple (env)
  local r = rnd(8)
  if r == 1 then return gen_name(env) end
  if r == 2 then return "{" .. gen_name(env) .. ", x = 1, [2] = " .. gen_expr(1) .. "; 'y'}" end
  if r == 3 then return "f(" .. gen_expr(1) .. (env.vararg and ", ...)" or ")") end
  if r == 4 then return "o:m " .. pick{'"s"', "{}", "[[long\nstring]]"} end
  if r == 5 then return "function (p, q) return p, q end" end
  return gen_expr(2)
end
-- A block generated with the flags loop, continue and vararg set as given.
local function inner (env, depth, loop, continue, vararg)
  local l, c, v = env.loop, env.continue, env.vararg
  env.loop, env.continue, env.vararg = loop, continue, vararg
  local b = gen_block(env, depth)
  env.loop, env.continue, env.vararg = l, c, v
  return b
end
local function gen_stat (env, depth)
  local r = rnd(depth > 0 and 16 or 8)
  local n = env.count + 1
  env.count = n
  if r == 1 then
    env.names[#env.names + 1] = "v" .. n
    return "local v" .. n .. ", w" .. n .. " = " .. gen_simple(env)
  elseif r == 2 then
    env.names[#env.names + 1] = "k" .. n
    return "local k" .. n .. " <const> = " .. gen_expr(1)
  elseif r == 3 then return "g" .. rnd(5) .. ", t[" .. gen_expr(1) .. "] = " .. gen_simple(env)
  elseif r == 4 then return "f(" .. gen_simple(env) .. ")(" .. gen_expr(1) .. ")"
  elseif r == 5 then return "print(" .. gen_simple(env) .. ")"
  elseif r == 6 then return "local x" .. n .. " <close> = nil"
  elseif r == 7 then return ";"
  elseif r == 8 then return "t.a.b = " .. gen_simple(env)
  elseif r == 9 then return "do\n" .. gen_block(env, depth - 1) .. "end"
  elseif r == 10 then
    return "while " .. gen_expr(1) .. " do\n"
      .. inner(env, depth - 1, true, env.continue, env.vararg) .. "end"
  elseif r == 11 then
    return "repeat\n" .. inner(env, depth - 1, true, env.continue, env.vararg)
      .. "until " .. gen_name(env)
  elseif r == 12 then
    return "for i" .. n .. " = " .. gen_expr(1) .. ", 10" .. (rnd(2) == 1 and ", 2" or "")
      .. " do\ndo\n" .. inner(env, depth - 1, true, true, env.vararg) .. "end\n::continue::\nend"
  elseif r == 13 then
    return "for a" .. n .. ", b" .. n .. " in pairs(t) do\n"
      .. inner(env, depth - 1, true, env.continue, env.vararg) .. "end"
  elseif r == 14 then
    return "if " .. gen_expr(1) .. " then\n" .. gen_block(env, depth - 1) .. "elseif "
      .. gen_expr(1) .. " then\n" .. gen_block(env, depth - 1) .. "else\n"
      .. gen_block(env, depth - 1) .. "end"
  elseif r == 15 then
    return "local function h" .. n .. "(p, ...)\n" .. inner(env, depth - 1, false, false, true)
      .. "end"
  end
  return "function t.u" .. n .. ":m(p)\n" .. inner(env, depth - 1, false, false, false)
    .. "end"
end
function gen_block (env, depth)
  local saved, lines = #env.names, {}
  for i = 1, rnd(5) do lines[i] = gen_stat(env, depth) end
  if env.loop and rnd(3) == 1 then lines[#lines + 1] = "break" end
  if env.continue and rnd(3) == 1 then lines[#lines + 1] = "goto continue" end
  for k = #env.names, saved + 1, -1 do env.names[k] = nil end
  if rnd(4) == 1 then lines[#lines + 1] = "return " .. gen_simple(env) end
  return table.concat(lines, "\n") .. "\n"
end

local function gen_program (size)
  local parts = {}
  while #parts < size do
    local env = {names = {"a", "b", "t"}, count = #parts * 100, vararg = true}
    parts[#parts + 1] = "do\nlocal a, b, t = 1, 2, {}\n" .. gen_block(env, 3) .. "end"
  end
  return table.concat(parts, "\n")
end

do print("  round trips: repository files, generated programs")
  local files = 0
  local find = io.popen("find '" .. root .. "/scripts' '" .. root .. "/lua' '" .. root
    .. "/tests' -name '*.lua' 2>/dev/null | sort")
  for path in find:lines() do
    local text = T.slurp(path)   -- read once: other files are being edited
    local ok, lerr = load(text:gsub("^#[^\n]*", "", 1), "@" .. path)   -- as loadfile
    local ast, errs = parser.parse(text, "@" .. path, true)
    if ok then
      assert(ast, errs and tostring(errs[1]))
      round_trip(text, "@" .. path, true)
    else
      assert(not ast and lerr:gsub(":%d+: ", ": ") == tostring(errs[1]):gsub(":%d+:%d+: ", ": "))
    end
    files = files + 1
  end
  find:close()
  assert(files >= 5, "repository files not found from " .. root)
  for _ = 1, 4 do
    local src = gen_program(60)
    assert(load(src))
    round_trip(src, "=generated")
  end
end


do print("  syntax errors: load's messages")
  local bad = {
    "end", "break", "goto x", "::a:: ::a::", "x = [==[ abc", "f(1\n", "return ... end",
    "function f() return ... end", "local x <const> = 1; x = 2", "a\1", "local t = {a b}",
    "#!/bin/lua\nreturn 1", "local x <close>, y <close> = 1", "for i = 1 do end",
    "local x <foo> = 1", "local x <const> = 1; function x() end", "local x <close> = 1 x = 2",
    "a.b:c = 1", "goto f; local x; ::f:: print(x)", "x = ", "local t = {[1] 2}", "a, b",
    "\"abc\" = 1", "x = 5 ; ; y = 1 = 2", "for a,b,c = 1,2 do end", "x = 'a\\tb\\0c' d",
    "f() = 1", "(a) = 1", "a, f() = 1", "x = }", "x = ~= 1", "if x then else elseif y then end",
    "repeat x = 1", "while x", "if x", "for 1", "local 1", "local function 1", "function 1",
    "function f(a, 1) end", "::a", "a:b", "a.1", "x = function", "x = {1, 2", "x = {1, 2\n",
    "f(1, 2", "x = (1\n + 2", "do local x = 1 goto l local y ::l:: print(y) end",
    "repeat goto l local y ::l:: until y", "local x <const> = 5 local function f() x = 1 end",
    "while 1 do end break", "if a then break end", "x = 1 x", "return return",
    "local function f() end end", "x = y z", "function f() return function() return ... end end",
    "x = 1 + + 2", "local a <const> = 1, 2 a = 3", "x = \255", "x = 1 .. 2 ..",
    "::x:: do ::x:: end",
    "t[1]:m() = 2", "local x = `", "x\n=\n1\n'", "goto = 1", "local function f() goto x end ::x::",
    "f\n(", "x = f\n(1", "do\n\n\n", "for i = 1, 2 do\n", "local t = {\n1,\n2", "if x then\n",
    "x = function()\n  return 1\n", "local function f() ::l:: ::l:: end", "return 1;;",
    "local a = 1 local b <const> = a local function g() b = 2 end",
    "::l1:: ::l2:: goto l3", "repeat local x until x goto l", "x = 'abc",
    string.rep("local a", 201, "\n"), "function f()\n" .. string.rep("local a", 201, " ") .. " end",
  }
  local outer, mid, uses = {}, {}, {}       -- 260 upvalues for g
  for i = 1, 130 do
    outer[i], mid[i] = "local a" .. i, "local b" .. i
    uses[#uses + 1] = "a" .. i .. " = 1 b" .. i .. " = 1"
  end
  bad[#bad + 1] = table.concat(outer, " ") .. " function f() " .. table.concat(mid, " ")
    .. " function g() " .. table.concat(uses, " ") .. " end end"
  for _, src in ipairs(bad) do
    local f, lerr = load(src, "=bad")
    assert(not f, src)
    local ast, errs = parser.parse(src, "=bad")
    assert(not ast, src)
    local e = errs[1]
    assert(e.file == "bad" and math.type(e.line) == "integer" and math.type(e.col) == "integer")
    local want = lerr:gsub("^bad:%d+: ", "")
    assert(e.msg == want, src .. "\n  lua:    " .. want .. "\n  parser: " .. e.msg)
    local lline = tonumber(lerr:match("^bad:(%d+):"))
    assert(e.line == lline or e.msg:find("goto") or e.msg:find("break") or e.msg:find("const"), src)
  end
  -- nesting: Lua's limit in the same context (load called from a script)
  for _, n in ipairs{150, 250} do
    local src = "x = " .. string.rep("(", n) .. "1" .. string.rep(")", n)
    assert(not load(src) == not parser.parse(src))
  end
  -- chunk names as Lua shows them
  local long = string.rep("x", 70)
  for _, name in ipairs{"=stdin", "@f.lua", "=" .. long, "@" .. long, "x = = 1", "x =\n= 1",
      "x = " .. long .. " = 1"} do
    local _, lerr = load(name:sub(1, 1) == "x" and name or "x = = 1", name)
    local _, errs = parser.parse(name:sub(1, 1) == "x" and name or "x = = 1", name)
    assert(lerr:gsub(":%d+: .*", "") == errs[1].file, name)
  end
  assert(not parser.parse_file(root .. "/no/such/file.lua"))
end


do print("  scopes")
  local ast = parse[[
local x = 1
local function f(a)
  local y = x + a
  do local x = 2; y = x end
  return function () return x, y, z end
end
repeat local r = 1 until r == z
local k <const> = 10 * 2 + 1
local kk <const> = k + 0.5
local kt <const> = {}
local function g() return k, kk, kt, f(g) end
]]
  local xs = names_of(ast, "x")
  local decl1 = ast.body.stats[1].vars[1]
  assert(xs[1].kind == "upvalue" and xs[1].decl == decl1)
  assert(xs[2].kind == "local" and xs[2].decl ~= decl1 and xs[2].decl.name == "x")
  assert(xs[3].kind == "upvalue" and xs[3].decl == decl1 and decl1.captured)
  local f = ast.body.stats[2].func
  local inner = f.body.stats[3].exprs[1]
  assert(#f.upvalues == 2 and f.upvalues[1] == decl1 and f.upvalues[2] == ast.env)
  assert(#inner.upvalues == 3 and inner.upvalues[1] == decl1 and inner.upvalues[2].name == "y"
    and inner.upvalues[3] == ast.env)
  assert(table.concat(inner.globals, ",") == "z" and #f.globals == 0)
  assert(table.concat(ast.globals, ",") == "z")
  local rs = names_of(ast, "r")
  assert(rs[1].kind == "local" and rs[1].decl.name == "r")       -- until sees the body
  local zs = names_of(ast, "z")
  assert(zs[1].kind == "global" and zs[1].env == ast.env)
  -- compile-time constants are no upvalues, other constants are
  local k, kk, kt = ast.body.stats[4].vars[1], ast.body.stats[5].vars[1], ast.body.stats[6].vars[1]
  assert(k.ctc and k.value == 21 and kk.ctc and kk.value == 21.5 and not kt.ctc)
  local g = ast.body.stats[7].func
  assert(#g.upvalues == 3 and g.upvalues[1] == kt and g.upvalues[2].name == "f"
    and g.upvalues[3].name == "g")
  assert(names_of(ast, "k")[1].kind == "const")
  assert(not decl1.assigned and f.body.stats[1].vars[1].assigned)

  -- constants as Lua folds them
  local folds = {{"1 // 0", false}, {"0/0", false}, {"-0.0", false}, {"-0", true, 0},
    {"2^10", true, 1024.0}, {"1 and 2", true, 2}, {"nil or 3", true, 3}, {"nil and 3", false},
    {"1 or 2", false}, {"not 1", true, false}, {"'s'", true, "s"}, {"'1' + 1", false},
    {"3.0 | 1", true, 3}, {"3.5 | 1", false}, {"math.pi", false}, {"(2)", true, 2},
    {"1 < 2", false}, {"'a' .. 'b'", false}, {"~5", true, -6}, {"-(-9223372036854775807 - 1)",
    true, math.mininteger}, {"#'abc'", false}, {"nil", true, nil}, {"1e308 * 10", true, math.huge}}
  for _, c in ipairs(folds) do
    local d = parse("local x <const> = " .. c[1]).body.stats[1].vars[1]
    assert(not d.ctc == not c[2], c[1])
    assert(not c[2] or T.same(d.value, c[3]) or d.value == c[3], c[1])
  end
  assert(not parse("local x <const>, y = 1, 2").body.stats[1].vars[1].ctc)
  assert(not parse("local x <const>, y <const> = 1").body.stats[1].vars[2].ctc)

  -- assignments in loops to variables declared outside them
  ast = parse[[
local s, t, c = 0, 0, true
for i = 1, 10 do
  local u = i
  s = s + u
  u = u + 1
  i = i + 1
  local function h() t = 1 end
  while c do c = false; u = 2 end
end
for k, v in pairs({}) do s = k end
repeat local w = 1; w = 2 until w
]]
  local function names (list)
    local out = {}
    for i, d in ipairs(list) do out[i] = d.name end
    return table.concat(out, ",")
  end
  local loop = ast.body.stats[2]
  assert(loop.tag == "Fornum" and names(loop.outer_assigns) == "s,t,c")
  assert(names(loop.body.stats[6].outer_assigns) == "c,u")
  assert(names(ast.body.stats[3].outer_assigns) == "s")
  assert(names(ast.body.stats[4].outer_assigns) == "")

  -- gotos reach their labels
  ast = parse[[
for i = 1, 3 do
  ::top::
  if i then goto continue end
  do goto top end
  local x = 1
  ::continue::
end
]]
  local body = ast.body.stats[1].body.stats
  assert(body[2].clauses[1].body.stats[1].label == body[5])
  assert(body[3].body.stats[1].label == body[1])
end


do print("  functions: find_function, upvalues as debug.getupvalue sees them")
  local src = [[
local a, b = 1, 2
local function f(x) return a + x end
local g = function (...) local c = b; return function () return c, a, print end end
local p, q = function (x) return x end, function (x, y) return y end
local t = {}
function t.m(s) return s end
function t:n() return self end
return f, g, g(), p, q, t.m, t.n
]]
  local ast = parse(src, "=ff")
  local fs = {load(src, "=ff")()}
  for i, fn in ipairs(fs) do
    local info = debug.getinfo(fn, "Su")
    local node = parser.find_function(ast, info.linedefined, info.lastlinedefined, info)
    assert(node and #node.params == info.nparams and node.is_vararg == info.isvararg, i)
    assert(#node.upvalues == info.nups, i)
    for k, d in ipairs(node.upvalues) do assert(debug.getupvalue(fn, k) == d.name, i) end
  end
  -- two functions on line 4: the lines alone do not tell them apart
  local none, msg = parser.find_function(ast, 4, 4)
  assert(not none and msg == "2 functions defined at lines 4-4 in ff")
  assert(parser.find_function(ast, 4, 4, {nparams = 2}) == ast.body.stats[4].exprs[2])
  assert(select(2, parser.find_function(ast, 9, 9)) == "no functions defined at lines 9-9 in ff")
  assert(parser.find_function(ast, 0, 0) == ast and ast.upvalues[1] == ast.env)

  -- random nested functions: each registers itself with 'reg' when defined,
  -- touches random variables (locals, shadowed ones, constants, upvalues,
  -- globals, _ENV)
  local function gen_fn (depth, vars, lines)
    local n = #lines
    local mine = {}
    for _ = 1, 1 + rnd(5) do
      local r, v = rnd(11), "v" .. rnd(5)
      if r == 1 then
        lines[#lines + 1] = "local " .. v .. " <const> = " .. pick{"1", "2.5", "'s'", "1/0",
          "-0.0", "true and 3", "{}", "nil", "2^3", v}
        mine[#mine + 1] = v
      elseif r <= 3 then
        lines[#lines + 1] = "local " .. v .. " = " .. pick(vars)
        mine[#mine + 1] = v
      elseif r <= 6 and depth < 3 then
        local inner = {"a"}
        for _, x in ipairs(vars) do inner[#inner + 1] = x end
        for _, x in ipairs(mine) do inner[#inner + 1] = x end
        local open = pick{"reg(function (a, ...)", "reg(function ()", "reg(function (a, b)",
          "do reg(function (...)"}
        lines[#lines + 1] = open
        gen_fn(depth + 1, inner, lines)
        lines[#lines + 1] = open:find("^do") and "end) end" or "end)"
      else
        local refs = {}
        for i = 1, rnd(4) do refs[i] = (rnd(3) == 1 and mine[1]) and pick(mine) or pick(vars) end
        lines[#lines + 1] = "local _ = {" .. table.concat(refs, ", ") .. "}"
      end
    end
    if #lines == n then lines[#lines + 1] = "local _ = " .. pick(vars) end
  end
  for _ = 1, 40 do
    local lines = {"local reg = ..."}
    gen_fn(0, {"reg", "gx", "gy", "_ENV", "print", "math.pi", "v1"}, lines)
    local text = table.concat(lines, "\n")
    local chunk = assert(load(text, "=gen"))
    local fns, k = {}, 1
    chunk(function (fn) fns[#fns + 1] = fn end)
    while fns[k] do fns[k](); k = k + 1 end
    ast = parse(text, "=gen")
    assert(#fns == #ast.functions)
    for _, fn in ipairs(fns) do
      local info = debug.getinfo(fn, "Su")
      local node = assert(parser.find_function(ast, info.linedefined, info.lastlinedefined))
      assert(#node.params == info.nparams and node.is_vararg == info.isvararg)
      assert(#node.upvalues == info.nups, text)
      for i, d in ipairs(node.upvalues) do assert(debug.getupvalue(fn, i) == d.name, text) end
    end
  end
end


do print("  speed")
  local src = gen_program(30)
  local lines = select(2, src:gsub("\n", "")) + 1
  local t0 = os.clock()
  parse(src)
  local ms = (os.clock() - t0) * 1000
  print(string.format("    %d lines parsed in %.1f ms (%.1f ms per 1000 lines)", lines, ms,
    ms * 1000 / lines))
  assert(lines >= 500 and ms * 1000 / lines < 200)
end

print("OK")
