#!/usr/bin/env python3
"""Converts the ONNX operator conformance data for LSTM into fixtures that OnnxConformanceTest reads.

The ONNX project's own node tests (test_lstm_defaults, test_lstm_with_initial_bias, test_lstm_with_peepholes,
test_lstm_batchwise; Apache-2.0) give inputs and the outputs that ONNX's reference computes. Debian packages them:

    apt install libonnx-testdata python3-onnx
    /usr/bin/python3 src/test/python/onnx_lstm_fixtures.py     # from the repository root

Each fixture holds the operator's inputs under the names the ONNX weight adapter reads (W, R, B, P), plus input,
lengths, h0, c0 where the test gives them, and expected.Y / expected.Y_h, all as F64; its metadata holds the node's
attributes.
"""
import glob
import json
import os
import struct
import sys
from pathlib import Path

import safetensors_f64

import onnx
from onnx import numpy_helper

DATA = Path("/usr/share/libonnx-testdata/data/node")
OUT = Path("src/test/resources/dev/lstm4j/onnx")
CASES = ["test_lstm_defaults", "test_lstm_with_initial_bias", "test_lstm_with_peepholes", "test_lstm_batchwise"]
RENAME = {"X": "input", "sequence_lens": "lengths", "initial_h": "h0", "initial_c": "c0"}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        d = DATA / case
        node = onnx.load(str(d / "model.onnx")).graph.node[0]
        arrays = {}
        files = sorted(glob.glob(str(d / "test_data_set_0" / "input_*.pb"))) \
            + sorted(glob.glob(str(d / "test_data_set_0" / "output_*.pb")))
        for f in files:
            t = onnx.TensorProto()
            t.ParseFromString(open(f, "rb").read())
            key = t.name if os.path.basename(f).startswith("input") else "expected." + t.name
            arrays[RENAME.get(key, key)] = numpy_helper.to_array(t)
        metadata = {a.name: str(onnx.helper.get_attribute_value(a)) for a in node.attribute}
        metadata["source"] = f"ONNX {onnx.__version__} node test {case} (libonnx-testdata)"
        path = OUT / (case.removeprefix("test_") + ".safetensors")
        safetensors_f64.write(path, arrays, metadata)
        print(f"{path}: {sorted(arrays)} {metadata}", file=sys.stderr)


if __name__ == "__main__":
    main()
