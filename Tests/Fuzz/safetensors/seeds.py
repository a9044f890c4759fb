#!/usr/bin/env python3
"""Writes the seed inputs of the safetensors fuzz corpus (corpus/valid-*, corpus/bad-*).

Standard library only; run from anywhere: python3 Tests/Fuzz/safetensors/seeds.py
The valid seeds follow the format exactly (8-byte little-endian header length, space-padded
JSON header, data covered exactly); each bad seed breaks one rule the parser must refuse.
Inputs found by the fuzzer that crashed it are kept next to them as corpus/crash-*.
"""
import json
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def file(header, data=b"", pad=True, length=None):
    """A safetensors file from a header (dict, or str/bytes kept as is) and data bytes."""
    if isinstance(header, dict):
        header = json.dumps(header, separators=(",", ":"))
    if isinstance(header, str):
        header = header.encode()
    if pad:
        header += b" " * (-len(header) % 8)
    n = len(header) if length is None else length
    return struct.pack("<Q", n) + header + data


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


F32_2x2 = struct.pack("<4f", 1.0, -2.5, 3.25, 0.0)

SEEDS = {
    "valid-empty": file({}),
    "valid-metadata-only": file({"__metadata__": {"format": "autoglm", "step": "7"}}),
    "valid-f32": file({"w": entry("F32", [2, 2], 0, 16)}, F32_2x2),
    "valid-two-f32-metadata": file({"__metadata__": {"k": "v"}, "a": entry("F32", [2], 0, 8),
                                    "b": entry("F32", [1, 2], 8, 16)}, F32_2x2),
    "valid-scalar-and-empty": file({"s": entry("F32", [], 0, 4), "z": entry("F32", [3, 0], 4, 4)},
                                   struct.pack("<f", 9.0)),
    "valid-mixed-dtypes": file({"d": entry("F64", [1], 0, 8), "i": entry("I64", [1], 8, 16),
                                "h": entry("F16", [2], 16, 20), "b": entry("BF16", [2], 20, 24),
                                "u": entry("U8", [3], 24, 27), "t": entry("BOOL", [1], 27, 28),
                                "f": entry("F4", [4], 28, 30), "x": entry("F6_E2M3", [4], 30, 33)},
                               bytes(range(33))),
    "valid-escapes": file('{"\\u00e9\\"\\n\\ud83d\\ude00":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\x01"),
    "valid-unpadded-extra-field": file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":[1,{"y":null}]}}',
                                       b"\x02", pad=False),
    "bad-short": b"\x08\x00\x00",
    "bad-header-too-large": struct.pack("<Q", 100_000_001) + b"{}",
    "bad-header-past-end": file({}, length=64),
    "bad-not-utf8": file(b'{"\xff":1}'),
    "bad-not-json": file(b"{"),
    "bad-not-object": file("[]"),
    "bad-duplicate-tensor": file('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                                 '"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\x00"),
    "bad-duplicate-field": file('{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\x00"),
    "bad-unknown-dtype": file({"a": entry("F31", [1], 0, 4)}, b"\x00" * 4),
    "bad-negative-shape": file('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}'),
    "bad-fraction-shape": file('{"a":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}', b"\x00"),
    "bad-shape-overflow": file('{"a":{"dtype":"I32","shape":[2,9223372036854775807],"data_offsets":[0,16]}}',
                               b"\x00" * 16),
    "bad-huge-shape": file({"a": entry("F32", [1 << 40, 1 << 20], 0, 16)}, b"\x00" * 16),
    "bad-offsets-past-end": file({"a": entry("F32", [4], 0, 16)}, b"\x00" * 8),
    "bad-offsets-size": file({"a": entry("F32", [2, 2], 0, 12)}, b"\x00" * 12),
    "bad-offsets-reversed": file({"a": entry("U8", [0], 4, 0)}, b"\x00" * 4),
    "bad-overlap": file({"a": entry("U8", [4], 0, 4), "b": entry("U8", [4], 2, 6)}, b"\x00" * 6),
    "bad-hole": file({"a": entry("U8", [2], 0, 2), "b": entry("U8", [2], 4, 6)}, b"\x00" * 6),
    "bad-trailing": file({"a": entry("U8", [2], 0, 2)}, b"\x00" * 5),
    "bad-metadata-not-map": file({"__metadata__": ["x"]}),
    "bad-metadata-value": file({"__metadata__": {"k": 1}}),
    "bad-sub-byte": file({"a": entry("F4", [3], 0, 2)}, b"\x00" * 2),
    "bad-nul-padding": file(b"{}" + b"\x00" * 6),
    "bad-lone-surrogate": file('{"\\ud800":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}'),
    "bad-deep-nesting": file('{"a":{"x":' + "[" * 200 + "]" * 200 + ',"dtype":"U8","shape":[0],"data_offsets":[0,0]}}'),
}

if __name__ == "__main__":
    os.makedirs(HERE, exist_ok=True)
    for name, content in SEEDS.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(content)
    print(f"wrote {len(SEEDS)} seeds to {HERE}")
