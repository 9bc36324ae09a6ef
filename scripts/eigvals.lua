-- Eigenvalues of random matrices: the loop as NumPy runs it (OpenBLAS
-- threads inside each LAPACK call), and a parallel loop over matrices
-- (one matrix per iteration, single-threaded LAPACK in each).
local opts = require("par.args").parse(arg, {
  {"count", 20, "number of matrices"},
  {"size", 1000, "matrix size"},
  {"seed", 1234, "seed of the random streams"},
}, "parlua scripts/eigvals.lua [options]")

local n = opts.size

-- Spectral radius of the matrix of iteration i, drawn from its stream.
local function radius(i)
  local re, im = par.linalg.eigvals(par.randn({n, n}))
  return par.sqrt(re * re + im * im):max()
end

print(string.format("eigvals: %d matrices of %d x %d, seed %d, %d threads",
  opts.count, n, n, opts.seed, par.threads()))
for _, parallel in ipairs({false, true}) do
  local t0 = par.clock()
  local r = par.prange(opts.count, radius, {parallel = parallel, seed = opts.seed, mode = "lua"})
  print(string.format("%-8s largest |eigenvalue| = %.17g (circular law: %.4f)   (%.3f s)",
    parallel and "parallel" or "loop", r:max(), math.sqrt(n), par.clock() - t0))
end
