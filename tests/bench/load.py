#!/usr/bin/env python3
"""Load on one custodyd: many clients at once, idle ones, slow ones.

    load.py SOCKET SECONDS [CLIENTS] [IDLE] [SLOW]

For SECONDS, CLIENTS threads (default 200) each connect, say hello and make one request, over
and over: a status, a month report or a victims query in turn, timing each from connect to
reply. Meanwhile IDLE connections (default 1000) say hello and then nothing, and SLOW ones
(default 20) send their hello a byte a second. Prints p50/p99 per request kind, the errors,
and what became of the idle and slow connections. Exits 1 on any error.
"""
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import rawclient as rc  # noqa: E402

F_STATUS_REQUEST, F_STATUS_REPLY = 100, 101
F_QUERY_REQUEST, F_RECORD_LIST = 210, 207
F_REPORT_REQUEST, F_REPORT_REPLY = 213, 214
F_WELCOME, F_ERROR = 2, 3

REQUESTS = {
    "status": (rc.envelope(F_STATUS_REQUEST), F_STATUS_REPLY),
    "report": (rc.envelope(F_REPORT_REQUEST, rc.f_bytes(1, "2024-12-01") + rc.f_bytes(2, "2024-12-31")),
               F_REPORT_REPLY),
    "query": (rc.envelope(F_QUERY_REQUEST, rc.f_bytes(1, "2024-12-01") + rc.f_bytes(2, "2024-12-02") +
                          rc.f_varint(11, 50)), F_RECORD_LIST),
}


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("closed")
        buf += chunk
    return buf


def recv_msg(s):
    hdr = recv_exact(s, 5)
    length, ftype = struct.unpack(">IB", hdr)
    body = recv_exact(s, length)
    fields = rc.fields(body)
    return fields[0][0] if fields else None


def one(path, kind):
    req, want = REQUESTS[kind]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    try:
        s.connect(path)
        s.sendall(rc.hello() + rc.frame(req))
        if recv_msg(s) != F_WELCOME:
            raise RuntimeError("no welcome")
        got = recv_msg(s)
        # a query answers with RecordList messages, then an empty one: one is enough here
        if got != want:
            raise RuntimeError("got field %s, wanted %s" % (got, want))
    finally:
        s.close()


def main():
    path, seconds = sys.argv[1], float(sys.argv[2])
    nclients = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    nidle = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    nslow = int(sys.argv[5]) if len(sys.argv) > 5 else 20

    idle = []
    for _ in range(nidle):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(rc.hello())
        idle.append(s)
    for s in idle:
        s.settimeout(30)
        if recv_msg(s) != F_WELCOME:
            print("an idle connection got no welcome")
            return 1

    slow_done = []

    def slow():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        start = time.monotonic()
        try:
            for b in rc.hello():
                s.sendall(bytes([b]))
                time.sleep(1)
            slow_done.append(("finished", time.monotonic() - start))
        except OSError:
            slow_done.append(("dropped", time.monotonic() - start))
        s.close()

    slows = [threading.Thread(target=slow, daemon=True) for _ in range(nslow)]
    for t in slows:
        t.start()

    lat = {k: [] for k in REQUESTS}
    errors = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker(i):
        kinds = list(REQUESTS)
        n = i
        while time.monotonic() < stop:
            kind = kinds[n % len(kinds)]
            n += 1
            t0 = time.monotonic()
            try:
                one(path, kind)
            except Exception as e:  # noqa: BLE001 - every failure is counted and shown
                with lock:
                    errors.append("%s: %s" % (kind, e))
                continue
            with lock:
                lat[kind].append(time.monotonic() - t0)

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(nclients)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()

    def pct(v, p):
        v = sorted(v)
        return v[min(len(v) - 1, int(len(v) * p))] * 1000 if v else float("nan")

    for kind, v in lat.items():
        print("%-7s %6d requests  p50 %7.1f ms  p99 %7.1f ms" % (kind, len(v), pct(v, 0.5), pct(v, 0.99)))
    print("errors  %d%s" % (len(errors), (": " + "; ".join(errors[:5])) if errors else ""))
    # the idle connections are still there (the daemon's idle timeout is longer than the run)
    alive = 0
    for s in idle:
        s.setblocking(False)
        try:
            alive += 1 if s.recv(1) is None else 0
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    print("idle    %d of %d connections still open after the run" % (alive, nidle))
    for t in slows:
        t.join(timeout=40)
    dropped = [d for what, d in slow_done if what == "dropped"]
    print("slow    %d of %d dropped before finishing their hello (after %.0f-%.0f s)" % (
        len(dropped), nslow, min(dropped or [0]), max(dropped or [0])))
    for s in idle:
        s.close()
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
