-- driver_array.lua: array constructors from Lua values built out of the
-- fuzzer's bytes: par.array on tables (nesting, holes, mixed types, rows of
-- different lengths, arrays as rows, extreme numbers) checked against a
-- model of the API's rules (section 2 of the API), then zeros, full,
-- linspace and arange with fuzzed sizes and bounds.
local data = ...
local pos = 0

local function byte ()
  pos = pos + 1
  return data:byte(pos) or 0
end

local function bytes (n)
  local s = data:sub(pos + 1, pos + n)
  pos = pos + n
  return s .. string.rep("\0", n - #s)
end

local extremes = {math.maxinteger, math.mininteger, 2.0^63, -2.0^63, 2^53, 2.0^53 + 2,
  1e308, -1e308, -0.0, 1 / 0, -1 / 0, 0 / 0, 5e-324, 0.5, -1, 0, 1.0}

-- A Lua value; tables nest at most 3 deep.
local function value (depth)
  local op = byte() % 14
  if op == 0 then return byte() - 128
  elseif op == 1 then return (string.unpack("<i8", bytes(8)))
  elseif op == 2 then return (string.unpack("<d", bytes(8)))
  elseif op == 3 then return (byte() - 128) / 8
  elseif op == 4 then return byte() % 2 == 0
  elseif op == 5 then return extremes[byte() % #extremes + 1]
  elseif op <= 8 and depth < 3 then               -- a sequence
    local t, n = {}, byte() % 6
    for i = 1, n do t[i] = value(depth + 1) end
    return t
  elseif op == 9 then return nil
  elseif op == 10 then return ({"1", "x", "", "0x10"})[byte() % 4 + 1]
  elseif op == 11 and depth < 3 then              -- an array, maybe a row
    local ok, a = pcall(par.array, value(depth + 1))
    return ok and a or par.zeros(byte() % 3)
  elseif op == 12 then                            -- not a sequence
    return {x = 1, [2] = 3}
  end
  return byte() % 3 == 0 and {} or 0
end

-- A table of n rows of m values of one kind, so that 2-D input is common.
local function grid ()
  local n, m, kind = byte() % 5, byte() % 5, byte() % 3
  local t = {}
  for i = 1, n do
    local r = {}
    for j = 1, m do
      r[j] = kind == 0 and byte() - 128 or kind == 1 and (byte() - 128) / 4 or byte() % 2 == 1
    end
    t[i] = byte() % 8 == 0 and value(1) or r    -- now and then a bad row
  end
  return t
end

local function kind (v)
  if math.type(v) == "integer" then return "int" end
  if math.type(v) == "float" then return "float" end
  if type(v) == "boolean" then return "bool" end
end

-- Length of a row (a table or a 1-D array), or nil.
local function rowlen (r)
  if isarray(r) then return r.ndim == 1 and #r or nil end
  if type(r) == "table" then return rawlen(r) end
end

local function entry (r, j)
  if isarray(r) then return r[j] end
  return rawget(r, j)
end

-- What par.array(t, dt) must give: dtype, ndim, n, m and the elements, or
-- nil when it must raise.
local valid = {float64 = true, int64 = true, bool = true}

local function model (t, dt)
  if type(t) ~= "table" or (dt ~= nil and not valid[dt]) then return nil end
  local n, m, is2d, vals = rawlen(t), 1, false, {}
  is2d = n > 0 and rowlen(rawget(t, 1)) ~= nil
  if is2d then
    m = rowlen(rawget(t, 1))
    for i = 1, n do
      if rowlen(rawget(t, i)) ~= m then return nil end
    end
    for i = 1, n do
      for j = 1, m do vals[#vals + 1] = entry(rawget(t, i), j) end
    end
  else
    for i = 1, n do vals[i] = rawget(t, i) end
  end
  local count = n * m
  if dt == nil then
    local k = nil
    for i = 1, count do
      local ki = kind(vals[i])
      if ki == nil or (ki == "bool") ~= ((k or ki) == "bool") then return nil end
      if k ~= "float" then k = ki end
    end
    dt = k == "int" and "int64" or k == "bool" and "bool" or "float64"
  end
  for i = 1, count do
    local v = vals[i]
    if dt == "float64" then
      if type(v) ~= "number" then return nil end
      vals[i] = math.type(v) == "integer" and v + 0.0 or v
    elseif dt == "int64" then
      vals[i] = type(v) == "number" and math.tointeger(v)
      if not vals[i] then return nil end
    elseif dt == "bool" then
      if type(v) ~= "boolean" then return nil end
    else
      return nil
    end
  end
  return {dtype = dt, ndim = is2d and 2 or 1, n = n, m = m, vals = vals}
end

local dtypes = {false, "float64", "int64", "bool", "int32", 3}

do   -- par.array on a table
  local t = byte() % 2 == 0 and grid() or value(0)
  local dt = dtypes[byte() % #dtypes + 1] or nil
  local want = model(t, dt)
  local ok, a = pcall(par.array, t, dt)
  if not ok then
    assert(not want, "par.array refused a valid table: " .. tostring(a))
    check_message(a, with_alloc("^bad argument #[12] to '[%w.]*array' %(.+%)$",
                                "^number has no integer representation"))
  elseif isarray(t) then
    assert(a.size == t.size and a.ndim == t.ndim)
  else
    assert(want, "par.array accepted a table the API rejects")
    check_array(a)
    assert(a.dtype == want.dtype, "dtype " .. a.dtype .. ", expected " .. want.dtype)
    assert(a.ndim == want.ndim and a.shape[1] == want.n and (a.ndim == 1 or a.shape[2] == want.m),
           "shape")
    local e = elements(a)
    for i = 1, #want.vals do
      assert(same_value(e[i], want.vals[i]),
             string.format("element %d is %s, expected %s", i, tostring(e[i]), tostring(want.vals[i])))
    end
    if a.size > 0 then check_same(a, par.array(a:totable()), "totable and back") end
  end
end

local function number ()
  local v = value(3)
  return type(v) == "table" and #v or v
end

do   -- other constructors with fuzzed arguments
  local op = byte() % 5
  local f, args
  if op == 0 then f, args = par.zeros, {number(), number()}
  elseif op == 1 then f, args = par.full, {number(), value(3)}
  elseif op == 2 then f, args = par.linspace, {number(), number(), number()}
  elseif op == 3 then f, args = par.arange, {number(), number(), number()}
  else f, args = par.ones, {{number(), number()}, dtypes[byte() % #dtypes + 1] or nil}
  end
  local ok, a = pcall(f, table.unpack(args, 1, 3))
  if ok then
    check_array(a)
  else
    check_message(a, with_alloc("^bad argument #%d to '[%w_.]+' %(.+%)$",
                                "^arange: cannot compute length$",
                                "^number has no integer representation$",
                                "array element must be a"))
  end
end
