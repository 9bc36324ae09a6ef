-- driver_common.lua: helpers of the fuzz drivers, run once before them
-- (globals, since each driver is a separate chunk).

local spack = string.pack
local array_mt = getmetatable(par.zeros(1))

function isarray (v)
  return type(v) == "userdata" and getmetatable(v) == array_mt
end

-- Bitwise equality of two elements (floats by their bits, NaNs alike).
function same_value (x, y)
  if math.type(x) ~= math.type(y) then return false end
  if math.type(x) == "float" then
    if x ~= x then return y ~= y end
    return spack("<d", x) == spack("<d", y)
  end
  return x == y
end

-- Elements of an array in row-major order, as a Lua list.
function elements (a)
  local flat, out = a:reshape(a.size), {}
  for i = 1, a.size do out[i] = flat[i] end
  return out
end

local function shapetext (a)
  return a.ndim == 1 and string.format("(%d,)", a.shape[1])
      or string.format("(%d, %d)", a.shape[1], a.shape[2])
end

-- Asserts that a and b have one dtype, one shape and the same elements.
function check_same (a, b, what)
  assert(a.dtype == b.dtype, what .. ": dtype " .. a.dtype .. " became " .. b.dtype)
  assert(shapetext(a) == shapetext(b), what .. ": shape " .. shapetext(a)
         .. " became " .. shapetext(b))
  local ea, eb = elements(a), elements(b)
  for i = 1, #ea do
    assert(same_value(ea[i], eb[i]), string.format("%s: element %d %s became %s",
           what, i, tostring(ea[i]), tostring(eb[i])))
  end
end

-- Asserts that an array is self-consistent and prints.
function check_array (a)
  assert(a.ndim == 1 or a.ndim == 2, "ndim")
  local m = a.ndim == 2 and a.shape[2] or 1
  assert(a.size == a.shape[1] * m and #a == a.shape[1], "size")
  assert(type(tostring(a)) == "string")
end

-- Asserts that an error message is clean: a string matching one of the
-- patterns given (a message made by parlua, not a runtime error of Lua).
function check_message (msg, ...)
  assert(type(msg) == "string", "error value is a " .. type(msg))
  for _, p in ipairs{...} do
    if msg:find(p) then return end
  end
  error("unexpected error message: " .. msg, 0)
end

-- Patterns of the allocation errors any constructor may raise.
ALLOC_ERRORS = {"^not enough memory$", "too big", "negative dimensions"}

-- The patterns given plus ALLOC_ERRORS.
function with_alloc (...)
  local t = {...}
  for _, p in ipairs(ALLOC_ERRORS) do t[#t + 1] = p end
  return table.unpack(t)
end
