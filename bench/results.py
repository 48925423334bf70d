"""Renders the JSON that the bench scripts left in bench/out/ as one Markdown report.

Usage: python3 bench/results.py [--smoke] > bench/out/RESULTS.md
Sections whose JSON is missing are left out, so a partial run still renders.
"""

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone

OUT = "bench/out"


def load(name):
    path = os.path.join(OUT, name)
    if not os.path.exists(path):
        return None
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in open(path) if line.strip()]
    return json.load(open(path))


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def n(x, digits=0):
    return f"{x:,.{digits}f}"


def failures(r):
    return r["failures"] + r["non2xx"] + r["socket_errors"]


def machine():
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    mem = sh("awk '/MemTotal/ {printf \"%.0f GiB\", $2 / 1048576}' /proc/meminfo")
    pg = sh("psql -tAc 'SHOW server_version' postgres://postgres@127.0.0.1:5432/postgres").split(" ")[0]
    redis = sh("redis-server --version | grep -o 'v=[0-9.]*' | cut -d= -f2")
    return (f"{os.cpu_count()} vCPU {cpu}, {mem}, {platform.system()} {platform.release()}, "
            f"PostgreSQL {pg}, Redis {redis}")


def goals_section(data):
    """The performance goals (issue 13), each as measured in this run; a row whose scenario did
    not run says so."""
    http, peer, mix, ws = data.get("http.json"), data.get("peer.json"), data.get("mix.json"), data.get("ws.jsonl")
    rows = []

    def row(measure, value, goal, met, fmt):
        if value is None:
            rows.append((measure, "not run", goal, ""))
        else:
            rows.append((measure, fmt(value), goal, "yes" if met(value) else "no"))

    ratio = lambda v: f"{v:.2f}"
    row("cached dashboard ÷ Floor A, in-process cache",
        http and http["ours_memory"]["rps"] / http["floor_a"]["rps"], "≥ 0.5", lambda v: v >= 0.5, ratio)
    row("cached dashboard ÷ Floor B, through Redis",
        http and http["ours_redis"]["rps"] / http["floor_b"]["rps"], "≥ 0.6", lambda v: v >= 0.6, ratio)
    row("uncached dashboard ÷ PostGraphile 4.14, max rps",
        peer and peer["ours_cache_off"]["rps"] / peer["postgraphile"]["rps"], "≥ 5×", lambda v: v >= 5,
        lambda v: f"{v:.1f}×")
    row("PostgreSQL CPU per uncached dashboard ÷ PostGraphile's",
        peer and peer["ours_cache_off"]["pg_cpu_us_per_request"] / max(peer["postgraphile"]["pg_cpu_us_per_request"], 0.1),
        "≤ 1×", lambda v: v <= 1, lambda v: f"{v:.2f}×")
    main = mix and mix["main"]
    row("`updateProgress` p99 at 200/s, open loop, 90 % reads / 10 % writes",
        main and main["writes"]["p99_ms"], "< 10 ms", lambda v: v < 10, lambda v: f"{v:.1f} ms")
    row("PostgreSQL CPU per `updateProgress` (that mix)",
        main and main["pg_cpu_us_per_write"] / 1000, "≤ 0.5 ms", lambda v: v <= 0.5, lambda v: f"{v:.2f} ms")
    # memory: the most connections with one subscription each; fan-out: the most subscriptions
    single = [r for r in ws or [] if r.get("per_connection", 1) == 1]
    big = max(single, key=lambda r: r["connections"]) if single else None
    row("idle WebSocket subscriber, RSS per connection with its subscription, at the largest run",
        big and big["rss_per_connection_kib"], "≤ 8 KiB", lambda v: v is not None and v <= 8,
        lambda v: "n/a" if v is None else f"{v:.1f} KiB ({n(big['connections'])} connections)")
    most = max(ws, key=lambda r: r.get("subscriptions", r["connections"])) if ws else None
    row("subscribers held by one instance, fan-out p99",
        most and most["latency_ms"]["p99"], "100,000, < 100 ms",
        lambda v: most.get("subscriptions", most["connections"]) >= 100_000 and v < 100,
        lambda v: f"{n(most.get('subscriptions', most['connections']))} subscriptions over "
                  f"{n(most['connections'])} connections, {n(most['subscribers_per_analysis'])} per event: {v:.1f} ms")
    print("## Goals (issue 13), as measured in this run\n")
    print("| measure | this run | goal | met |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()


def mix_section(m):
    print("## Writes inside a read load: `bash bench/mix.sh`\n")
    print("`bench/mix.rs`, open loop: requests sent on a fixed schedule, a tenth `updateProgress` (each a")
    print("real move on one of 50 analyses), the rest dashboard reads over all of them; latency counted")
    print("from when each request was due. The first row is the 200 updates/s run (20 s, after 5 s of the")
    print("same load unmeasured: the server is freshly started); then steps until the")
    print("updates' p99 passes 10 ms.\n")
    print("| req/s asked | achieved | reads p50 ms | reads p99 ms | updates p50 ms | updates p99 ms | failures | server CPU-µs/req | PostgreSQL CPU-µs per update |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in [m["main"]] + m["steps"]:
        rd, w = r["reads"], r["writes"]
        print(f"| {n(r['rate'])} | {n(r['achieved_rps'])} | {rd['p50_ms']:.2f} | {rd['p99_ms']:.2f} | {w['p50_ms']:.2f} "
              f"| {w['p99_ms']:.2f} | {rd['failures'] + w['failures']} | {r['server_cpu_us_per_request']} | {r['pg_cpu_us_per_write']} |")
    print(f"\nHighest rate held with the updates' p99 under 10 ms: {n(m['held_rate'])} req/s "
          f"({n(m['held_rate'] / 10)} updates/s).\n")


def http_section(h):
    fa, fb = h["floor_a"], h["floor_b"]
    print("## Cached dashboard against the floors: `bash bench/http.sh`\n")
    print("Closed loop (wrk, 1 thread, 64 connections); the server on core 0, wrk on core 1. CPU-µs")
    print("per request from `/proc` (the server; PostgreSQL's in its own column).\n")
    print("| target | rps | p50 ms | p99 ms | failures | server CPU-µs/req | PostgreSQL CPU-µs/req | ÷ floor A | ÷ floor B |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in (h["ours_memory"], h["ours_redis"], fa, fb, h["mutations"], h["mixed"]):
        print(f"| {r['target']} | {n(r['rps'])} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {failures(r)} "
              f"| {r['cpu_us_per_request']} | {r.get('pg_cpu_us_per_request', '')} "
              f"| {r['rps'] / fa['rps']:.3f} | {r['rps'] / fb['rps']:.3f} |")
    print("\nLatency curve of the cached dashboard (in-process cache): oha, open loop at a fixed rate,")
    print("latency-corrected, 64 connections:\n")
    print("| % of max | rate | achieved rps | p50 ms | p95 ms | p99 ms | failures |")
    print("|---|---|---|---|---|---|---|")
    for c in h["curve"]:
        print(f"| {c['pct_of_max']} | {n(c['rate'])} | {n(c['rps'], 1)} | {c['p50_ms']:.2f} | {c['p95_ms']:.2f} | {c['p99_ms']:.2f} | {c['non200']} |")
    s = h["spec"]
    print("\nThe specification's check, 1,000 connections at a fixed 5,000 req/s (the specification: p50 < 100 ms,")
    print("p95 < 200 ms, p99 < 500 ms, 500 req/s, < 1 % errors, hit rate > 80 %):\n")
    print("| achieved rps | requests | errors % | p50 ms | p95 ms | p99 ms | cache hit rate |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {n(s['rps'], 1)} | {n(s['requests'])} | {s['error_pct']} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f} | {s['p99_ms']:.2f} | {100 * s['hit_rate']:.1f} % |")
    print()


def peer_section(p):
    print("## Beside PostGraphile 4.14: `bash bench/peer.sh`\n")
    print("The same data from the same database: the analysis, its opportunities with their progress and its")
    print("badges (our `dashboard` query cut to those fields; PostGraphile's generated relations). Each server")
    print("on core 0; max by wrk (closed loop, 64 connections); then the highest fixed rate, searched down")
    print("from that max in 10 % steps, held by oha (open loop, 256 connections) with p95 < 200 ms.\n")
    print("| target | max rps | p99 ms at max | rps held at p95 < 200 ms | its p95 ms | server CPU-µs/req | PostgreSQL CPU-µs/req | failures |")
    print("|---|---|---|---|---|---|---|---|")
    for key in ("ours_cache_on", "ours_cache_off", "postgraphile"):
        r = p[key]
        a = r["at_p95_200"]
        print(f"| {r['target']} | {n(r['rps'])} | {r['p99_ms']:.2f} | {n(a['rps'])} | {a['p95_ms']:.2f} "
              f"| {r['cpu_us_per_request']} | {r['pg_cpu_us_per_request']} | {failures(r) + a['non200']} |")
    pg = p["postgraphile"]
    on, off = p["ours_cache_on"], p["ours_cache_off"]
    print(f"\nRatios: ours ÷ PostGraphile, max rps: cache on {on['rps'] / pg['rps']:.1f}×, cache off "
          f"{off['rps'] / pg['rps']:.1f}×; server CPU per request: PostGraphile ÷ ours: cache on "
          f"{pg['cpu_us_per_request'] / max(on['cpu_us_per_request'], 0.1):.1f}×, cache off "
          f"{pg['cpu_us_per_request'] / max(off['cpu_us_per_request'], 0.1):.1f}×.\n")


def sql_section(cases):
    print("## The uncached path, SQL statements per request: `bash bench/sql.sh`\n")
    print("Counted by PostgreSQL (`pg_stat_statements` with planning tracked, the bench database only),")
    print("our cache off; times are PostgreSQL's own, per request:\n")
    print("| request | statements | plans | planning ms | execution ms | requests |")
    print("|---|---|---|---|---|---|")
    for c in cases:
        print(f"| {c['case']} | {c['per_request']:g} | {c['plans_per_request']:g} | {c['plan_ms_per_request']:.3f} "
              f"| {c['exec_ms_per_request']:.3f} | {c['requests']} |")
    for c in (cases[0], cases[-1]):
        print(f"\nThe statements of '{c['case']}', per request:\n")
        print("| calls | plans | planning ms | execution ms | statement |")
        print("|---|---|---|---|---|")
        for s in c["by_statement"]:
            print(f"| {s['per_request']:g} | {s['plans_per_request']:g} | {s['plan_ms_per_request']:.3f} "
                  f"| {s['exec_ms_per_request']:.3f} | `{s['query'][:90]}…` |")
    print()


def ws_section(runs):
    print("## WebSocket fan-out: `bash bench/ws.sh`\n")
    print("`kpiUpdated` subscriptions over graphql-transport-ws, a server of its own per run; latency from the")
    print("change's `at` (taken before its transaction) to receipt, so it includes the commit and the publish.")
    print("RSS per connection is the server's growth over the idle connections with their subscriptions,")
    print("split into the bare connection (acknowledged, nothing subscribed) and each subscription:\n")
    print("| connections | subscriptions | per event | events | delivered / expected | connect/s | idle RSS per connection | bare | per subscription | p50 ms | p99 ms | max ms | fan-out spread p50 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    kib = lambda v: "n/a" if v is None else f"{v:.1f} KiB"
    for r in runs:
        print(f"| {n(r['connections'])} | {n(r.get('subscriptions', r['connections']))} | {n(r['subscribers_per_analysis'])} "
              f"| {r['events']} | {n(r['delivered'])} / {n(r['expected'])} "
              f"| {n(r['connect_rate_per_s'])} | {kib(r['rss_per_connection_kib'])} | {kib(r.get('rss_per_bare_connection_kib'))} "
              f"| {kib(r.get('rss_per_subscription_kib'))} | {r['latency_ms']['p50']:.2f} "
              f"| {r['latency_ms']['p99']:.2f} | {r['latency_ms']['max']:.2f} | {r['fanout_spread_ms']['p50']:.2f} |")
    print()


def reports_section(r):
    print("## Email reports: `bash bench/reports.sh`\n")
    print("| due | sent | failed | received by the SMTP sink | seconds | reports/s |")
    print("|---|---|---|---|---|---|")
    print(f"| {n(r['due'])} | {n(r['sent'])} | {r['failed']} | {n(r['received'])} | {r['seconds']:.1f} | {n(r['per_second'])} |\n")


def fuzz_section(r):
    print("## Hostile input: `bash bench/fuzz.sh`\n")
    print("Generated documents and variables (`tests/api/fuzz_gen.rs`) through the release server's real")
    print("request path, over POST and GET, 16 at a time. A failure is a crash or panic, a 5xx, a dropped")
    print("connection, or an error that is `INTERNAL` or has no code.\n")
    print("| cases | seed | seconds | cases/s | failures | INTERNAL | panics | alive | statuses | RSS before → after |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    statuses = ", ".join(f"{k}: {n(v)}" for k, v in sorted(r["statuses"].items()))
    print(f"| {n(r['cases'])} | {r['seed']} | {r['seconds']} | {n(r['cases_per_second'])} | {r['failures']} | {r['internal']} "
          f"| {r['panics']} | {'yes' if r['alive'] else 'no'} | {statuses} | {n(r['rss_kib_before'])} → {n(r['rss_kib_after'])} KiB |\n")


def profile_section(p):
    print(f"## Where the CPU goes: `bash bench/profile.sh` (the cached dashboard, {p['scenario']} cache)\n")
    print("perf (DWARF call graphs) on the server under wrk's load, folded by inferno; the flame graph is")
    print(f"`bench/out/flame-{p['scenario']}.svg`. Inclusive: samples whose stack passes through the stage;")
    print("self: samples on the CPU in it.\n")
    print("| stage | inclusive % | self % |")
    print("|---|---|---|")
    self_pct = p["self_pct_by_stage"]
    for k, v in p["inclusive_pct"].items():
        print(f"| {k} | {v} | {self_pct.get(k, 0)} |")
    print(f"| other (our code, std, libc) | | {self_pct.get('other (our code, std, libc)', 0)} |\n")


def main():
    smoke = "--smoke" in sys.argv
    commit = sh("git rev-parse --short HEAD")
    print(f"# Benchmark run{' (smoke)' if smoke else ''}\n")
    print(f"- **Machine:** {machine()}.")
    print(f"- **Date:** {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC. **Commit:** {commit}.")
    print(f"- **Command:** `bash bench/all.sh{' --smoke' if smoke else ''}` (each section names its own script).\n")
    sections = [("http.json", http_section), ("peer.json", peer_section), ("sql.json", sql_section),
                ("mix.json", mix_section), ("ws.jsonl", ws_section), ("reports.json", reports_section),
                ("fuzz.json", fuzz_section), ("profile-memory.json", profile_section)]
    data = {name: load(name) for name, _ in sections}
    goals_section(data)
    for name, render in sections:
        if data[name]:
            render(data[name])


if __name__ == "__main__":
    main()
