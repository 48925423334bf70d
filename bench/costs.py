"""The biggest costs in a folded perf profile (inferno-collapse-perf output).

Two views, because one alone misleads: the share of samples whose stack passes through each stage
(inclusive: a parse inside a request counts for both), and the functions that were on the CPU
themselves (self). Usage: python3 bench/costs.py FOLDED SCENARIO OUT.json
"""

import collections
import json
import re
import sys

# Stages of a request, by the frames that show them; the first match names a leaf's stage.
STAGES = [
    ("kernel (syscalls, TCP, epoll, scheduling)", re.compile(r"_\[k\]$|^entry_SYSCALL|^__x64_sys|^do_syscall")),
    ("allocator (malloc/free)", re.compile(r"malloc|^free$|^cfree|realloc|_int_free|tcache|^__libc_|^__GI___libc_(malloc|free)")),
    ("memory copies and compares (libc)", re.compile(r"^__mem|^memcpy|^memmove|^memcmp|^__strlen")),
    ("hashing (SipHash, IndexMap/HashMap lookups)", re.compile(r"core::hash|sip::Hasher|^indexmap::|hashbrown")),
    ("GraphQL parsing", re.compile(r"async_graphql_parser|pest::")),
    ("GraphQL validation", re.compile(r"async_graphql::validation")),
    ("JSON (serde_json)", re.compile(r"serde_json|async_graphql_value")),
    ("Redis client", re.compile(r"^redis::|bb8_redis|combine::")),
    ("PostgreSQL client (diesel-async)", re.compile(r"diesel|tokio_postgres|postgres_protocol")),
    ("cache (moka)", re.compile(r"^moka::|progress_dashboard::cache")),
    ("GraphQL execution (resolvers, registry)", re.compile(r"async_graphql::|progress_dashboard::graphql")),
    ("HTTP (hyper, axum, tower)", re.compile(r"^hyper|^axum|^tower|^http::|^h2::|httparse")),
    ("tokio runtime (scheduling, I/O driver, timers)", re.compile(r"^tokio::|^mio::|parking_lot|std::sys::.*futex")),
]


def stage_of(frame):
    for name, pattern in STAGES:
        if pattern.search(frame):
            return name
    return None


def main():
    folded, scenario, out = sys.argv[1:4]
    total = 0
    inclusive = collections.Counter()
    leaf_stage = collections.Counter()
    leaf_fn = collections.Counter()
    for line in open(folded):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        count = int(count)
        frames = stack.split(";")
        total += count
        seen = {stage_of(f) for f in frames} - {None}
        for s in seen:
            inclusive[s] += count
        leaf = frames[-1]
        leaf_fn[leaf] += count
        leaf_stage[stage_of(leaf) or "other (our code, std, libc)"] += count

    def pct(n):
        return round(100 * n / max(total, 1), 1)

    result = {
        "scenario": scenario,
        "weight": total,
        "inclusive_pct": {k: pct(v) for k, v in inclusive.most_common()},
        "self_pct_by_stage": {k: pct(v) for k, v in leaf_stage.most_common()},
        "self_pct_top_functions": [{"function": k[:140], "pct": pct(v)} for k, v in leaf_fn.most_common(15)],
    }
    json.dump(result, open(out, "w"), indent=2)

    print(f"\nprofile of the {scenario} scenario (shares of perf's sample weight)\n")
    print("| stage | inclusive % | self % |")
    print("|---|---|---|")
    for k, v in inclusive.most_common():
        print(f"| {k} | {pct(v)} | {pct(leaf_stage.get(k, 0))} |")
    print(f"| other (our code, std, libc) | | {pct(leaf_stage.get('other (our code, std, libc)', 0))} |")
    print("\nself time, top functions:")
    for k, v in leaf_fn.most_common(15):
        print(f"  {pct(v):5.1f} %  {k[:120]}")
    print(f"\nJSON written to {out}")


if __name__ == "__main__":
    main()
