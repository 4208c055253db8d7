"""Writes a safetensors file of float64 tensors, by hand, so that the fixture scripts need no safetensors package."""
import json
import struct


def write(path, arrays, metadata):
    """arrays: name -> numpy array (written as little-endian F64, in order); metadata: str -> str."""
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, a in arrays.items():
        data = a.astype("<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)
