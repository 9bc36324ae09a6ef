--[=[ par.jit.lexer: pass 1 of parlua's kernel compiler.

Consumes Lua 5.4 source text. Produces a token stream, read exactly as Lua's
own lexer reads it: the same tokens, numeral values (math.type included),
string escapes, line breaks (\n, \r, \r\n and \n\r count as one) and errors
("unfinished string near '"abc'", "malformed number near '3x'").

  local s, errs = lexer.tokenize(source [, chunkname [, isfile]])

'chunkname' follows load's convention ("@file", "=name", or by default the
source itself) and names the chunk in messages as Lua does; 'isfile' skips a
UTF-8 BOM and a first line starting with '#', as loadfile does.

The stream holds parallel arrays indexed 1..s.n (token s.n is "<eof>"):
  s.kind[i]    "<name>", "<string>", "<number>", "<eof>", a keyword ("while"),
               an operator ("//", "..."), or any other single character
  s.value[i]   the name, the string's contents, or the number
  s.line[i], s.col[i]   where the token starts (1-based; columns in bytes)
  s.eline[i]   the line where it ends, only when that differs
  s.pos[i], s.epos[i]   its first and last byte in s.src
and s.chunk, the chunk's name as shown in messages.
On error: nil and a list holding one error record (lexer.new_error).
]=]

local M = {}

local byte, char, sub, find = string.byte, string.char, string.sub, string.find
local format = string.format
local concat = table.concat

local Error = {}
Error.__index = Error

function Error.__tostring (e)
  if not e.line then return e.file .. ": " .. e.msg end
  return format("%s:%d:%d: %s", e.file, e.line, e.col, e.msg)
end

-- An error record of any pass: file:line:col and the message.
function M.new_error (file, line, col, msg)
  return setmetatable({file = file, line = line, col = col, msg = msg}, Error)
end

function M.is_error (e)
  return getmetatable(e) == Error
end

-- The chunk's name as Lua shows it in messages (luaO_chunkid's rules).
function M.chunkid (source)
  local first = sub(source, 1, 1)
  if first == "=" then return sub(source, 2, 60) end
  if first == "@" then
    return #source <= 60 and sub(source, 2) or "..." .. sub(source, -56)
  end
  local line = source:match("^[^\n]*")
  if #source < 45 and #line == #source then return '[string "' .. source .. '"]' end
  return '[string "' .. sub(line, 1, 45) .. '..."]'
end

local keywords = {}
for w in ([[and break do else elseif end false for function goto if in
    local nil not or repeat return then true until while]]):gmatch("%a+") do
  keywords[w] = true
end
M.keywords = keywords

-- Token kinds shown without quotes in messages, as Lua does.
local bare = {["<eof>"] = true, ["<name>"] = true, ["<string>"] = true, ["<number>"] = true}

-- A token kind as Lua names it in messages: 'end', '<\1>', <eof>.
function M.token2str (kind)
  if bare[kind] then return kind end
  local c = byte(kind)
  if #kind == 1 and (c < 32 or c > 126) then return format("'<\\%d>'", c) end
  return "'" .. kind .. "'"
end

-- Text in quotes, cut at a zero byte as Lua's "%s" does.
local function quote (text)
  return "'" .. text:match("^[^\0]*") .. "'"
end

-- Token i as it appears after "near" in messages.
function M.near (s, i)
  local kind, p = s.kind[i], s.pos[i]
  if kind == "<name>" or kind == "<number>" then return quote(sub(s.src, p, s.epos[i])) end
  if kind ~= "<string>" then return M.token2str(kind) end
  local open = s.src:match("^%[=*%[", p)
  if not open then return quote(sub(s.src, p, p) .. s.value[i] .. sub(s.src, p, p)) end
  return quote(open .. s.value[i] .. open:gsub("%[", "]"))
end

---------------------------------------------------------------------------
-- Scanner. lx holds the stream being built plus the cursor: cur (next byte),
-- ln (current line) and ls0 (position of the first byte of that line).
---------------------------------------------------------------------------

local isxdigit, isalpha = {}, {}
for c = 0, 255 do
  local ch = char(c)
  isxdigit[c] = ch:find("^[0-9A-Fa-f]$") ~= nil
  isalpha[c] = ch:find("^[A-Za-z_]$") ~= nil
end

local function fail (lx, p, msg, near)
  if near then msg = msg .. " near " .. near end
  error(M.new_error(lx.chunk, lx.ln, p - lx.ls0 + 1, msg), 0)
end

local function push (lx, kind, value, p, q, line, col)
  local n = lx.n + 1
  lx.n = n
  lx.kind[n], lx.value[n], lx.pos[n], lx.epos[n] = kind, value, p, q
  lx.line[n], lx.col[n] = line, col
  if lx.ln ~= line then lx.eline[n] = lx.ln end
  lx.cur = q + 1
end

-- A token that starts and ends on the current line.
local function push1 (lx, kind, value, p, q)
  push(lx, kind, value, p, q, lx.ln, p - lx.ls0 + 1)
end

-- Skips the line break at p; returns the position after it.
local function newline (lx, p)
  local c, d = byte(lx.src, p, p + 1)
  p = ((d == 10 or d == 13) and d ~= c) and p + 2 or p + 1
  lx.ln, lx.ls0 = lx.ln + 1, p
  return p
end

-- Counts the line breaks of 'text', which starts at byte 'base' of the
-- source; returns the text with each break turned into "\n".
local function breaks (lx, text, base)
  if not find(text, "[\r\n]") then return text end
  local parts, n, k = {}, 0, 1
  for b in text:gmatch("()[\r\n]") do
    if b >= k then
      local c, d = byte(text, b, b + 1)
      local e = ((d == 10 or d == 13) and d ~= c) and b + 1 or b
      n = n + 1
      parts[n] = sub(text, k, b - 1)
      lx.ln, lx.ls0 = lx.ln + 1, base + e
      k = e + 1
    end
  end
  parts[n + 1] = sub(text, k)
  return concat(parts, "\n")
end

-- The level of a long bracket "[==[" at p, or nil and the count of '='.
local function long_open (src, p)
  local _, e = find(src, "^%[=*", p)
  if byte(src, e + 1) == 91 then return e - p end
  return nil, e - p
end

-- Reads the long string or comment opened at p; returns its contents.
local function long_bracket (lx, p, level, what)
  local src, line = lx.src, lx.ln
  local q = p + level + 2
  local c = byte(src, q)
  if c == 10 or c == 13 then q = newline(lx, q) end
  local s, e = find(src, "]" .. ("="):rep(level) .. "]", q, true)
  if not s then
    breaks(lx, sub(src, q), q)
    fail(lx, #src + 1, format("unfinished long %s (starting at line %d)", what, line), "<eof>")
  end
  lx.cur = e + 1
  return breaks(lx, sub(src, q, s - 1), q), e
end

local simple_escapes = {}
for k, v in pairs{a = "\a", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t",
    v = "\v", ["\\"] = "\\", ['"'] = '"', ["'"] = "'"} do
  simple_escapes[byte(k)] = v
end

local function hexvalue (c)
  return c and isxdigit[c] and tonumber(char(c), 16)
end

-- An error inside the escape at q, the offending byte at k. Lua shows the
-- string read so far: delimiter, decoded parts, then the escape's raw bytes.
local function escape_error (lx, q, k, msg, buf)
  fail(lx, q, msg, quote(char(buf.delim) .. concat(buf, "", 1, buf.n) .. sub(lx.src, q, k)))
end

local function utf8_escape (lx, q, buf)
  local src = lx.src
  if byte(src, q + 2) ~= 123 then escape_error(lx, q, q + 2, "missing '{'", buf) end
  local k, r = q + 3, 0
  local h = hexvalue(byte(src, k))
  if not h then escape_error(lx, q, k, "hexadecimal digit expected", buf) end
  repeat
    if r > 0x7FFFFFF then escape_error(lx, q, k, "UTF-8 value too large", buf) end
    r, k = r * 16 + h, k + 1
    h = hexvalue(byte(src, k))
  until not h
  if byte(src, k) ~= 125 then escape_error(lx, q, k, "missing '}'", buf) end
  return utf8.char(r), k + 1
end

local function hex_escape (lx, q, buf)
  local hi, lo = hexvalue(byte(lx.src, q + 2)), hexvalue(byte(lx.src, q + 3))
  if not hi then escape_error(lx, q, q + 2, "hexadecimal digit expected", buf) end
  if not lo then escape_error(lx, q, q + 3, "hexadecimal digit expected", buf) end
  return char(hi * 16 + lo), q + 4
end

-- '\z': skips the following white space, line breaks included.
local function zap (lx, k)
  while true do
    k = find(lx.src, "[^ \t\f\v]", k) or #lx.src + 1
    local c = byte(lx.src, k)
    if c ~= 10 and c ~= 13 then return "", k end
    k = newline(lx, k)
  end
end

-- Decodes the escape whose backslash is at q; returns its bytes and the
-- position after it. 'buf' is the string read so far, for messages.
local function escape (lx, q, buf)
  local src = lx.src
  local c = byte(src, q + 1)
  local simple = simple_escapes[c]
  if simple then return simple, q + 2 end
  if c == 10 or c == 13 then return "\n", newline(lx, q + 1) end
  if c == 120 then return hex_escape(lx, q, buf) end
  if c == 122 then return zap(lx, q + 2) end
  if c == 117 then return utf8_escape(lx, q, buf) end
  if c == nil then return "", q + 1 end          -- "unfinished string" follows
  local _, e = find(src, "^[0-9][0-9]?[0-9]?", q + 1)
  if not e then escape_error(lx, q, q + 1, "invalid escape sequence", buf) end
  local v = tonumber(sub(src, q + 1, e))
  if v > 255 then escape_error(lx, q, e + 1, "decimal escape too large", buf) end
  return char(v), e + 1
end

local string_body = {[34] = '^[^"\\\r\n]*', [39] = "^[^'\\\r\n]*"}

local function short_string (lx, p)
  local src, delim = lx.src, byte(lx.src, p)
  local line, col = lx.ln, p - lx.ls0 + 1
  local buf, q = {delim = delim, n = 0}, p + 1
  while true do
    local _, e = find(src, string_body[delim], q)
    if e >= q then buf.n = buf.n + 1; buf[buf.n] = sub(src, q, e) end
    q = e + 1
    local c = byte(src, q)
    if c == delim then break end
    if c == nil then fail(lx, q, "unfinished string", "<eof>") end
    if c ~= 92 then
      fail(lx, q, "unfinished string", quote(char(delim) .. concat(buf, "", 1, buf.n)))
    end
    local s
    s, q = escape(lx, q, buf)
    buf.n = buf.n + 1
    buf[buf.n] = s
  end
  push(lx, "<string>", concat(buf, "", 1, buf.n), p, q, line, col)
end

-- Reads a numeral as llex's read_numeral does (digits, '.', exponents with
-- signs, and one letter touching it), then converts it with Lua's own rules
-- (tonumber: decimal integers that overflow become floats, hex ones wrap).
local function numeral (lx, p)
  local src, q = lx.src, p
  if byte(src, q) == 46 then q = q + 1 end
  local e1, e2 = 69, 101
  local x = byte(src, q + 1)
  if byte(src, q) == 48 and (x == 88 or x == 120) then e1, e2, q = 80, 112, q + 1 end
  q = q + 1
  local c = byte(src, q)
  while c do
    if c == e1 or c == e2 then
      q = q + 1
      c = byte(src, q)
      if c == 43 or c == 45 then q = q + 1; c = byte(src, q) end
    elseif isxdigit[c] or c == 46 then
      q = q + 1
      c = byte(src, q)
    else
      break
    end
  end
  if c and isalpha[c] then q = q + 1 end
  local text = sub(src, p, q - 1)
  local v = tonumber(text)
  if not v then fail(lx, p, "malformed number", quote(text)) end
  push1(lx, "<number>", v, p, q - 1)
end

local function name (lx, p)
  local _, q = find(lx.src, "^[A-Za-z0-9_]*", p + 1)
  local word = sub(lx.src, p, q)
  push1(lx, keywords[word] and word or "<name>", word, p, q)
end

local function long_string (lx, p)
  local level, eqs = long_open(lx.src, p)
  if not level then
    if eqs > 0 then fail(lx, p, "invalid long string delimiter", quote(sub(lx.src, p, p + eqs))) end
    return push1(lx, "[", nil, p, p)
  end
  local line, col = lx.ln, p - lx.ls0 + 1
  local text, e = long_bracket(lx, p, level, "string")
  push(lx, "<string>", text, p, e, line, col)
end

-- '-', or a comment (short or long).
local function minus (lx, p)
  local src = lx.src
  if byte(src, p + 1) ~= 45 then return push1(lx, "-", nil, p, p) end
  if byte(src, p + 2) == 91 then
    local level = long_open(src, p + 2)
    if level then
      long_bracket(lx, p + 2, level, "comment")
      return
    end
  end
  lx.cur = find(src, "[\r\n]", p + 2) or #src + 1
end

local two_chars = {["=="] = true, ["<="] = true, [">="] = true, ["~="] = true,
  ["//"] = true, ["::"] = true, ["<<"] = true, [">>"] = true}

local function operator (lx, p)
  local two = sub(lx.src, p, p + 1)
  if two_chars[two] then return push1(lx, two, nil, p, p + 1) end
  push1(lx, sub(two, 1, 1), nil, p, p)
end

local function dot (lx, p)
  local src = lx.src
  if sub(src, p, p + 2) == "..." then return push1(lx, "...", nil, p, p + 2) end
  if sub(src, p, p + 1) == ".." then return push1(lx, "..", nil, p, p + 1) end
  local c = byte(src, p + 1)
  if c and c >= 48 and c <= 57 then return numeral(lx, p) end
  push1(lx, ".", nil, p, p)
end

local function line_break (lx, p)
  lx.cur = newline(lx, p)
end

-- First byte -> scanner; other bytes are single-character tokens.
local scanners = {[10] = line_break, [13] = line_break, [45] = minus, [91] = long_string,
  [34] = short_string, [39] = short_string, [46] = dot}
for c in ("=<>/~:"):gmatch(".") do scanners[byte(c)] = operator end
for c = 0, 255 do
  if c >= 48 and c <= 57 then scanners[c] = numeral
  elseif isalpha[c] then scanners[c] = name end
end

local function scan_all (lx)
  local src = lx.src
  while true do
    local p = find(src, "[^ \t\f\v]", lx.cur)
    if not p then return push1(lx, "<eof>", nil, #src + 1, #src) end
    local c = byte(src, p)
    local f = scanners[c]
    if f then f(lx, p) else push1(lx, char(c), nil, p, p) end
  end
end

-- Where reading starts: loadfile skips a BOM, then a first line starting
-- with '#' (up to, not including, its '\n').
local function start (src, isfile)
  if not isfile then return 1 end
  local p = sub(src, 1, 3) == "\239\187\191" and 4 or 1
  if byte(src, p) == 35 then p = find(src, "\n", p, true) or #src + 1 end
  return p
end

-- The whole stream. On a lexical error the stream ends with a token of kind
-- "<error>" at the error's position and s.err holds the error: the parser
-- raises it only when it reaches that token, as Lua's on-demand lexer does.
function M.scan (source, chunkname, isfile)
  local lx = {src = source, chunk = M.chunkid(chunkname or source), n = 0,
    kind = {}, value = {}, line = {}, col = {}, eline = {}, pos = {}, epos = {},
    cur = start(source, isfile), ln = 1, ls0 = 1}
  local ok, err = pcall(scan_all, lx)
  if not ok then
    if not M.is_error(err) then error(err, 0) end
    lx.n = lx.n + 1
    lx.kind[lx.n], lx.line[lx.n], lx.col[lx.n] = "<error>", err.line, err.col
    lx.err = err
  end
  lx.cur, lx.ln, lx.ls0 = nil, nil, nil
  return lx
end

function M.tokenize (source, chunkname, isfile)
  local s = M.scan(source, chunkname, isfile)
  if s.err then return nil, {s.err} end
  return s
end

return M
