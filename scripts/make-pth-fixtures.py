#!/usr/bin/env python3
"""Generate the .pth fixtures of the weights reader in test/fixtures/weights/.

Run with Debian's python3 and python3-torch (1.13):

    /usr/bin/python3 scripts/make-pth-fixtures.py

Writes (all a few KB)
  dtypes.pth            a state dict (OrderedDict, torch.save's zip format) holding float32,
                        float16, bfloat16 and float64 tensors, an int64 buffer
                        (num_batches_tracked) and an int64 holding 2**40 + 3, a 0-d tensor, an
                        empty [0, 3] tensor, a transposed (non-contiguous) view, a slice with a
                        storage offset, and two tensors sharing one storage
  dtypes-deflated.pth   the same archive re-packed with deflate-compressed entries
  dtypes-legacy.pth     the same state dict saved with _use_new_zipfile_serialization=False
                        (the pre-1.6 format: a sequence of pickles, then the raw storages)
  nested.pth            {"epoch": 3, "state_dict": <dtypes' state dict>, "optimizer": {...}}
  ambiguous.pth         {"model": <state dict>, "ema": <state dict>}: two candidates
  module.pth            a whole pickled nn.Linear (not a state dict)
  evil.pth              a torch-shaped zip whose data.pkl calls posix.system("echo pwned")
                        when unpickled by an unrestricted loader; the pickle bytes are written
                        directly, so making the file runs nothing
  resnet18-partial.pth  a tiny "resnet18-like" partial state dict for check reports:
                        conv1.weight mis-shaped [4, 3, 3, 3] (float16), bn1.* correct
                        ([64], num_batches_tracked int64), an extra tensor head.weight [2];
                        every other resnet18 tensor missing
  expected.json         for each file: per tensor name, the source dtype, the shape and the
                        values as float32 (integers as decimal strings, exactly)

The archives are made deterministic (fixed zip entry times); torch's own record names
(<archive>/data.pkl, <archive>/data/<key>, <archive>/version) are kept.
dtypes-legacy.pth alone differs from run to run: the legacy format names storages by their
memory address (str(storage._cdata)); its tensors, and expected.json, do not change.
"""
import io
import json
import os
import struct
import sys
import zipfile
from collections import OrderedDict

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'weights')
FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def source_dtype(t):
    return {
        torch.float32: 'F32',
        torch.float16: 'F16',
        torch.bfloat16: 'BF16',
        torch.float64: 'F64',
        torch.int64: 'I64',
        torch.int32: 'I32',
    }[t.dtype]


def describe(sd):
    out = {}
    for k, t in sd.items():
        flat = t.reshape(-1)
        if t.dtype in (torch.int64, torch.int32):
            values = [str(int(v)) for v in flat.tolist()]
        else:
            values = flat.float().tolist()
        out[k] = {'dtype': source_dtype(t), 'shape': list(t.shape), 'values': values}
    return out


def rezip(data, compression):
    """Re-packs an archive with fixed entry times (and optionally another compression)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', compression) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, FIXED_TIME)
            zi.compress_type = compression
            dst.writestr(zi, src.read(info.filename))
    return buf.getvalue()


def save(obj, name, legacy=False, compression=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    if legacy:
        torch.save(obj, buf, _use_new_zipfile_serialization=False)
        data = buf.getvalue()
    else:
        torch.save(obj, buf)
        data = rezip(buf.getvalue(), compression)
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)
    return data


def dtypes_state_dict():
    g = torch.Generator().manual_seed(9)
    sd = OrderedDict()
    sd['f32'] = torch.randn(2, 3, generator=g)
    # Values that show each conversion: subnormal/large halves, bfloat16's coarse mantissa.
    sd['f16'] = torch.tensor([0.5, -2.0, 65504.0, 6.0e-8, 1.0 / 3.0, -0.0], dtype=torch.float16)
    sd['bf16'] = torch.tensor([1.0, -3.140625, 1.0e30, 2.0 ** -126], dtype=torch.bfloat16)
    sd['f64'] = torch.tensor([[0.1, -1e-40], [1e30, 2.0 ** -30]], dtype=torch.float64)
    sd['bn.num_batches_tracked'] = torch.tensor(7, dtype=torch.int64)
    sd['big_int'] = torch.tensor([2 ** 40 + 3, -5], dtype=torch.int64)
    sd['scalar'] = torch.tensor(2.5)
    sd['empty'] = torch.zeros(0, 3)
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.25
    sd['view.transposed'] = base.t()  # [4, 3], strides (1, 4): non-contiguous
    sd['view.slice'] = base[1:, 1:3]  # [2, 2], offset 5, strides (4, 1)
    shared = torch.linspace(-1, 1, 8)
    sd['shared.a'] = shared
    sd['shared.b'] = shared[2:6]  # same storage, offset 2
    return sd


def evil_zip():
    # GLOBAL 'posix system', the argument tuple ('echo pwned',), REDUCE, STOP: what
    # pickle.dumps of an object whose __reduce__ returns (os.system, ('echo pwned',)) gives.
    cmd = b'echo pwned'
    pkl = b'\x80\x02' + b'cposix\nsystem\n' + b'X' + struct.pack('<I', len(cmd)) + cmd + b'\x85' + b'R' + b'.'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', zipfile.ZIP_STORED) as z:
        z.writestr(zipfile.ZipInfo('evil/data.pkl', FIXED_TIME), pkl)
        z.writestr(zipfile.ZipInfo('evil/version', FIXED_TIME), b'3\n')
    with open(os.path.join(OUT, 'evil.pth'), 'wb') as f:
        f.write(buf.getvalue())


def main():
    os.makedirs(OUT, exist_ok=True)
    expected = {}

    sd = dtypes_state_dict()
    save(sd, 'dtypes.pth')
    save(sd, 'dtypes-deflated.pth', compression=zipfile.ZIP_DEFLATED)
    save(sd, 'dtypes-legacy.pth', legacy=True)
    for name in ('dtypes.pth', 'dtypes-deflated.pth', 'dtypes-legacy.pth'):
        back = torch.load(os.path.join(OUT, name))
        assert all(torch.equal(back[k], sd[k]) for k in sd), name
        expected[name] = describe(sd)

    small = OrderedDict([('w', torch.tensor([1.0, 2.0])), ('b', torch.tensor([3.0]))])
    save({'epoch': 3, 'state_dict': sd, 'optimizer': {'state': {}, 'param_groups': [{'lr': 0.1, 'params': [0]}]}}, 'nested.pth')
    expected['nested.pth'] = describe(sd)
    save({'model': small, 'ema': small}, 'ambiguous.pth')

    torch.manual_seed(0)
    save(nn.Linear(2, 1), 'module.pth')
    evil_zip()

    g = torch.Generator().manual_seed(18)
    partial = OrderedDict()
    partial['conv1.weight'] = torch.randn(4, 3, 3, 3, generator=g).half()
    partial['bn1.weight'] = torch.rand(64, generator=g)
    partial['bn1.bias'] = torch.randn(64, generator=g)
    partial['bn1.running_mean'] = torch.randn(64, generator=g)
    partial['bn1.running_var'] = torch.rand(64, generator=g) + 0.5
    partial['bn1.num_batches_tracked'] = torch.tensor(100, dtype=torch.int64)
    partial['head.weight'] = torch.tensor([1.0, -1.0])
    save(partial, 'resnet18-partial.pth')
    expected['resnet18-partial.pth'] = describe(partial)

    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'files': expected}, f, indent=1)
        f.write('\n')
    for name in sorted(os.listdir(OUT)):
        print(f'{name}: {os.path.getsize(os.path.join(OUT, name))} bytes')


if __name__ == '__main__':
    sys.exit(main())
