#!/usr/bin/env python
"""Gateway fan-out measured with a Node + `ws` client through the full stack's front door,
ours beside stock Channels in the same run: `bench_gateway.py --client node` (see
bench/_node_fanout.py), here so `run_all.py` runs it too. Prints its RESULT line.

    .venv/bin/python bench/bench_gateway_node.py [--quick]
"""

from __future__ import annotations

import sys

import bench_gateway

if __name__ == "__main__":
    sys.argv.insert(1, "--client=node")
    bench_gateway.main()
