#!/usr/bin/env python3
"""Writes the PyTorch LSTM fixtures that TorchFixtureTest holds every backend to.

Each case is one torch.nn.LSTM in float64 with seeded random weights, input, lengths, initial state and output
gradients; the file holds what PyTorch computes from them: output, h_n, c_n and the gradient of
sum(output * grad_output) + sum(h_n * grad_h_n) + sum(c_n * grad_c_n) with respect to the input, h0, c0 and every
weight. Variable lengths go through pack_padded_sequence / pad_packed_sequence, PyTorch's own masking rule.

    apt install python3-torch
    /usr/bin/python3 src/test/python/torch_lstm_fixtures.py     # from the repository root

The files are written as safetensors (F64) by hand, to need nothing beyond torch.
"""
import sys
from pathlib import Path

import safetensors_f64

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT = Path("src/test/resources/dev/lstm4j/torch")

# name, input size, hidden, proj_size, layers, bidirectional, batch_first, T, B, lengths (None: all full)
CASES = [
    ("bidirectional-projection-lengths", 5, 6, 4, 2, True, False, 7, 3, [7, 2, 5]),
    ("batch-first", 3, 5, 0, 1, False, True, 4, 2, None),
    # H = 24: the fast backend's vector kernels, with a tail of 8 lanes; unsorted lengths down to 1
    ("wide-two-layers-lengths", 10, 24, 0, 2, False, False, 8, 5, [8, 3, 8, 1, 6]),
    # B = 64: two batch chunks of 32 rows on two threads, both directions at once
    ("bidirectional-two-chunks", 4, 16, 0, 1, True, False, 2, 64, None),
]


def make(case, seed):
    name, inp, hidden, proj, layers, bidi, batch_first, T, B, lengths = case
    g = torch.Generator().manual_seed(seed)
    lstm = torch.nn.LSTM(inp, hidden, num_layers=layers, bidirectional=bidi, batch_first=batch_first,
                         proj_size=proj, dtype=torch.float64)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(torch.rand(p.shape, generator=g, dtype=torch.float64) * 1.2 - 0.6)
    dirs = 2 if bidi else 1
    out_h = proj if proj > 0 else hidden
    x_shape = (B, T, inp) if batch_first else (T, B, inp)
    x = (torch.rand(x_shape, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_()
    h0 = (torch.rand((layers * dirs, B, out_h), generator=g, dtype=torch.float64) - 0.5).requires_grad_()
    c0 = (torch.rand((layers * dirs, B, hidden), generator=g, dtype=torch.float64) - 0.5).requires_grad_()
    if lengths is None:
        out, (hn, cn) = lstm(x, (h0, c0))
    else:
        packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
        out_packed, (hn, cn) = lstm(packed, (h0, c0))
        out, _ = pad_packed_sequence(out_packed, batch_first=batch_first, total_length=T)
    go = torch.rand(out.shape, generator=g, dtype=torch.float64) * 2 - 1
    ghn = torch.rand(hn.shape, generator=g, dtype=torch.float64) * 2 - 1
    gcn = torch.rand(cn.shape, generator=g, dtype=torch.float64) * 2 - 1
    torch.autograd.backward([out, hn, cn], [go, ghn, gcn])

    tensors = {}
    for pname, p in lstm.named_parameters():
        tensors[pname] = p
    tensors["input"] = x
    if lengths is not None:
        tensors["lengths"] = torch.tensor(lengths, dtype=torch.float64)
    tensors["h0"] = h0
    tensors["c0"] = c0
    tensors["grad_output"] = go
    tensors["grad_h_n"] = ghn
    tensors["grad_c_n"] = gcn
    tensors["expected.output"] = out
    tensors["expected.h_n"] = hn
    tensors["expected.c_n"] = cn
    tensors["grad.input"] = x.grad
    tensors["grad.h0"] = h0.grad
    tensors["grad.c0"] = c0.grad
    for pname, p in lstm.named_parameters():
        tensors["grad." + pname] = p.grad
    metadata = {
        "torch_version": torch.__version__,
        "input_size": str(inp), "hidden_size": str(hidden), "proj_size": str(proj), "num_layers": str(layers),
        "bidirectional": str(bidi).lower(), "batch_first": str(batch_first).lower(),
        "loss": "sum(output * grad_output) + sum(h_n * grad_h_n) + sum(c_n * grad_c_n)",
    }
    return name, tensors, metadata


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for i, case in enumerate(CASES):
        name, tensors, metadata = make(case, 1000 + i)
        path = OUT / (name + ".safetensors")
        safetensors_f64.write(path, {k: t.detach().numpy() for k, t in tensors.items()}, metadata)
        print(f"{path}: {len(tensors)} tensors, torch {torch.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
