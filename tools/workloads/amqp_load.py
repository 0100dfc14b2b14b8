"""AMQP 0-9-1 load on a RabbitMQ broker with pika: publishers with confirms and consumers with acks.

    python3 amqp_load.py --port 28440 --user U --password P --messages 20000 --queues 4 --churn 20 --keep Q
    python3 amqp_load.py --port 28440 --user U --password P --seconds 300 --queues 8 --churn 50
    python3 amqp_load.py --port 28440 --user U --password P --expect-kept Q

Per queue (durable), one publisher thread and one consumer thread, each on its own connection.
Publishers reconnect every ``--churn``-th of their messages (new connections, channels and the
broker's processes for them: connection churn); messages are persistent. Every message published
must be consumed (exit 1 otherwise). ``--keep Q`` leaves one persistent message in the durable
queue Q; ``--expect-kept Q`` checks it is still there (after a restart).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time

import pika  # type: ignore[import-not-found]  # Debian's python3-pika, in the client image only


def params(args: argparse.Namespace) -> pika.ConnectionParameters:
    return pika.ConnectionParameters(
        host="127.0.0.1",
        port=args.port,
        credentials=pika.PlainCredentials(args.user, args.password),
        heartbeat=30,
        blocked_connection_timeout=60,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", default="guest")
    parser.add_argument("--password", default="guest")
    parser.add_argument("--messages", type=int, default=0, help="messages per run (split over the queues)")
    parser.add_argument("--seconds", type=float, default=0, help="publish for this long instead")
    parser.add_argument("--queues", type=int, default=4)
    parser.add_argument("--churn", type=int, default=20, help="connections each publisher opens in turn")
    parser.add_argument("--keep")
    parser.add_argument("--expect-kept")
    args = parser.parse_args()

    if args.expect_kept:
        with pika.BlockingConnection(params(args)) as conn:
            ok = conn.channel().queue_declare(args.expect_kept, passive=True)
            count = ok.method.message_count
        print(f"{args.expect_kept}: {count} message(s)")
        return 0 if count >= 1 else 1

    queues = [f"seccompose.load.{i}" for i in range(args.queues)]
    with pika.BlockingConnection(params(args)) as conn:
        ch = conn.channel()
        for q in queues:
            ch.queue_declare(q, durable=True)
            ch.queue_purge(q)
    deadline = time.monotonic() + args.seconds if args.seconds else None
    per_queue = max(1, args.messages // args.queues) if not deadline else 0
    published = dict.fromkeys(queues, 0)
    consumed = dict.fromkeys(queues, 0)
    done_publishing = threading.Event()
    errors: list[str] = []

    def publish(q: str) -> None:
        body = b"x" * 512
        try:
            n = 0
            while (deadline and time.monotonic() < deadline) or (not deadline and n < per_queue):
                batch = max(1, (per_queue or 2000) // args.churn)
                with pika.BlockingConnection(params(args)) as conn:
                    ch = conn.channel()
                    ch.confirm_delivery()
                    for _ in range(batch):
                        if not deadline and n >= per_queue:
                            break
                        ch.basic_publish("", q, body, pika.BasicProperties(delivery_mode=2))
                        n += 1
                        published[q] = n
        except Exception as exc:  # noqa: BLE001 - reported and counted as a failure
            errors.append(f"publish {q}: {exc!r}")

    def consume(q: str) -> None:
        try:
            with pika.BlockingConnection(params(args)) as conn:
                ch = conn.channel()
                ch.basic_qos(prefetch_count=200)
                idle_since = time.monotonic()
                for method, _props, _body in ch.consume(q, inactivity_timeout=1):
                    if method is None:
                        if done_publishing.is_set() and consumed[q] >= published[q]:
                            break
                        if time.monotonic() - idle_since > 60:
                            errors.append(f"consume {q}: nothing for 60 s ({consumed[q]}/{published[q]})")
                            break
                        continue
                    idle_since = time.monotonic()
                    ch.basic_ack(method.delivery_tag)
                    consumed[q] += 1
                ch.cancel()
        except Exception as exc:  # noqa: BLE001
            errors.append(f"consume {q}: {exc!r}")

    started = time.monotonic()
    consumers = [threading.Thread(target=consume, args=(q,)) for q in queues]
    publishers = [threading.Thread(target=publish, args=(q,)) for q in queues]
    for t in consumers + publishers:
        t.start()
    for t in publishers:
        t.join()
    done_publishing.set()
    for t in consumers:
        t.join()
    total_p, total_c = sum(published.values()), sum(consumed.values())
    seconds = time.monotonic() - started
    print(
        f"published {total_p} consumed {total_c} in {seconds:.1f}s ({total_c / seconds:.0f}/s), "
        f"{args.queues} queues, {args.churn} connections per publisher"
    )
    if args.keep:
        with pika.BlockingConnection(params(args)) as conn:
            ch = conn.channel()
            ch.queue_declare(args.keep, durable=True)
            ch.queue_purge(args.keep)
            ch.confirm_delivery()
            ch.basic_publish("", args.keep, b"across-restarts", pika.BasicProperties(delivery_mode=2))
    for line in errors:
        print(line, file=sys.stderr)
    return 1 if errors or total_c != total_p or total_p == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
