#!/usr/bin/env python3
"""Turns a scripts/bench results directory into the markdown tables of docs/BENCHMARKS.md."""
import json
import pathlib
import sys

out = pathlib.Path(sys.argv[1])


def load(name):
    path = out / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


workloads = ["get", "put", "batch-get", "list", "list-filter", "describe", "mixed"]
print("| Workload | Strongbox req/s | p50 / p99 ms | Limit req/s | moto req/s | moto p99 ms "
      "| Strongbox / limit | Strongbox / moto | Errors (Strongbox) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
for w in workloads:
    s, l, m = load(f"strongbox-{w}"), load(f"limit-{w}"), load(f"moto-{w}")
    if not s:
        continue
    rps = s["throughput_rps"]
    row = [w, f"{rps:,.0f}", f"{s['latency_ms']['p50']:.2f} / {s['latency_ms']['p99']:.2f}"]
    row.append(f"{l['throughput_rps']:,.0f}" if l else "-")
    row.append(f"{m['throughput_rps']:,.0f}" if m else "-")
    row.append(f"{m['latency_ms']['p99']:.1f}" if m else "-")
    row.append(f"{rps / l['throughput_rps']:.2f}x" if l and l["throughput_rps"] else "-")
    row.append(f"{rps / m['throughput_rps']:.0f}x" if m and m["throughput_rps"] else "-")
    row.append(", ".join(f"{k}: {v}" for k, v in s["errors"].items()) or "none")
    print("| " + " | ".join(row) + " |")

c64 = load("strongbox-put-c64")
if c64:
    print()
    print(f"- PutSecretValue at 64 connections: {c64['throughput_rps']:,.0f} req/s, "
          f"p50 {c64['latency_ms']['p50']:.2f} ms, p99 {c64['latency_ms']['p99']:.2f} ms")

big = [(w, load(f"big-{w}")) for w in ["list-filter", "list", "get", "describe"]]
if any(r for _, r in big):
    print()
    print("| Large store workload | req/s | p50 ms | p99 ms | p99.9 ms | errors |")
    print("|---|---:|---:|---:|---:|---|")
    for w, r in big:
        if r:
            lat = r["latency_ms"]
            print(f"| {w} ({r['secrets']:,} secrets) | {r['throughput_rps']:,.0f} | {lat['p50']:.2f} "
                  f"| {lat['p99']:.2f} | {lat['p999']:.2f} | "
                  + (", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "none") + " |")
rss, start = load("big-rss"), load("big-startup")
if rss or start:
    print()
    if rss:
        print(f"- Server RSS with the large store after the runs: {rss['VmRSS'] / 1024:.0f} MB "
              f"(peak {rss['VmHWM'] / 1024:.0f} MB)")
    if start:
        print(f"- Start to ready with the large store: median {start['median_ms']:.1f} ms "
              f"(min {start['min_ms']:.1f}, max {start['max_ms']:.1f}, {len(start['runs_ms'])} runs)")
