#!/usr/bin/python3
"""make_seeds.py: writes the seed corpora of parlua's fuzz targets into
corpus/<target>/ (tiny files; run from anywhere, needs NumPy):
  npy    .npy files of each supported dtype, byte order, version and order,
         0-d to 2-d, empty, and a few unsupported ones (3-d, structured)
  csv    first byte picks the delimiter (see fuzz_csv.c), the rest is text
  array  byte programs for driver_array.lua (handmade and random)
Crash reproducers are added by hand, under any name, and kept."""
import io, os, random
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))

def write(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def npy(a, version=None):
    b = io.BytesIO()
    np.lib.format.write_array(b, a, version=version)
    return b.getvalue()

write("npy", "f8_1d", npy(np.array([1.5, -2.0, np.nan])))
write("npy", "i8_2d", npy(np.arange(6, dtype="<i8").reshape(2, 3)))
write("npy", "f4_be", npy(np.array([1, 2], dtype=">f4")))
write("npy", "i2_fortran", npy(np.asfortranarray(np.arange(6, dtype="<i2").reshape(2, 3))))
write("npy", "u8_big", npy(np.array([2**64 - 1], dtype="<u8")))
write("npy", "u1", npy(np.array([0, 255], dtype="u1")))
write("npy", "b1", npy(np.array([[True, False]])))
write("npy", "i4_0d", npy(np.array(7, dtype="<i4")))
write("npy", "empty", npy(np.zeros((0,))))
write("npy", "empty_2d", npy(np.zeros((2, 0), dtype="<i8")))
write("npy", "v2", npy(np.array([3.0]), version=(2, 0)))
write("npy", "v3", npy(np.array([4], dtype="<i8"), version=(3, 0)))
write("npy", "three_d", npy(np.zeros((1, 1, 1))))
write("npy", "structured", npy(np.zeros(1, dtype=[("a", "<i4")])))
write("npy", "truncated", npy(np.arange(4.0))[:-5])

csv = [  # (delimiter index in fuzz_csv.c, text)
    (0, b"1,2,3\n4,5,6\n"),
    (0, b"# comment\n\n1.5\n-2e-3\n nan \ninf\n"),
    (1, b"1;2\r\n3;4\r\n"),
    (2, b"  1   2\t3\n4 5 6  \n"),
    (3, b"0x1p3\t-0\n1e308\t4.9e-324\n"),
    (4, b"1|2|3 # trailing comment\n"),
    (5, b"1, 2\n3, 4, 5\n"),
    (6, b"1::2\n"),
    (0, b"1,,2\n"),
    (0, b"abc\n"),
]
for k, (d, text) in enumerate(csv):
    write("csv", "seed%02d" % k, bytes([d]) + text)

# array: even first byte = a grid (n, m, kind, then values); odd = a value.
write("array", "grid_int", bytes([0, 3, 2, 0]) + bytes(range(120, 126)) + b"\x00\x01\x00")
write("array", "grid_float", bytes([2, 2, 3, 1]) + bytes(range(1, 7)) + b"\x00\x02\x00")
write("array", "grid_bool", bytes([4, 2, 2, 2, 1, 0, 1, 1, 0]))
write("array", "nested", bytes([1, 6, 3, 6, 2, 0, 5, 0, 7, 6, 2, 1, 2, 0, 3]))
write("array", "extremes", bytes([1, 7, 4, 5, 0, 5, 1, 5, 11, 2, 0, 0, 0, 0, 0, 0, 248, 127]))
rnd = random.Random(7)
for k in range(6):
    write("array", "random%d" % k, bytes(rnd.randrange(256) for _ in range(48)))
