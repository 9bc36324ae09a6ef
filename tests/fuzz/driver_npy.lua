-- driver_npy.lua: par.load on the fuzzer's bytes as a .npy file. A failure
-- must be an error naming the file; a success an array that saves and
-- loads back bit for bit and takes the usual operations.
local path, scratch = ...
local ok, a = pcall(par.load, path)
if not ok then
  check_message(a, with_alloc("^" .. path:gsub("%p", "%%%0") .. ": "))
  return
end
check_array(a)
a:save(scratch)
check_same(a, par.load(scratch), "save and load")
check_same(a, a:copy(), "copy")
if a.ndim == 2 then check_same(a, a.T.T, "transpose twice") end
if a.dtype ~= "bool" and a.size > 0 then
  local s, mn, mx = a:sum(), a:min(), a:max()
  assert(math.type(s) and math.type(mn) and math.type(mx))
end
