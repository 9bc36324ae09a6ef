-- array_io.lua: arrays in files: .npy (a:save, par.load) and delimited
-- text (a:savetxt, par.loadtxt): round trips, the exact .npy layout, files
-- written by NumPy and read back by NumPy (when /usr/bin/python3 has numpy),
-- malformed, truncated and missing files.
local T = require "common"
local checkerror, same = T.checkerror, T.same

local tmp = T.tmpname()          -- os.tmpname creates it; our files add suffixes
local made = {tmp}
local cleanup <close> = setmetatable({}, {__close = function()
  for _, p in ipairs(made) do os.remove(p) end
end})
local function path(suffix)
  made[#made + 1] = tmp .. suffix
  return tmp .. suffix
end

local writefile, readfile = T.writefile, T.slurp

-- same shape, dtype and bits
local function identical(a, b)
  if a.dtype ~= b.dtype or a.ndim ~= b.ndim or a.size ~= b.size or #a ~= #b then
    return false
  end
  local fa, fb = a:reshape(a.size), b:reshape(b.size)
  for i = 1, a.size do
    if not same(fa[i], fb[i]) then return false end
  end
  return true
end

print("testing array files")

print("  .npy round trips")
do
  local arrays = {
    par.array{1.5, -0.0, 0/0, 1/0, -1/0, 5e-324, 2^1023, math.pi},
    par.array{{1, 2, 3}, {4, 5, 6}}:astype("float64"),
    par.array{math.mininteger, math.maxinteger, 0, -1},
    par.array{{true, false}, {false, true}},
    par.zeros(0),
    par.zeros(2, 0, "int64"),
    par.zeros(0, 3, "bool"),
    par.arange(30000):reshape(100, 300),            -- more than one I/O chunk
    par.arange(10):slice(3, 7),                      -- a view: its own elements only
  }
  local p = path(".npy")
  for _, a in ipairs(arrays) do
    a:save(p)
    assert(identical(par.load(p), a))
  end
end

print("  .npy layout (as numpy.save writes it)")
do
  local p = path("_layout.npy")
  par.array{{1.5, 2}, {3, 4}}:save(p)
  local s = readfile(p)
  local hlen = string.unpack("<I2", s, 9)
  assert(s:sub(1, 8) == "\x93NUMPY\x01\x00")
  assert((10 + hlen) % 64 == 0 and #s == 10 + hlen + 4 * 8)
  local head = s:sub(11, 10 + hlen)
  assert(head:match("^{'descr': '<f8', 'fortran_order': False, 'shape': %(2, 2%), } +\n$"))
  assert(string.unpack("<d", s, 11 + hlen) == 1.5)
  par.array{true}:save(p)
  assert(readfile(p):find("{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }", 1, true))
  par.zeros(7, "int64"):save(p)
  assert(readfile(p):find("'descr': '<i8'", 1, true))
end

print("  .npy errors")
do
  -- a v1.0 header around 'dict', padded to 64 bytes, then 'data'
  local function npy(dict, data, version)
    version = version or 1
    local pre = version == 1 and 10 or 12
    local body = dict .. string.rep(" ", 63 - (pre + #dict) % 64) .. "\n"
    local len = version == 1 and string.pack("<I2", #body) or string.pack("<I4", #body)
    return "\x93NUMPY" .. string.char(version, 0) .. len .. body .. (data or "")
  end
  local good = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"
  local p = path("_bad.npy")
  writefile(p, npy(good, string.pack("<d<d", 1.25, -2)))
  assert(identical(par.load(p), par.array{1.25, -2.0}))
  writefile(p, npy(good, string.pack("<d<d", 1.25, -2), 2))
  assert(identical(par.load(p), par.array{1.25, -2.0}))
  writefile(p, npy("{\"shape\":(2L,),\"fortran_order\":False,\"descr\":\"<i8\"}", string.pack("<i8<i8", 7, -7)))
  assert(identical(par.load(p), par.array{7, -7}))
  -- an empty Fortran-order array with a huge other side loads at once (the
  -- transposition once looped over that side: a fuzzing find)
  writefile(p, npy("{'descr': '<i2', 'fortran_order': True, 'shape': (0, 222222222222228), }"))
  local empty = par.load(p)
  assert(empty.size == 0 and empty.shape[1] == 0 and empty.shape[2] == 222222222222228)
  local function bad(msg, content)
    writefile(p, content)
    checkerror(p .. ": " .. msg, par.load, p)
  end
  bad("not a .npy file", "1,2,3\n")
  bad("not a .npy file", "")
  bad("not a .npy file", "\x93NUMP")
  bad("unsupported .npy version 4.0", "\x93NUMPY\x04\x00" .. ("x"):rep(100))
  bad("truncated header", "\x93NUMPY\x01\x00")
  bad("truncated header", "\x93NUMPY\x01\x00\x40\x00{'descr'")
  bad("truncated data (expected 16 bytes, got 8)", npy(good, string.pack("<d", 1)))
  bad("truncated data (expected 16 bytes, got 0)", npy(good))
  bad("corrupt header", npy("{'descr': '<f8', 'shape': (2,), }"))
  bad("corrupt header", npy("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,), }"))
  bad("corrupt header", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,-1), }"))
  bad("corrupt header", npy("{'descr': '<f8', 'fortran_order': False, 'shape': 2, }"))
  bad("corrupt header", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}"))
  bad("corrupt header", npy("['descr', '<f8']"))
  bad("corrupt header", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }"))
  bad("unsupported dtype '<c16'", npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }"))
  bad("unsupported dtype '<f2'", npy("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }"))
  bad("unsupported dtype '|O'", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"))
  bad("unsupported dtype '[('a', '<f8')]'", npy("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }"))
  bad("unsupported: 3-dimensional array", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1), }", ("\0"):rep(8)))
  bad("value out of int64 range", npy("{'descr': '<u8', 'fortran_order': False, 'shape': (1,), }", ("\xff"):rep(8)))
  checkerror(tmp .. "_none.npy: No such file or directory", par.load, tmp .. "_none.npy")
  checkerror("/nonexistent/dir/x.npy: No such file or directory", par.zeros(2).save, par.zeros(2), "/nonexistent/dir/x.npy")
  local full = io.open("/dev/full", "w")
  if full then
    full:close()
    checkerror("/dev/full: write error (No space left on device)", par.zeros(2).save, par.zeros(2), "/dev/full")
    checkerror("/dev/full: write error", par.zeros(2).savetxt, par.zeros(2), "/dev/full")
  end
  checkerror("bad argument #1 to 'par.load' (string expected, got no value)", par.load)
  -- files are closed on errors
  writefile(p, npy(good))
  local before = T.open_files()
  for _ = 1, 100 do assert(not pcall(par.load, p)) end
  local after = T.open_files()
  assert(after == before, string.format("%d open files before, %d after", before, after))
  writefile(p, npy(good, ("\0"):rep(16)))
  assert(identical(par.load(p), par.zeros(2)))
end

print("  text round trips and format")
do
  local p = path(".csv")
  local a = par.array{{0.1, -2.5, 1e300}, {5e-324, 0/0, -1/0}}
  a:savetxt(p)
  assert(readfile(p) == "0.1,-2.5,1e+300\n4.94065645841247e-324,nan,-inf\n")
  assert(identical(par.loadtxt(p), a))
  local r = par.array{math.pi, 1/3, 2/3, 0.1 + 0.2, -0.0, 123456789.125}
  r:savetxt(p)
  assert(identical(par.loadtxt(p), r))
  par.array{1, -2, math.maxinteger}:savetxt(p)
  assert(readfile(p) == "1\n-2\n9223372036854775807\n")
  par.array{{true, false}}:savetxt(p, " ")
  assert(readfile(p) == "1 0\n")
  assert(identical(par.loadtxt(p, " "), par.array{1.0, 0.0}))   -- one row: 1-D, as NumPy
  par.array{{1, 2}, {3, 4}}:savetxt(p, "; ")
  assert(readfile(p) == "1; 2\n3; 4\n")
  assert(identical(par.loadtxt(p, ";"), par.array{{1.0, 2.0}, {3.0, 4.0}}))
  assert(identical(par.loadtxt(p, "; "), par.array{{1.0, 2.0}, {3.0, 4.0}}))
  par.zeros(0, 3):savetxt(p)
  assert(readfile(p) == "" and identical(par.loadtxt(p), par.zeros(0)))
end

print("  loadtxt parsing")
do
  local p = path(".txt")
  local function load(s, delim)
    writefile(p, s)
    return par.loadtxt(p, delim)
  end
  assert(identical(load("# header\n1, 2 ,3\n\n  4,5,6   # comment\r\n \n"),
                   par.array{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}))
  assert(identical(load("1\n2\n3\n"), par.array{1.0, 2.0, 3.0}))
  assert(identical(load("1,2,3"), par.array{1.0, 2.0, 3.0}))
  assert(identical(load("nan,inf,-inf,1e-2\n"), par.array{0/0, 1/0, -1/0, 0.01}))
  assert(identical(load("1 \t 2   3\n4 5\t6\n", " "), par.array{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}))
  assert(identical(load("1\t2\n", "\t"), par.array{1.0, 2.0}))
  assert(identical(load(""), par.zeros(0)) and identical(load("# only\n\n"), par.zeros(0)))
  -- no delimiter: commas if the first data line has one, else runs of blanks
  -- (NumPy's default: numpy.savetxt's output and tab-separated files)
  assert(identical(load("1.000000000000000000e+00 2.500000000000000000e+00\n" ..
                        "-3.000000000000000000e+00 4.000000000000000000e+00\n"),
                   par.array{{1.0, 2.5}, {-3.0, 4.0}}))
  assert(identical(load("# x y\n 1\t2 \t 3\n4  5\t6 # c\n"), par.array{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}))
  assert(identical(load("7 8\n"), par.array{7.0, 8.0}))
  local function bad(msg, s, delim)
    writefile(p, s)
    checkerror(p .. msg, par.loadtxt, p, delim)
  end
  bad(":2: bad number 'x'", "1,2\n3,x\n")
  bad(":1: bad number ''", "1,,2\n")
  bad(":1: bad number ''", "1,2,\n")
  bad(":1: bad number '1 2'", "1 2,3\n")
  bad(":1: bad number '1.5.2'", "1.5.2\n")
  bad(":3: expected 2 columns, got 3", "1,2\n\n3,4,5\n")
  bad(":2: expected 3 columns, got 1", "1 2 3\n4\n", " ")
  bad(":2: bad number '3,4'", "1 2\n3,4\n")                 -- the first line decides
  bad(":3: bad number '3 4'", "# h\n1,2\n3 4\n")
  checkerror(tmp .. "_none.csv: No such file or directory", par.loadtxt, tmp .. "_none.csv")
  checkerror("bad argument #2 to 'par.loadtxt' (delimiter must not be empty)", par.loadtxt, p, "")
  checkerror("/nonexistent/x.csv: No such file or directory", par.zeros(1).savetxt, par.zeros(1), "/nonexistent/x.csv")
end

-- Files written by NumPy, and ours read by NumPy.
if not T.has_numpy() then
  print("  (no " .. T.PYTHON .. " with numpy: NumPy interoperability skipped)")
else
  print("  files written by NumPy")
  T.python(([==[
import numpy as np
from numpy.lib import format as F
p = %q
a = np.arange(6).reshape(2, 3)
x = np.array([1.5, -0.0, np.nan, np.inf, 5e-324, 1e300])
np.save(p + "_f8.npy", x)
np.save(p + "_i8.npy", a)
np.save(p + "_b1.npy", np.array([[True, False, True]]))
np.save(p + "_f4.npy", np.array([0.1, -2.5], dtype=np.float32))
np.save(p + "_i4.npy", (a - 3).astype(np.int32))
np.save(p + "_i2.npy", np.array([-32768, 32767], dtype=np.int16))
np.save(p + "_i1.npy", np.array([-128, 127], dtype=np.int8))
np.save(p + "_u1.npy", np.array([0, 255], dtype=np.uint8))
np.save(p + "_u2.npy", np.array([65535], dtype=np.uint16))
np.save(p + "_u4.npy", np.array([4294967295], dtype=np.uint32))
np.save(p + "_u8.npy", np.array([2**63 - 1], dtype=np.uint64))
np.save(p + "_be.npy", x.astype(">f8"))
np.save(p + "_bei.npy", a.astype(">i4"))
np.save(p + "_fortran.npy", np.asfortranarray(a))
np.save(p + "_fortranb.npy", np.asfortranarray(np.array([[True, False], [False, False]])))
np.save(p + "_0d.npy", np.float64(2.5))
np.save(p + "_empty.npy", np.zeros((0, 4)))
np.save(p + "_3d.npy", np.zeros((2, 2, 2)))
np.save(p + "_c16.npy", np.zeros(2, dtype=complex))
with open(p + "_v2.npy", "wb") as f: F.write_array(f, a, version=(2, 0))
with open(p + "_v3.npy", "wb") as f: F.write_array(f, x, version=(3, 0))
np.savetxt(p + "_np.csv", np.array([[0.1, 1/3], [-1e-300, 7]]), delimiter=",")
np.savetxt(p + "_np.txt", x[:2])
np.savetxt(p + "_np2.txt", np.array([[0.1, -2.5, 1e300], [5e-324, 7, -0.0]]))
np.savetxt(p + "_tab.txt", a, delimiter="\t", fmt="%%d")
]==]):format(tmp))
  for _, s in ipairs{"_f8", "_i8", "_b1", "_f4", "_i4", "_i2", "_i1", "_u1", "_u2", "_u4", "_u8",
                     "_be", "_bei", "_fortran", "_fortranb", "_0d", "_empty", "_3d", "_c16",
                     "_v2", "_v3"} do
    path(s .. ".npy")
  end
  path("_np.csv"); path("_np.txt"); path("_np2.txt"); path("_tab.txt")
  local x = par.array{1.5, -0.0, 0/0, 1/0, 5e-324, 1e300}
  local a = par.arange(6):reshape(2, 3)
  local function load(s) return par.load(tmp .. s .. ".npy") end
  assert(identical(load("_f8"), x) and identical(load("_be"), x) and identical(load("_v3"), x))
  assert(identical(load("_i8"), a) and identical(load("_v2"), a) and identical(load("_fortran"), a))
  assert(identical(load("_b1"), par.array{{true, false, true}}))
  assert(identical(load("_fortranb"), par.array{{true, false}, {false, false}}))
  assert(identical(load("_f4"), par.array{0x1.99999ap-4, -2.5}))    -- float32 values, exactly
  assert(identical(load("_i4"), par.arange(-3, 3):reshape(2, 3)) and identical(load("_bei"), a))
  assert(identical(load("_i2"), par.array{-32768, 32767}))
  assert(identical(load("_i1"), par.array{-128, 127}))
  assert(identical(load("_u1"), par.array{0, 255}))
  assert(identical(load("_u2"), par.array{65535}))
  assert(identical(load("_u4"), par.array{4294967295}))
  assert(identical(load("_u8"), par.array{math.maxinteger}))
  assert(identical(load("_0d"), par.array{2.5}))
  local e = load("_empty")
  assert(e.ndim == 2 and e.shape[1] == 0 and e.shape[2] == 4)
  checkerror(tmp .. "_3d.npy: unsupported: 3-dimensional array", load, "_3d")
  checkerror(tmp .. "_c16.npy: unsupported dtype '<c16'", load, "_c16")
  assert(identical(par.loadtxt(tmp .. "_np.csv"), par.array{{0.1, 1/3}, {-1e-300, 7.0}}))
  assert(identical(par.loadtxt(tmp .. "_np.txt", " "), par.array{1.5, -0.0}))
  assert(identical(par.loadtxt(tmp .. "_np.txt"), par.array{1.5, -0.0}))
  assert(identical(par.loadtxt(tmp .. "_np2.txt"), par.array{{0.1, -2.5, 1e300}, {5e-324, 7.0, -0.0}}))
  assert(identical(par.loadtxt(tmp .. "_tab.txt"), par.array{{0.0, 1.0, 2.0}, {3.0, 4.0, 5.0}}))

  print("  our files read by NumPy")
  local files = {
    {"_o1", par.array{1.5, -0.0, 0/0, -1/0, 5e-324, 0.1}},
    {"_o2", par.arange(12):reshape(3, 4)},
    {"_o3", par.array{{true}, {false}}},
    {"_o4", par.zeros(0)},
    {"_o5", par.array{math.mininteger, math.maxinteger}},
  }
  for _, f in ipairs(files) do
    f[2]:save(path(f[1] .. ".npy"))
    f[2]:savetxt(path(f[1] .. ".csv"))
  end
  local out = T.python(([==[
import numpy as np, io, warnings
warnings.simplefilter("ignore")      # loadtxt warns about the empty file
p = %q
expect = {
  "_o1": np.array([1.5, -0.0, np.nan, -np.inf, 5e-324, 0.1]),
  "_o2": np.arange(12).reshape(3, 4),
  "_o3": np.array([[True], [False]]),
  "_o4": np.zeros(0),
  "_o5": np.array([-2**63, 2**63 - 1]),
}
for k, want in expect.items():
    got = np.load(p + k + ".npy")
    assert got.dtype == want.dtype and got.shape == want.shape, k
    assert np.array_equal(got, want, equal_nan=True), k
    if got.dtype.kind == "f":        # -0.0 stays -0.0 (Lua's 0/0 is a negative nan)
        ok = np.isnan(want) | (np.signbit(got) == np.signbit(want))
        assert ok.all(), k
    b = io.BytesIO(); np.save(b, got)    # the same bytes as numpy.save writes
    assert open(p + k + ".npy", "rb").read() == b.getvalue(), k + ": bytes differ from numpy.save"
    txt = np.loadtxt(p + k + ".csv", delimiter=",", ndmin=want.ndim)
    assert txt.shape == want.shape, k
    assert np.array_equal(txt, want.astype(float), equal_nan=True), k
print("numpy ok")
]==]):format(tmp))
  assert(out == "numpy ok\n", out)
end

print("OK")
