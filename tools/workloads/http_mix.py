"""Request a mix of paths for a while with a few client threads; exit 1 on any failed request.

    python3 http_mix.py --seconds 300 --port 28448 / /work?n=4000 /hash

Each thread opens a new connection now and then (connection churn). Prints the counts.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import sys
import threading
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    deadline = time.monotonic() + args.seconds
    counts = {"ok": 0, "failed": 0}
    errors: list[str] = []
    lock = threading.Lock()

    def run(offset: int) -> None:
        paths = itertools.cycle(args.paths[offset % len(args.paths) :] + args.paths[: offset % len(args.paths)])
        conn = None
        done = 0
        while time.monotonic() < deadline:
            if conn is None or done % 50 == 0:
                if conn is not None:
                    conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
            path = next(paths)
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
            except (OSError, http.client.HTTPException) as exc:
                ok = False
                conn = None
                with lock:
                    errors.append(f"{path}: {exc}")
            with lock:
                counts["ok" if ok else "failed"] += 1
            done += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"requests ok {counts['ok']} failed {counts['failed']}")
    for line in errors[:10]:
        print(line, file=sys.stderr)
    return 1 if counts["failed"] or not counts["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
