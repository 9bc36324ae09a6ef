"""NumPy's side of grid_eager.lua: median time of the eager expression."""
import os, statistics, time
import numpy as np

n = int(os.environ.get("N", "5000"))
reps = int(os.environ.get("REPS", "5"))
grid = np.linspace(-3, 3, n)
x, y = np.meshgrid(grid, grid)
times = []
for _ in range(reps):
    t0 = time.perf_counter()
    z = np.cos(x**2 + y**2) / (1 + x**2 + y**2)
    times.append(time.perf_counter() - t0)
print(f"result {np.max(z)!r}")
print(f"time {statistics.median(times):.6f}")
