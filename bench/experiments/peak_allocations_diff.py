#!/usr/bin/env python3
"""The sizes whose count differs between two peak_allocations.c reports (A, then B): B - A in MB.

usage: peak_allocations_diff.py fp32.txt bf16.txt
"""
import sys


def sizes(path):
    """{size in bytes: live count} of one report, and its peak line."""
    lines = open(path).read().splitlines()
    counts = {}
    for line in lines[1:]:
        if line.startswith("peak set by"):
            break
        size, count, _ = line.split()
        counts[int(size)] = int(count)
    return counts, lines[0]


a, peak_a = sizes(sys.argv[1])
b, peak_b = sizes(sys.argv[2])
print(f"A: {peak_a}; B: {peak_b}")
total = 0.0
for size in sorted(set(a) | set(b), reverse=True):
    if a.get(size, 0) != b.get(size, 0):
        diff = (b.get(size, 0) - a.get(size, 0)) * size / 1e6
        total += diff
        print(f"{size:>10} bytes ({size // 4:>8} floats): A {a.get(size, 0):3d}, B {b.get(size, 0):3d}, B - A {diff:+7.2f} MB")
print(f"B - A: {total:+.2f} MB")
