"""Small binary fixtures with a JSON header, in the manner of llm.c's debug state.

Layout: b"COOPFIX1", uint32 little-endian header length, UTF-8 JSON header, padding to 4 bytes, then the arrays.
The header holds "meta" (free JSON) and "tensors": [{"name", "dtype" (float32|int32), "shape", "offset" (bytes from
the start of the data section)}]. Read by tests/helpers/fixture.ts.
"""
import json
import struct
import numpy as np


def write(path, meta, tensors):
    entries, blobs, off = [], [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        if arr.dtype == np.int64:
            arr = arr.astype(np.int32)
        assert arr.dtype in (np.float32, np.int32), (name, arr.dtype)
        entries.append({"name": name, "dtype": str(arr.dtype), "shape": list(arr.shape), "offset": off})
        b = arr.astype("<" + arr.dtype.str[1:]).tobytes()
        blobs.append(b)
        off += len(b)
    header = json.dumps({"meta": meta, "tensors": entries}).encode()
    header += b" " * ((-len(header) - 12) % 4)
    with open(path, "wb") as f:
        f.write(b"COOPFIX1" + struct.pack("<I", len(header)) + header + b"".join(blobs))


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"COOPFIX1"
    n = struct.unpack("<I", data[8:12])[0]
    header = json.loads(data[12:12 + n])
    base = 12 + n
    out = {}
    for t in header["tensors"]:
        count = int(np.prod(t["shape"])) if t["shape"] else 1
        out[t["name"]] = np.frombuffer(data, dtype=t["dtype"], count=count, offset=base + t["offset"]).reshape(t["shape"])
    return header["meta"], out
