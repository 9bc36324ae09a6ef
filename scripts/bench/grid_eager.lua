-- Eager element-wise grid expression, NumPy style:
--   max of cos(x^2 + y^2) / (1 + x^2 + y^2) over a 5000 x 5000 meshgrid.
-- Prints the median time of the expression (the max excluded) over REPS calls.
local n = tonumber(os.getenv("N") or "5000")
local reps = tonumber(os.getenv("REPS") or "5")
local grid = par.linspace(-3, 3, n)
local x, y = par.meshgrid(grid, grid)

local function f(a, b)
  return par.cos(a ^ 2 + b ^ 2) / (1 + a ^ 2 + b ^ 2)
end

local times, z = {}, nil
for k = 1, reps do
  z = nil
  collectgarbage()
  local t0 = par.clock()
  z = f(x, y)
  times[k] = par.clock() - t0
end
table.sort(times)
print(string.format("result %.17g", z:max()))
print(string.format("time %.6f", times[(#times + 1) // 2]))
