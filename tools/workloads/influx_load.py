"""InfluxDB 1.x load over its HTTP API: line-protocol writes and InfluxQL queries, with authentication.

    python3 influx_load.py --port 28460 --points 20000
    python3 influx_load.py --port 28460 --expect-points 20000

Writes ``--points`` points in batches of 1000 as the ``app`` user to the ``metrics`` database,
queries them back (count, mean, group by time) as the read-only ``reader``, checks that the
reader may not write (403), and that an unauthenticated query is refused (401).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def call(port: int, path: str, *, user: str | None, password: str = "", data: bytes | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST" if data else "GET")
    if user:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def count(port: int) -> int:
    q = urllib.parse.urlencode({"db": "metrics", "q": "SELECT count(value) FROM cpu"})
    status, body = call(port, f"/query?{q}", user="reader", password="reader-secret")
    if status != 200:
        raise RuntimeError(f"query: {status} {body!r}")
    series = json.loads(body)["results"][0].get("series") or []
    return int(series[0]["values"][0][1]) if series else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--points", type=int, default=10000)
    parser.add_argument("--expect-points", type=int)
    args = parser.parse_args()
    if args.expect_points is not None:
        n = count(args.port)
        print(f"cpu: {n} point(s)")
        return 0 if n >= args.expect_points else 1

    base = int(time.time()) * 10**9
    for start in range(0, args.points, 1000):
        lines = "\n".join(
            f"cpu,host=h{i % 8},core={i % 4} value={i % 100}.5,busy={i % 7}i {base + i * 1000}"
            for i in range(start, min(start + 1000, args.points))
        )
        status, body = call(args.port, "/write?db=metrics", user="app", password="app-secret", data=lines.encode())
        if status != 204:
            print(f"write: {status} {body!r}", file=sys.stderr)
            return 1
    n = count(args.port)
    queries = [
        "SELECT mean(value) FROM cpu GROUP BY host",
        "SELECT max(busy) FROM cpu WHERE time > now() - 1h GROUP BY time(1m)",
        "SHOW SERIES",
        "SHOW MEASUREMENTS",
    ]
    for query in queries:
        q = urllib.parse.urlencode({"db": "metrics", "q": query})
        status, body = call(args.port, f"/query?{q}", user="reader", password="reader-secret")
        if status != 200 or b'"error"' in body:
            print(f"{query}: {status} {body[:300]!r}", file=sys.stderr)
            return 1
    denied, _ = call(args.port, "/write?db=metrics", user="reader", password="reader-secret", data=b"cpu value=1")
    anonymous, _ = call(args.port, "/query?q=SHOW+DATABASES", user=None)
    print(f"points {n}/{args.points}; reader writing: {denied}; anonymous query: {anonymous}")
    return 0 if n >= args.points and denied == 403 and anonymous == 401 else 1


if __name__ == "__main__":
    sys.exit(main())
