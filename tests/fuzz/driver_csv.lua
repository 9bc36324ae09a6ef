-- driver_csv.lua: par.loadtxt on the fuzzer's bytes as delimited text. A
-- failure must be an error naming the file; a success a float64 array
-- that savetxt writes and loadtxt reads back bit for bit.
local path, scratch, delim = ...
local ok, a = pcall(par.loadtxt, path, delim)
if not ok then
  check_message(a, with_alloc("^" .. path:gsub("%p", "%%%0") .. ":"))
  return
end
check_array(a)
assert(a.dtype == "float64", a.dtype)
assert(a.ndim == 1 or (a.shape[1] > 1 and a.shape[2] > 1), "2-D with one row or column")
a:savetxt(scratch, delim)
check_same(a, par.loadtxt(scratch, delim), "savetxt and loadtxt")
