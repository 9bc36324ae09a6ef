"""NumPy's side of eigvals_loop.lua."""
import os, time
import numpy as np

n = int(os.environ.get("N", "1000"))
count = int(os.environ.get("COUNT", "20"))
g = np.random.Generator(np.random.PCG64(1234))
t0 = time.perf_counter()
for _ in range(count):
    ev = np.linalg.eigvals(g.standard_normal((n, n)))
elapsed = time.perf_counter() - t0
print(f"result {np.abs(ev).max()!r}")
print(f"time {elapsed:.6f}")
