--[=[ par.jit.sources: the source text of a Lua function, checked.

  sources.of(f)  -- chunk | nil, reason
                 -- chunk = {key, text, name (the chunk name), isfile}
  sources.keep(name, text)  -- a text the caller loads under name "=..."
  sources.index_of(f)       -- k: f is the k-th function of its chunk's text

debug.getinfo names f's chunk but does not give its text. The text comes
from the file ("@name"), from the name itself (load of a string), or from
the texts the parlua host keeps (par._chunk_texts): of chunks without a
file ("=stdin" for REPL lines, "=(command line)" for -e) and of strings
given to load under a name ("=name", "@name"). A text is used only when
compiling it gives f's prototype exactly (string.dump agrees: code,
constants, lines and names), so neither a file edited since f was loaded
nor another REPL line at the same line numbers is taken for f's source.
'key' names the text: plans and ASTs are cached by it.
]=]

local M = {}

local format, dump, byte, find, sub = string.format, string.dump, string.byte, string.find, string.sub
local getinfo = debug.getinfo

-- string.dump of a closure: a 31-byte header, the closure's upvalue count,
-- then its prototype, which starts with the source name (a size, 7 bits a
-- byte, the last byte flagged 0x80: 0 for none, else length + 1). Nested
-- prototypes of a chunk carry no source name.
local PROTO_AT = 33

-- The prototype in dump d, after its source name.
local function skip_source (d)
  local i, size = PROTO_AT, 0
  repeat
    local b = byte(d, i)
    size, i = (size << 7) | (b & 0x7f), i + 1
  until b >= 0x80
  if size > 0 then i = i + size - 1 end
  return sub(d, i)
end

-- The text as luaL_loadfile reads it: no UTF-8 BOM, no '#' first line.
local function as_loadfile (text)
  text = text:gsub("^\239\187\191", "")
  if sub(text, 1, 1) == "#" then
    local nl = find(text, "\n", 1, true)
    text = nl and sub(text, nl) or ""
    if byte(text, 2) == 27 then text = sub(text, 2) end
  end
  return text
end

local dumps = {}    -- chunk key -> string.dump of the chunk's main function | false

-- Whether chunk c's text compiles to a chunk holding prototype p (the
-- main one when 'ismain').
local function holds (c, p, ismain)
  local d = dumps[c.key]
  if d == nil then
    local main = load(c.isfile and as_loadfile(c.text) or c.text, c.name, "t")
    d = main and dump(main) or false
    dumps[c.key] = d
  end
  if not d then return false end
  if ismain then return skip_source(d) == p end
  return find(d, "\128" .. p, PROTO_AT, true) ~= nil
end

local files = {}    -- "@name" -> {chunk, ...}, the newest first

-- The texts the host kept for chunk name 'source', the newest first,
-- appended to list 'out'.
local function kept (source, out)
  local par = package.loaded.par or rawget(_G, "par")
  for _, t in ipairs(par and par._chunk_texts and par._chunk_texts(source) or {}) do
    out[#out + 1] = {key = format("%s\0k%d", source, t.id), text = t.text, name = source}
  end
  return out
end

local made = {}     -- "=name" -> {chunk, ...}: texts of M.keep

-- The chunks that may hold a function of chunk 'source' (a file, or text
-- the host kept: REPL lines, load of a named string), the likeliest
-- first; and whether the file is missing.
local function candidates (source)
  if sub(source, 1, 1) == "=" then return kept(source, {table.unpack(made[source] or {})}) end
  local list = files[source] or {}
  files[source] = list
  local fh = io.open(sub(source, 2), "rb")
  local text = fh and fh:read("a")
  if fh then fh:close() end
  if text and (not list[1] or list[1].text ~= text) then
    table.insert(list, 1, {key = format("%s\0%d", source, #list + 1), text = text, name = source,
      isfile = true})
  end
  local out = {}
  for k, c in ipairs(list) do out[k] = c end
  return kept(source, out), text == nil
end

-- The chunk of f, searched for.
local function search (f, info, p)
  local source = info.source
  local first = sub(source, 1, 1)
  if first ~= "@" and first ~= "=" then          -- load of a string: its text
    return {key = source, text = source, name = source}
  end
  local list, missing = candidates(source)
  for _, c in ipairs(list) do
    if holds(c, p, info.what == "main") then return c end
  end
  local name = sub(source, 2)
  if first == "=" then return nil, format("the source of chunk '%s' is not available", name) end
  if missing then return nil, format("cannot read the source file '%s'", name) end
  return nil, format("the source file '%s' has changed since the function was loaded", name)
end

-- ldump's dumpSize at d[i]: the value and the index after it.
local function size_at (d, i)
  local x, b = 0, 0
  repeat
    b = byte(d, i)
    x, i = (x << 7) | (b & 0x7f), i + 1
  until b >= 0x80
  return x, i
end

local function skip_string (d, i)
  local n
  n, i = size_at(d, i)
  return n > 0 and i + n - 1 or i
end

-- Walks the prototype dumped at d[i], appending to 'starts' where each
-- prototype nested in it begins, in the order Lua made them (that of their
-- 'function' keywords); returns the index after it.
local function walk (d, i, starts)
  local n
  i = skip_string(d, i)
  i = select(2, size_at(d, select(2, size_at(d, i)))) + 3      -- lines, 3 bytes
  n, i = size_at(d, i)
  i = i + 4 * n                                                 -- code
  n, i = size_at(d, i)
  for _ = 1, n do                                               -- constants
    local tag = byte(d, i)
    i = i + 1
    if tag == 0x03 or tag == 0x13 then i = i + 8
    elseif tag == 0x04 or tag == 0x14 then i = skip_string(d, i) end
  end
  n, i = size_at(d, i)
  i = i + 3 * n                                                 -- upvalues
  n, i = size_at(d, i)
  for _ = 1, n do
    starts[#starts + 1] = i
    i = walk(d, i, starts)
  end
  n, i = size_at(d, i)
  i = i + n                                                     -- lineinfo
  n, i = size_at(d, i)
  for _ = 1, 2 * n do i = select(2, size_at(d, i)) end          -- abslineinfo
  n, i = size_at(d, i)
  for _ = 1, n do                                               -- locvars
    i = skip_string(d, i)
    i = select(2, size_at(d, select(2, size_at(d, i))))
  end
  n, i = size_at(d, i)
  for _ = 1, n do i = skip_string(d, i) end                     -- upvalue names
  return i
end

local index_by_proto = {}                                  -- chunk key \0 prototype -> k | false
local index_by_closure = setmetatable({}, {__mode = "k"})  -- f -> k | false

-- The place of f's prototype among those nested in its chunk (1-based,
-- in the order of their 'function' keywords), or nil.
function M.index_of (f)
  local k = index_by_closure[f]
  if k == nil then
    local c = M.of(f)
    local d = c and dumps[c.key]
    if not d then return nil end
    local p = "\128" .. skip_source(dump(f))
    local key = c.key .. "\0" .. p
    k = index_by_proto[key]
    if k == nil then
      local starts = {}
      walk(d, PROTO_AT, starts)
      k = false
      for j, at in ipairs(starts) do
        if sub(d, at, at + #p - 1) == p then k = j break end
      end
      index_by_proto[key] = k
    end
    index_by_closure[f] = k
  end
  return k or nil
end

-- Keeps 'text', loaded by the caller under chunk name 'source' ("=name").
function M.keep (source, text)
  local list = made[source] or {}
  made[source] = list
  list[#list + 1] = {key = format("%s\0m%d", source, #list + 1), text = text, name = source}
end

local by_proto = {}                                  -- source \0 prototype -> chunk
local by_closure = setmetatable({}, {__mode = "k"})  -- f -> chunk

-- See the header.
function M.of (f)
  local c = by_closure[f]
  if c then return c end
  local info = getinfo(f, "S")
  local ok, d = pcall(dump, f)
  if info.what == "C" or not ok then return nil, "a C function" end
  local p = skip_source(d)
  local pk = info.source .. "\0" .. p
  c = by_proto[pk]
  if not c then
    local err
    c, err = search(f, info, p)
    if not c then return nil, err end
    by_proto[pk] = c
  end
  by_closure[f] = c
  return c
end

return M
