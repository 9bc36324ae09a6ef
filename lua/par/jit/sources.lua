--[=[ par.jit.sources: the source text of a Lua function, checked.

  sources.of(f)  -- chunk | nil, reason
                 -- chunk = {key, text, name (the chunk name), isfile}

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

-- The chunks that may hold a function of chunk 'source' (a file, or text
-- the host kept: REPL lines, load of a named string), the likeliest
-- first; and whether the file is missing.
local function candidates (source)
  if sub(source, 1, 1) == "=" then return kept(source, {}) end
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
