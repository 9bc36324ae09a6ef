-- Eigenvalues of 20 random 1000 x 1000 matrices in a serial loop, as the
-- lecture does with NumPy (OpenBLAS threads inside each call).
local n = tonumber(os.getenv("N") or "1000")
local count = tonumber(os.getenv("COUNT") or "20")
local g = par.rng(1234)
local eigvals = par.linalg.eigvals
local t0 = par.clock()
local re, im
for _ = 1, count do
  re, im = eigvals(g:standard_normal({n, n}))
end
local elapsed = par.clock() - t0
print(string.format("result %.17g", par.sqrt(re * re + im * im):max()))
print(string.format("time %.6f", elapsed))
