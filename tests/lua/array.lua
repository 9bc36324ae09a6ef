-- array.lua: the Lua face of parlua's arrays: constructors and their dtype
-- rules, indexing, views, shape methods, conversions, tostring. Reference
-- values were computed with NumPy 1.24 and are written as exact hex floats.
local T = require "common"
local checkerror, same = T.checkerror, T.same

-- every element of array a equals t[i] bitwise (same math.type too)
local function equals(a, t)
  assert(#a == #t, "length " .. #a .. " vs " .. #t)
  for i = 1, #t do
    if not same(a[i], t[i]) then
      error(string.format("element %d: %s vs %s", i, a[i], t[i]), 2)
    end
  end
  return true
end

-- 2-D version, through a:get(i, j)
local function equals2(a, t)
  assert(a.ndim == 2 and a.shape[1] == #t and a.shape[2] == #(t[1] or {}))
  for i = 1, #t do
    for j = 1, #t[i] do
      if not same(a:get(i, j), t[i][j]) then
        error(string.format("element [%d][%d]: %s vs %s", i, j, a:get(i, j), t[i][j]), 2)
      end
    end
  end
  return true
end

print("testing arrays")

print("  par.array and dtype rules")
do
  local a = par.array{1, 2, 3}
  assert(a.dtype == "int64" and a.ndim == 1 and a.size == 3 and #a == 3)
  assert(equals(a, {1, 2, 3}))
  a = par.array{1, 2.0, 3}
  assert(a.dtype == "float64" and equals(a, {1.0, 2.0, 3.0}))
  a = par.array{true, false, true}
  assert(a.dtype == "bool" and equals(a, {true, false, true}))
  a = par.array{}
  assert(a.dtype == "float64" and a.ndim == 1 and a.size == 0 and #a == 0)
  a = par.array{{1, 2, 3}, {4, 5, 6}}
  assert(a.dtype == "int64" and a.ndim == 2 and a.size == 6 and #a == 2)
  assert(a.shape[1] == 2 and a.shape[2] == 3 and #a.shape == 2)
  assert(equals2(a, {{1, 2, 3}, {4, 5, 6}}))
  a = par.array{{1, 2}, {3, 4.5}}
  assert(a.dtype == "float64" and equals2(a, {{1.0, 2.0}, {3.0, 4.5}}))
  a = par.array{{}, {}}
  assert(a.ndim == 2 and a.shape[1] == 2 and a.shape[2] == 0 and a.dtype == "float64")
  -- rows may be 1-D arrays; an array argument gives a copy
  local r = par.array{7, 8}
  a = par.array{r, {9, 10}}
  assert(a.dtype == "int64" and equals2(a, {{7, 8}, {9, 10}}))
  local c = par.array(r)
  c[1] = 0
  assert(r[1] == 7 and c.dtype == "int64")
  assert(equals(par.array(r, "float64"), {7.0, 8.0}))
  -- explicit dtypes convert with Lua's rules
  assert(equals(par.array({1, 2}, "float64"), {1.0, 2.0}))
  assert(equals(par.array({1.0, -2.0, 3}, "int64"), {1, -2, 3}))
  assert(equals(par.array({}, "int64"), {}) and par.array({}, "bool").dtype == "bool")
  -- bad entries are named by position
  checkerror("(entry [2][3] is a string, expected a number)", par.array, {{1, 2, 3}, {4, 5, "x"}})
  checkerror("entry [1] is a string, expected a number or boolean", par.array, {"a"})
  checkerror("entry [2] is a boolean, expected a number", par.array, {1, true})
  checkerror("entry [2] is a number, expected a boolean", par.array, {true, 1})
  checkerror("entry [2] is nil, expected a number", par.array, {1, nil, 3})
  checkerror("entry [3] is a table, expected a number", par.array, {1, 2, {3}})
  checkerror("entry [3] is a number, expected a table (a row)", par.array, {{1}, {2}, 3})
  checkerror("entry [1][1] is a table, expected a number or boolean", par.array, {{{1}}})
  checkerror("entry [1] is a userdata", par.array, {par.zeros(2, 2)})
  checkerror("row 2 has length 1, row 1 has length 2", par.array, {{1, 2}, {3}})
  checkerror("row 2 has length 3, row 1 has length 2", par.array, {{1, 2}, par.array{1, 2, 3}})
  checkerror("entry [2] has no integer representation", par.array, {1, 1.5}, "int64")
  checkerror("entry [2][1] has no integer representation", par.array, {{1}, {0/0}}, "int64")
  checkerror("entry [1] is a number, expected a boolean", par.array, {1}, "bool")
  checkerror("entry [1] is a boolean, expected a number", par.array, {true}, "float64")
  checkerror("entry [1] is a string, expected a number", par.array, {"1"}, "float64")
  checkerror("invalid option 'float32'", par.array, {1}, "float32")
  checkerror("table expected, got number", par.array, 5)
  checkerror("number has no integer representation", par.array, par.array{1.5}, "int64")
end

print("  zeros, ones, empty, full")
do
  local a = par.zeros(3)
  assert(a.dtype == "float64" and equals(a, {0.0, 0.0, 0.0}))
  a = par.zeros(2, 3, "int64")
  assert(a.dtype == "int64" and equals2(a, {{0, 0, 0}, {0, 0, 0}}))
  a = par.zeros({2, 2}, "bool")
  assert(equals2(a, {{false, false}, {false, false}}))
  assert(equals(par.zeros{4}, {0.0, 0.0, 0.0, 0.0}))
  assert(par.zeros(0).size == 0 and par.zeros(3.0).size == 3 and par.zeros(0, 5).size == 0)
  assert(equals(par.ones(2), {1.0, 1.0}) and equals(par.ones(2, "int64"), {1, 1}))
  assert(equals(par.ones(2, "bool"), {true, true}))
  assert(equals2(par.ones(1, 2), {{1.0, 1.0}}))
  a = par.empty(2, 2)
  assert(a.dtype == "float64" and a.shape[1] == 2 and a.shape[2] == 2)
  assert(equals(par.empty(3, "bool"), {false, false, false}))
  assert(par.empty(5, "int64").dtype == "int64")
  -- full: dtype from the value unless given
  a = par.full(3, 7)
  assert(a.dtype == "int64" and equals(a, {7, 7, 7}))
  assert(equals(par.full(2, 2.5), {2.5, 2.5}))
  assert(equals(par.full(2, true), {true, true}))
  assert(equals2(par.full(2, 1, -1.5), {{-1.5}, {-1.5}}))
  assert(equals(par.full(2, 7, "float64"), {7.0, 7.0}))
  assert(equals2(par.full({1, 2}, 3.0, "int64"), {{3, 3}}))
  assert(equals2(par.full(1, 2, 4, "int64"), {{4, 4}}))
  assert(par.full(0, 1).size == 0)
  -- bad sizes and values
  for _, f in ipairs{par.zeros, par.ones, par.empty} do
    checkerror("(size must be a non-negative integer)", f, -1)
    checkerror("(size must be a non-negative integer)", f, 2.5)
    checkerror("#2 to", f, 2, -3)
    checkerror("(number expected, got string)", f, "3")
    checkerror("(shape must have 1 or 2 dimensions)", f, {2, 3, 4})
    checkerror("(shape must have 1 or 2 dimensions)", f, {})
    checkerror("(size must be a non-negative integer)", f, {2, 0.5})
    checkerror("invalid option 'int32'", f, 2, "int32")
    checkerror("not enough memory", f, 2^40)
  end
  checkerror("not enough memory", par.zeros, 2^20, 2^20)
  checkerror("array is too big", par.zeros, 2^40, 2^40)
  checkerror("bad argument #2 to 'par.full' (value expected)", par.full, 3)
  checkerror("(number or boolean expected, got string)", par.full, 3, "x")
  checkerror("(number or boolean expected, got table)", par.full, 3, {})
  checkerror("(at most 2 sizes expected)", par.full, 2, 3, 4, 5)
  checkerror("number has no integer representation", par.full, 3, 1.5, "int64")
  checkerror("bool array element must be a boolean", par.full, 3, 1, "bool")
  checkerror("(size must be a non-negative integer)", par.full, -2, 1)
end

print("  linspace (NumPy's values, bitwise)")
do
  local cases = {
    {0, 1, 5, {0x0.0p+0, 0x1.0000000000000p-2, 0x1.0000000000000p-1, 0x1.8000000000000p-1, 0x1.0000000000000p+0}},
    {0, 1, 7, {0x0.0p+0, 0x1.5555555555555p-3, 0x1.5555555555555p-2, 0x1.0000000000000p-1, 0x1.5555555555555p-1, 0x1.aaaaaaaaaaaaap-1, 0x1.0000000000000p+0}},
    {-0x1.a666666666666p+1, 0x1.0cccccccccccdp+1, 11, {-0x1.a666666666666p+1, -0x1.6147ae147ae14p+1, -0x1.1c28f5c28f5c2p+1, -0x1.ae147ae147ae0p+0, -0x1.23d70a3d70a3cp+0, -0x1.3333333333330p-1, -0x1.eb851eb851e80p-5, 0x1.eb851eb851ec0p-2, 0x1.051eb851eb854p+0, 0x1.8f5c28f5c28f8p+0, 0x1.0cccccccccccdp+1}},
    {1, 1, 4, {0x1.0000000000000p+0, 0x1.0000000000000p+0, 0x1.0000000000000p+0, 0x1.0000000000000p+0}},
    {0, 0x0.0000000000001p-1022, 3, {0x0.0p+0, 0x0.0p+0, 0x0.0000000000001p-1022}},
    {0x1.4000000000000p+1, 7, 1, {0x1.4000000000000p+1}},
    {0x1.999999999999ap-4, 0x1.6666666666666p-1, 6, {0x1.999999999999ap-4, 0x1.c28f5c28f5c29p-3, 0x1.5c28f5c28f5c2p-2, 0x1.d70a3d70a3d70p-2, 0x1.28f5c28f5c28fp-1, 0x1.6666666666666p-1}},
    {0x1.7e43c8800759cp+996, -0x1.7e43c8800759cp+996, 5, {0x1.7e43c8800759cp+996, 0x1.7e43c8800759cp+995, 0x0.0p+0, -0x1.7e43c8800759cp+995, -0x1.7e43c8800759cp+996}},
    {3, 4, 0, {}},
  }
  for _, c in ipairs(cases) do
    local a = par.linspace(c[1], c[2], c[3])
    assert(a.dtype == "float64" and equals(a, c[4]))
  end
  assert(#par.linspace(0, 1) == 50)
  checkerror("(size must be a non-negative integer)", par.linspace, 0, 1, -1)
  checkerror("(size must be a non-negative integer)", par.linspace, 0, 1, 2.5)
  checkerror("number expected, got string", par.linspace, "a", 1, 3)
end

print("  arange (NumPy's values, bitwise)")
do
  local cases = {
    {{0x1.999999999999ap-4, 0x1.0000000000000p+0, 0x1.999999999999ap-4}, {0x1.999999999999ap-4, 0x1.999999999999ap-3, 0x1.3333333333334p-2, 0x1.999999999999ap-2, 0x1.0000000000000p-1, 0x1.3333333333333p-1, 0x1.6666666666667p-1, 0x1.999999999999ap-1, 0x1.ccccccccccccdp-1}},
    {{1, 0x1.000000d6bf94dp+1, 0x1.999999999999ap-4}, {0x1.0000000000000p+0, 0x1.199999999999ap+0, 0x1.3333333333334p+0, 0x1.4cccccccccccep+0, 0x1.6666666666668p+0, 0x1.8000000000002p+0, 0x1.999999999999cp+0, 0x1.b333333333336p+0, 0x1.cccccccccccd0p+0, 0x1.e66666666666ap+0, 0x1.0000000000002p+1}},
    {{-0x1.8000000000000p+0, 2, 0x1.6666666666666p-1}, {-0x1.8000000000000p+0, -0x1.999999999999ap-1, -0x1.99999999999a0p-4, 0x1.3333333333330p-1, 0x1.4ccccccccccccp+0}},
    {{5, 0x1.0000000000000p+0, -0x1.3333333333333p-2}, {0x1.4000000000000p+2, 0x1.2cccccccccccdp+2, 0x1.199999999999ap+2, 0x1.0666666666667p+2, 0x1.e666666666668p+1, 0x1.c000000000002p+1, 0x1.999999999999cp+1, 0x1.7333333333336p+1, 0x1.4ccccccccccd0p+1, 0x1.266666666666ap+1, 0x1.0000000000004p+1, 0x1.b33333333333cp+0, 0x1.6666666666670p+0, 0x1.19999999999a4p+0}},
    {{0, 1, 0x1.0000000000000p-2}, {0x0.0p+0, 0x1.0000000000000p-2, 0x1.0000000000000p-1, 0x1.8000000000000p-1}},
    {{0x1.8000000000000p+1}, {0x0.0p+0, 0x1.0000000000000p+0, 0x1.0000000000000p+1}},
    {{0x1.0000000000000p-1, 0x1.999999999999ap-2, 0x1.999999999999ap-4}, {}},
    {{0, 5, 1/0}, {0.0}},               -- quotient 0 with nonzero span: one value
    {{0, -5, 1/0}, {}},
    {{0, 1e-300, 1e300}, {0.0}},
    {{5}, {0, 1, 2, 3, 4}},
    {{2, 9}, {2, 3, 4, 5, 6, 7, 8}},
    {{2, 9, 3}, {2, 5, 8}},
    {{9, 2, -2}, {9, 7, 5, 3}},
    {{3, 3}, {}},
    {{5, 1}, {}},
    {{-7, 7, 5}, {-7, -2, 3}},
    {{math.maxinteger - 2, math.maxinteger}, {math.maxinteger - 2, math.maxinteger - 1}},
    {{1 << 60, (1 << 60) + 3}, {1 << 60, (1 << 60) + 1, (1 << 60) + 2}},
  }
  for _, c in ipairs(cases) do
    local a = par.arange(table.unpack(c[1]))
    assert(a.ndim == 1 and equals(a, c[2]))
  end
  assert(par.arange(3).dtype == "int64" and par.arange(3.0).dtype == "float64")
  assert(par.arange(0, 3, 1.0).dtype == "float64" and par.arange(0, 3, nil).dtype == "int64")
  checkerror("bad argument #3 to 'par.arange' (step must not be zero)", par.arange, 1, 2, 0)
  checkerror("(step must not be zero)", par.arange, 1, 2, 0.0)
  checkerror("arange: cannot compute length", par.arange, 0, 0/0)
  checkerror("array is too big", par.arange, 0, 1/0)
  checkerror("array is too big", par.arange, math.mininteger, math.maxinteger)
  checkerror("number expected, got no value", par.arange)
  checkerror("number expected, got string", par.arange, 1, "x")
end

print("  meshgrid")
do
  local X, Y = par.meshgrid(par.array{1, 2, 3}, par.array{0.5, 1.5})
  assert(X.dtype == "int64" and Y.dtype == "float64")
  assert(equals2(X, {{1, 2, 3}, {1, 2, 3}}))
  assert(equals2(Y, {{0.5, 0.5, 0.5}, {1.5, 1.5, 1.5}}))
  X, Y = par.meshgrid({1.0}, {true, false})
  assert(equals2(X, {{1.0}, {1.0}}) and equals2(Y, {{true}, {false}}))
  X, Y = par.meshgrid(par.zeros(0), par.zeros(3))
  assert(X.shape[1] == 3 and X.shape[2] == 0 and Y.size == 0)
  checkerror("par.array expected, got number", par.meshgrid, 1, par.zeros(2))
  checkerror("bad argument #2", par.meshgrid, par.zeros(2))
end

print("  concat")
do
  local a = par.concat(par.array{1, 2}, par.array{3})
  assert(a.dtype == "int64" and equals(a, {1, 2, 3}))
  a = par.concat(par.array{1, 2}, par.array{3.5}, {4})
  assert(a.dtype == "float64" and equals(a, {1.0, 2.0, 3.5, 4.0}))
  a = par.concat(par.array{{1, 2}}, par.array{{3, 4}, {5, 6}})
  assert(equals2(a, {{1, 2}, {3, 4}, {5, 6}}))
  a = par.concat(par.array{true}, par.array{false, true})
  assert(a.dtype == "bool" and equals(a, {true, false, true}))
  a = par.concat(par.array{1.5})
  assert(equals(a, {1.5}))
  local v = par.array{1, 2, 3}
  a = par.concat(v:slice(2, 3), par.zeros(0, "int64"), v:slice(1, 1))
  assert(equals(a, {2, 3, 1}))
  checkerror("bad argument #2 to 'par.concat' (cannot join shape (1, 3) to shape (1, 2))",
             par.concat, par.array{{1, 2}}, par.array{{1, 2, 3}})
  checkerror("(cannot join shape (2,) to shape (1, 2))", par.concat, par.array{{1, 2}}, par.array{1, 2})
  checkerror("bad argument #3 to 'par.concat' (cannot join bool to int64)",
             par.concat, par.array{1}, par.array{2}, par.array{true})
  checkerror("(cannot join float64 to bool)", par.concat, par.array{true}, par.array{2.5})
  checkerror("bad argument #1 to 'par.concat' (par.array expected, got no value)", par.concat)
  checkerror("bad argument #2 to 'par.concat' (par.array expected, got number)", par.concat, v, 3)
end

print("  indexing")
do
  local a = par.array{1.5, 2.5, 3.5}
  assert(a[1] == 1.5 and a[3] == 3.5 and a[2.0] == 2.5)
  a[2] = 7
  assert(same(a[2], 7.0))
  a[3.0] = -1
  assert(a[3] == -1)
  checkerror("index 0 out of range for array of shape (3,)", function() return a[0] end)
  checkerror("index 4 out of range for array of shape (3,)", function() return a[4] end)
  checkerror("index -1 out of range for array of shape (3,)", function() return a[-1] end)
  checkerror("index " .. math.mininteger .. " out of range", function() return a[math.mininteger] end)
  checkerror("array index must be an integer, got 2.5", function() return a[2.5] end)
  checkerror("array index must be an integer, got %-?nan", function() return a[0/0] end)
  checkerror("array index must be an integer, got boolean", function() return a[true] end)
  checkerror("array index must be an integer, got table", function() return a[{}] end)
  checkerror("index 4 out of range for array of shape (3,)", function() a[4] = 1 end)
  checkerror("index 0 out of range", function() a[0] = 1 end)
  checkerror("array index must be an integer, got 1.5", function() a[1.5] = 1 end)
  checkerror("array index must be an integer, got boolean", function() a[false] = 1 end)
  checkerror("float64 array element must be a number, got string", function() a[1] = "1" end)
  checkerror("float64 array element must be a number, got boolean", function() a[1] = true end)
  checkerror("cannot set field 'shape' of an array", function() a.shape = {3} end)
  assert(a[1] == 1.5)                       -- failed stores changed nothing
  local i = par.array{1, 2}
  i[1] = 5.0
  assert(same(i[1], 5))
  checkerror("number has no integer representation", function() i[1] = 5.5 end)
  checkerror("int64 array element must be a number, got nil", function() i[1] = nil end)
  local b = par.array{true, false}
  b[2] = true
  assert(b[2] == true)
  checkerror("bool array element must be a boolean, got number", function() b[1] = 1 end)
  -- string keys: fields, then methods, else nil
  assert(a.foo == nil and a["1"] == nil and type(a.copy) == "function")
  checkerror("attempt to call a nil value (method 'foo')", function() return a:foo() end)
  assert(a.size == 3 and a.ndim == 1 and a.dtype == "float64" and a.shape[1] == 3 and #a.shape == 1)
  -- get and set
  assert(a:get(1) == 1.5)
  a:set(1, 9)
  assert(same(a[1], 9.0))
  local m = par.array{{1, 2, 3}, {4, 5, 6}}
  assert(m:get(2, 3) == 6 and m:get(1, 1) == 1)
  m:set(2, 3, -6)
  assert(m:get(2, 3) == -6 and m[2][3] == -6)
  checkerror("bad argument #1 to 'get' (row index 3 out of range for array of shape (2, 3))",
             function() return m:get(3, 1) end)
  checkerror("bad argument #2 to 'get' (column index 4 out of range for array of shape (2, 3))",
             function() return m:get(1, 4) end)
  checkerror("bad argument #2 to 'get' (array index must be an integer, got no value)",
             function() return m:get(1) end)
  checkerror("bad argument #1 to 'get' (index 4 out of range for array of shape (3,))",
             function() return a:get(4) end)
  checkerror("bad argument #1 to 'set' (array index must be an integer, got 0.5)",
             function() a:set(0.5, 1) end)
  checkerror("number has no integer representation", function() m:set(1, 1, 0.5) end)
  checkerror("bad argument #2 to 'set' (value expected)", function() a:set(1) end)
  -- an index too many is an error (NumPy's words), never dropped or stored
  checkerror("bad argument #2 to 'get' (too many indices for array: array is 1-dimensional, " ..
             "but 2 were indexed)", function() return a:get(1, 3) end)
  checkerror("bad argument #2 to 'set' (too many indices for array: array is 1-dimensional, " ..
             "but 2 were indexed)", function() a:set(1, 3, 5) end)
  checkerror("bad argument #3 to 'get' (too many indices for array: array is 2-dimensional, " ..
             "but 3 were indexed)", function() return m:get(1, 1, 1) end)
  checkerror("bad argument #3 to 'set' (too many indices for array: array is 2-dimensional, " ..
             "but 3 were indexed)", function() m:set(1, 1, 5, 6) end)
  checkerror("bad argument #3 to 'set' (value expected)", function() m:set(1, 1) end)
  checkerror("bad argument #2 to 'set' (array index must be an integer, got no value)",
             function() m:set(1) end)
  assert(same(a[1], 9.0) and same(a[3], -1.0) and m:get(1, 1) == 1)    -- nothing written
  -- #a is the first dimension
  assert(#m == 2 and #par.zeros(4, 0) == 4 and #par.zeros(0, 4) == 0)
  -- ipairs and pairs walk elements (1-D) or rows (2-D)
  local seen = {}
  for k, v in ipairs(par.array{10, 20, 30}) do seen[#seen + 1] = k * v end
  assert(#seen == 3 and seen[3] == 90)
  seen = {}
  for k, v in pairs(par.array{10, 20}) do seen[k] = v end
  assert(#seen == 2 and seen[2] == 20)
  for k, row in ipairs(m) do assert(row.ndim == 1 and row[1] == m:get(k, 1)) end
  for _ in ipairs(par.zeros(0)) do error("empty array iterated") end
  -- only ipairs' own iterator may read past the end
  checkerror("index 3 out of range", function() local x = par.array{1, 2}; return x[#x + 1] end)
end

print("  rows and views share memory")
do
  local m = par.array{{1, 2, 3}, {4, 5, 6}}
  local r = m[2]
  assert(r.ndim == 1 and #r == 3 and r.dtype == "int64")
  assert(m[2][1] == 4 and m[1][3] == 3)
  r[1] = 40
  assert(m:get(2, 1) == 40)
  m:set(2, 2, 50)
  assert(r[2] == 50)
  checkerror("row index 3 out of range for array of shape (2, 3)", function() return m[3] end)
  checkerror("row index 0 out of range", function() return m[0] end)
  checkerror("index 4 out of range for array of shape (3,)", function() return m[1][4] end)
  -- a[i] = row copies
  m[1] = {7, 8, 9}
  assert(equals2(m, {{7, 8, 9}, {40, 50, 6}}))
  local src = par.array{1.0, 2.0, 3.0}
  m[2] = src
  src[1] = 100
  assert(equals2(m, {{7, 8, 9}, {1, 2, 3}}))
  m[1] = m[2]
  assert(equals2(m, {{1, 2, 3}, {1, 2, 3}}))
  checkerror("number has no integer representation", function() m[1] = {1, 2, 3.5} end)
  checkerror("cannot assign a table of 2 values to a row of shape (3,)", function() m[1] = {1, 2} end)
  checkerror("cannot assign array of shape (2,) to a row of shape (3,)", function() m[1] = par.array{1, 2} end)
  checkerror("cannot assign array of shape (1, 3) to a row of shape (3,)", function() m[1] = par.zeros(1, 3) end)
  checkerror("cannot assign a number to a row of shape (3,)", function() m[1] = 0 end)
  checkerror("bool array element must be a boolean, got number", function() par.zeros(2, 2, "bool")[1] = {1, 0} end)
  -- a row view outlives its matrix
  local row
  do
    local big = par.arange(6):reshape(2, 3)
    row = big[2]
  end
  collectgarbage()
  assert(equals(row, {3, 4, 5}))
end

print("  slice, col, copy")
do
  local a = par.arange(1, 6)                 -- 1 2 3 4 5
  local s = a:slice(2, 4)
  assert(equals(s, {2, 3, 4}))
  s[1] = 20
  assert(a[2] == 20)
  assert(#a:slice(3, 2) == 0 and #a:slice(1, 0) == 0 and #a:slice(6, 5) == 0)
  assert(equals(a:slice(4), {4, 5}))
  checkerror("bad argument #1 to 'slice' (slice 0..2 out of range for array of shape (5,))",
             function() return a:slice(0, 2) end)
  checkerror("slice 2..6 out of range", function() return a:slice(2, 6) end)
  checkerror("slice 4..2 out of range", function() return a:slice(4, 2) end)
  checkerror("slice 7..6 out of range", function() return a:slice(7, 6) end)
  checkerror("number has no integer representation", function() return a:slice(1.5, 2) end)
  local m = par.arange(12):reshape(4, 3)
  local rows = m:slice(2, 3)
  assert(equals2(rows, {{3, 4, 5}, {6, 7, 8}}))
  rows:set(1, 1, -3)
  assert(m:get(2, 1) == -3)
  assert(m:slice(5, 4).shape[1] == 0 and m:slice(5, 4).shape[2] == 3)
  local c = m:col(2)
  assert(c.ndim == 1 and equals(c, {1, 4, 7, 10}))
  c[1] = 99
  assert(m:get(1, 2) == 1)                   -- a copy
  checkerror("bad argument #1 to 'col' (column index 4 out of range for array of shape (4, 3))",
             function() return m:col(4) end)
  checkerror("'col' needs a 2-D array", function() return a:col(1) end)
  local d = m:copy()
  d:set(1, 1, 42)
  assert(m:get(1, 1) == 0 and d:get(1, 1) == 42 and d.dtype == "int64" and d.shape[2] == 3)
  checkerror("bad argument #1 to 'copy' (par.array expected, got number)", function() return a.copy(1) end)
end

print("  reshape")
do
  local a = par.arange(6)
  local m = a:reshape(2, 3)
  assert(equals2(m, {{0, 1, 2}, {3, 4, 5}}))
  m:set(1, 1, 10)
  assert(a[1] == 10)                         -- a view
  assert(equals2(a:reshape(-1, 2), {{10, 1}, {2, 3}, {4, 5}}))
  assert(equals2(a:reshape(3, -1), {{10, 1}, {2, 3}, {4, 5}}))
  assert(equals(m:reshape(6), {10, 1, 2, 3, 4, 5}))
  assert(equals(m:reshape(-1), {10, 1, 2, 3, 4, 5}))
  assert(m:reshape{3, 2}.shape[1] == 3 and m:reshape(m.shape).shape[2] == 3)
  assert(par.zeros(0):reshape(0, 5).shape[2] == 5)
  checkerror("bad argument #1 to 'reshape' (cannot reshape array of shape (2, 3) into shape (4, 2))",
             function() return m:reshape(4, 2) end)
  checkerror("cannot reshape array of shape (6,) into shape (-1, 4)", function() return a:reshape(-1, 4) end)
  checkerror("cannot reshape array of shape (0,) into shape (0, -1)", function() return par.zeros(0):reshape(0, -1) end)
  checkerror("only one size can be -1", function() return a:reshape(-1, -1) end)
  checkerror("size must be a non-negative integer", function() return a:reshape(-2, 3) end)
  checkerror("shape must have 1 or 2 dimensions", function() return a:reshape{1, 2, 3} end)
end

print("  astype, totable, transpose")
do
  local f = par.array{1.0, -2.0, 0.0, 3.5}
  checkerror("number has no integer representation (element [4] is 3.5)", f.astype, f, "int64")
  local i = f:slice(1, 3):astype("int64")
  assert(i.dtype == "int64" and equals(i, {1, -2, 0}))
  checkerror("element %[2%] is %-?nan", function() return par.array{1.0, 0/0}:astype("int64") end)
  checkerror("element [1][2] is inf", function() return par.array{{1.0, 1/0}}:astype("int64") end)
  checkerror("element [1] is 9.2233720368548e+18", function() return par.array{2.0^63}:astype("int64") end)
  assert(equals(par.array{-2.0^63}:astype("int64"), {math.mininteger}))
  assert(equals(par.array{3, math.maxinteger}:astype("float64"), {3.0, 2.0^63}))
  assert(equals(par.array{0.0, -0.0, 2.5, 0/0}:astype("bool"), {false, false, true, true}))
  assert(equals(par.array{0, 7, -1}:astype("bool"), {false, true, true}))
  assert(equals(par.array{true, false}:astype("int64"), {1, 0}))
  assert(equals(par.array{true, false}:astype("float64"), {1.0, 0.0}))
  local c = f:astype("float64")
  c[1] = 5
  assert(f[1] == 1.0)                        -- always a copy
  checkerror("invalid option 'float'", f.astype, f, "float")
  checkerror("bad argument #1 to 'astype' (string expected, got no value)", function() return f:astype() end)
  -- totable
  local t = par.array{{1, 2}, {3, 4}}:totable()
  assert(#t == 2 and #t[1] == 2 and t[2][1] == 3 and math.type(t[2][2]) == "integer")
  t = par.array{1.5, 2}:totable()
  assert(#t == 2 and same(t[2], 2.0))
  assert(#par.zeros(0):totable() == 0 and par.array{true}:totable()[1] == true)
  -- transpose and .T copy
  local m = par.arange(6):reshape(2, 3)
  local mt = m:transpose()
  assert(equals2(mt, {{0, 3}, {1, 4}, {2, 5}}))
  mt:set(1, 1, 9)
  assert(m:get(1, 1) == 0)
  assert(equals2(m.T, {{0, 3}, {1, 4}, {2, 5}}))
  assert(equals(par.array{1, 2}.T, {1, 2}))
  local big = par.arange(100 * 70):reshape(100, 70):astype("float64")
  local bt = big.T
  assert(bt.shape[1] == 70 and bt.shape[2] == 100)
  for _, ij in ipairs{{1, 1}, {70, 100}, {33, 65}, {64, 32}, {1, 100}} do
    assert(bt:get(ij[1], ij[2]) == big:get(ij[2], ij[1]))
  end
  assert(equals2(par.array{{true, false}}.T, {{true}, {false}}))
end

print("  dot calls par.linalg.matmul")
do
  local linalg = par.linalg
  local real = rawget(linalg, "matmul")
  local a, b = par.array{{1, 2}}, par.array{{3}, {4}}
  local got
  linalg.matmul = function(x, y) got = {x, y}; return "product" end
  assert(a:dot(b) == "product" and got[1] == a and got[2] == b)
  linalg.matmul = nil
  checkerror("par.linalg.matmul is not available", a.dot, a, b)
  linalg.matmul = real
  assert(equals2(a:dot(b), {{11.0}}) and same(par.array{1.0, 2}:dot(par.array{3, 4.0}), 11.0))
  checkerror("bad argument #1 to 'dot' (par.array expected, got number)", function() return a:dot(1) end)
end

print("  closed arrays")
do
  local a = par.array{1, 2, 3}
  local v = a:slice(1, 2)
  getmetatable(a).__close(a)
  checkerror("attempt to use a closed array", function() return a[1] end)
  checkerror("attempt to use a closed array", function() a[1] = 1 end)
  checkerror("array is closed", function() return a:copy() end)
  checkerror("attempt to use a closed array", function() return #a end)
  assert(tostring(a) == "closed array")
  assert(equals(v, {1, 2}))                   -- views keep the memory alive
end

print("  tostring (NumPy's str)")
do
  local cases = {
    {par.array{1, 2.5, 3}, "[1.  2.5 3. ]"},
    {par.array{1, 2, 3}, "[1 2 3]"},
    {par.array{-5, 12, 300}, "[ -5  12 300]"},
    {par.array{math.mininteger, 1}, "[-9223372036854775808                    1]"},
    {par.array{true, false}, "[ True False]"},
    {par.array{true, true}, "[ True  True]"},
    {par.array{{1, 2}, {3, 4}}, "[[1 2]\n [3 4]]"},
    {par.array{{1.5, -2}, {3, 4e-3}}, "[[ 1.5   -2.   ]\n [ 3.     0.004]]"},
    {par.array{1e-5, 1.5}, "[1.0e-05 1.5e+00]"},
    {par.array{1e16}, "[1.e+16]"},
    {par.array{1e8, 1}, "[1.e+08 1.e+00]"},
    {par.array{1e-100, 1}, "[1.e-100 1.e+000]"},
    {par.array{1, 1000.5}, "[1.0000e+00 1.0005e+03]"},
    {par.array{1, 1001.5}, "[1.0000e+00 1.0015e+03]"},
    {par.array{0/0, -1/0, 1.5}, "[ nan -inf  1.5]"},
    {par.array{0/0, 1/0}, "[nan inf]"},
    {par.array{0/0}, "[nan]"},
    {par.array{-1/0, 1e-7}, "[  -inf 1.e-07]"},
    {par.array{-0.0, 1}, "[-0.  1.]"},
    {par.array{0.0, 0.0}, "[0. 0.]"},
    {par.array{0.1 + 0.2, 1/3}, "[0.3        0.33333333]"},
    {par.array{-1.5, 2e-3, 123.456}, "[-1.50000e+00  2.00000e-03  1.23456e+02]"},
    {par.array{123456.789, 0.5}, "[1.23456789e+05 5.00000000e-01]"},
    {par.array{1/512, 3/512}, "[0.00195312 0.00585938]"},
    {par.array{99999999.99}, "[99999999.99]"},
    {par.array{}, "[]"},
    {par.zeros(2, 0), "[]"},
    {par.arange(30), "[ 0  1  2  3  4  5  6  7  8  9 10 11 12 13 14 15 16 17 18 19 20 21 22 23\n 24 25 26 27 28 29]"},
    {par.arange(1001), "[   0    1    2 ...  998  999 1000]"},
    {par.linspace(0, 1, 2000), "[0.00000000e+00 5.00250125e-04 1.00050025e-03 ... 9.98999500e-01\n 9.99499750e-01 1.00000000e+00]"},
    {par.arange(10000):reshape(100, 100), "[[   0    1    2 ...   97   98   99]\n [ 100  101  102 ...  197  198  199]\n [ 200  201  202 ...  297  298  299]\n ...\n [9700 9701 9702 ... 9797 9798 9799]\n [9800 9801 9802 ... 9897 9898 9899]\n [9900 9901 9902 ... 9997 9998 9999]]"},
    {par.arange(1200):reshape(2, 600), "[[   0    1    2 ...  597  598  599]\n [ 600  601  602 ... 1197 1198 1199]]"},
    {par.arange(2004):reshape(1002, 2), "[[   0    1]\n [   2    3]\n [   4    5]\n ...\n [1998 1999]\n [2000 2001]\n [2002 2003]]"},
    {par.linspace(-1, 1, 60):reshape(2, 30), "[[-1.         -0.96610169 -0.93220339 -0.89830508 -0.86440678 -0.83050847\n  -0.79661017 -0.76271186 -0.72881356 -0.69491525 -0.66101695 -0.62711864\n  -0.59322034 -0.55932203 -0.52542373 -0.49152542 -0.45762712 -0.42372881\n  -0.38983051 -0.3559322  -0.3220339  -0.28813559 -0.25423729 -0.22033898\n  -0.18644068 -0.15254237 -0.11864407 -0.08474576 -0.05084746 -0.01694915]\n [ 0.01694915  0.05084746  0.08474576  0.11864407  0.15254237  0.18644068\n   0.22033898  0.25423729  0.28813559  0.3220339   0.3559322   0.38983051\n   0.42372881  0.45762712  0.49152542  0.52542373  0.55932203  0.59322034\n   0.62711864  0.66101695  0.69491525  0.72881356  0.76271186  0.79661017\n   0.83050847  0.86440678  0.89830508  0.93220339  0.96610169  1.        ]]"},
    {par.linspace(0, 1e-3, 25):reshape(5, 5), "[[0.00000000e+00 4.16666667e-05 8.33333333e-05 1.25000000e-04\n  1.66666667e-04]\n [2.08333333e-04 2.50000000e-04 2.91666667e-04 3.33333333e-04\n  3.75000000e-04]\n [4.16666667e-04 4.58333333e-04 5.00000000e-04 5.41666667e-04\n  5.83333333e-04]\n [6.25000000e-04 6.66666667e-04 7.08333333e-04 7.50000000e-04\n  7.91666667e-04]\n [8.33333333e-04 8.75000000e-04 9.16666667e-04 9.58333333e-04\n  1.00000000e-03]]"},
    {par.full(2, 1001, true), "[[ True  True  True ...  True  True  True]\n [ True  True  True ...  True  True  True]]"},
    {par.arange(-20, 20):astype("float64"), "[-20. -19. -18. -17. -16. -15. -14. -13. -12. -11. -10.  -9.  -8.  -7.\n  -6.  -5.  -4.  -3.  -2.  -1.   0.   1.   2.   3.   4.   5.   6.   7.\n   8.   9.  10.  11.  12.  13.  14.  15.  16.  17.  18.  19.]"},
  }
  for k, c in ipairs(cases) do
    local s = tostring(c[1])
    if s ~= c[2] then
      error(string.format("case %d:\n%s\nNumPy:\n%s", k, s, c[2]))
    end
  end
  -- 1000 elements are shown in full, 1001 are summarized
  local s = tostring(par.arange(1000))
  assert(not s:find("...", 1, true) and select(2, s:gsub("\n", "")) == 55)   -- as NumPy
  assert(tostring(par.arange(1001)):find("...", 1, true))
  assert(tostring(par.zeros(1000, 1)):find("...", 1, true) == nil)
  assert(tostring(par.zeros(0, 3)) == "[]")
  assert(tostring(par.arange(2, 5):slice(2, 3)) == "[3 4]")
end

print("  array memory counts for the garbage collector")
do
  local function rss()
    local f = io.open("/proc/self/status")
    if not f then return nil end
    local kb = f:read("a"):match("VmRSS:%s*(%d+)")
    f:close()
    return tonumber(kb) / 1024
  end
  if rss() then
    local top = 0
    for _ = 1, 200 do
      local a = par.zeros(2.5e6)              -- 20 MB
      a[1] = 1
      top = math.max(top, rss())
    end
    assert(top < 500, "RSS reached " .. top .. " MB")
    -- each array outlives two later ones, so it is old for the
    -- generational collector by the time it dies (1.6 GB in all)
    local ring
    ring, top = {}, 0
    for i = 1, 200 do
      ring[i % 3 + 1] = par.zeros(1e6)        -- 8 MB
      ring[i % 3 + 1][1] = 1
      top = math.max(top, rss())
    end
    assert(top < 300, "RSS reached " .. top .. " MB with 24 MB alive")
  else
    print("  (no /proc/self/status: skipped)")
  end
end

print("  a stopped collector stays stopped")
do
  local seen = setmetatable({}, {__mode = "k"})
  local function fill()   -- 96 MB, dead at once
    for _ = 1, 12 do seen[par.zeros(1e6)] = true end
  end
  collectgarbage("stop")
  fill()
  local n = 0
  for _ in pairs(seen) do n = n + 1 end
  collectgarbage("restart")
  assert(n == 12, n)
  collectgarbage()
  collectgarbage()   -- weak keys with finalizers go in the second cycle
  assert(next(seen) == nil)
end

print("  closed arrays in loops: the error names the loop's line")
do
  local b
  do local x <close> = par.ones(3); b = x end
  T.checkerror("array.lua:%d+: attempt to use a closed array", function () for _ in pairs(b) do end end)
  T.checkerror("array.lua:%d+: attempt to use a closed array", function () for _ in ipairs(b) do end end)
end

print("OK")
