"""``make bench``: run every benchmark in turn (results go into bench/RESULTS.md by hand)."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = [
    "bench.startup",
    "bench.store_write",
    "bench.spotify_client_bench",
    "bench.sse_fanout",
    "bench.scrobble_bench",
]


def main() -> None:
    for module in BENCHMARKS:
        print(f"== {module}", flush=True)
        subprocess.run([sys.executable, "-m", module], check=True)


if __name__ == "__main__":
    main()
