#!/usr/bin/env python3
"""A hand-rolled custodyd client for hostile-input tests (no pip packages).

    rawclient.py SOCKET SCENARIO [ARG]

It connects to the daemon's Unix socket, plays SCENARIO (a fixed sequence of raw bytes,
frames and messages, see SCENARIOS below), then reads whatever the daemon sends back until it
closes the connection (or TIMEOUT seconds pass), printing one line per event:

    welcome OFFICE           a Welcome message
    error CODE MESSAGE       an Error message (Envelope field 3): its code and text
    reply FIELD              any other message (its Envelope field number)
    data TYPE LEN            a non-message frame
    closed                   the daemon closed the connection (EOF)
    reset                    the connection was reset
    open                     still open after TIMEOUT seconds ($RAWCLIENT_TIMEOUT)

A StatusReply or IngestDone ends the conversation at once (the daemon would wait for more).

Frame: u32 big-endian body length, u8 type (1 message, 2 data, 3 data end), body. A message
body is a protobuf custody.Envelope (proto/custody.proto), encoded here by hand.
"""
import os
import socket
import struct
import sys

TIMEOUT = float(os.environ.get("RAWCLIENT_TIMEOUT", "8"))

FRAME_MSG, FRAME_DATA, FRAME_DATA_END = 1, 2, 3

PROTOCOL_VERSION = 3    # CUSTODY_PROTOCOL_VERSION in include/custody/wire.h

# Envelope field numbers (proto/custody.proto).
F_HELLO, F_WELCOME, F_ERROR = 1, 2, 3
F_STATUS_REQUEST, F_STATUS_REPLY = 100, 101
F_INGEST_BEGIN, F_INGEST_FILE, F_INGEST_FILE_DONE, F_INGEST_COMMIT = 102, 103, 104, 105
F_GET_REQUEST = 107
F_RECORD_BEGIN, F_RECORD_BATCH = 200, 201
F_LIST_REQUEST, F_RECORD_LIST = 206, 207


def varint(n):
    """Protobuf base-128 varint; negative int32/int64 as 10-byte two's complement."""
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def f_varint(field, n):
    return key(field, 0) + varint(n)


def f_bytes(field, data):
    if isinstance(data, str):
        data = data.encode()
    return key(field, 2) + varint(len(data)) + data


def envelope(field, body=b""):
    """An Envelope with the oneof member `field` set to the submessage bytes `body`."""
    return f_bytes(field, body)


def frame(body, ftype=FRAME_MSG, length=None):
    if length is None:
        length = len(body)
    return struct.pack(">IB", length, ftype) + body


def hello(version=PROTOCOL_VERSION):
    return frame(envelope(F_HELLO, f_varint(1, version) + f_bytes(2, "rawclient")))


def read_varint(buf, i):
    shift = n = 0
    while True:
        if i >= len(buf):
            raise ValueError("truncated varint")
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i
        if shift > 70:
            raise ValueError("varint too long")


def fields(buf):
    """Decode a protobuf message into a list of (field, wire type, value)."""
    out, i = [], 0
    while i < len(buf):
        k, i = read_varint(buf, i)
        field, wire = k >> 3, k & 7
        if wire == 0:
            v, i = read_varint(buf, i)
        elif wire == 2:
            n, i = read_varint(buf, i)
            if i + n > len(buf):
                raise ValueError("truncated field")
            v, i = buf[i:i + n], i + n
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wire)
        out.append((field, wire, v))
    return out


def describe(body):
    """One output line for a message frame body."""
    try:
        env = fields(body)
    except ValueError as e:
        return "undecodable %s" % e
    if not env:
        return "empty"
    field, _, sub = env[0]
    if field == F_ERROR:
        code, msg = 0, ""
        for f, _, v in fields(sub):
            if f == 1:
                code = v - (1 << 64) if v >= 1 << 63 else v
            elif f == 2:
                msg = v.decode("utf-8", "replace")
        return "error %d %s" % (code, msg)
    if field == F_WELCOME:
        office = ""
        for f, _, v in fields(sub):
            if f == 2:
                office = v.decode("utf-8", "replace")
        return "welcome %s" % office
    return "reply %d" % field


def send_fd(sock, data, fd):
    socket.send_fds(sock, [data], [fd])


# Each scenario: a function (sock, arg) that sends things. Reading is common.
def sc_garbage(s, arg):
    s.sendall(b"GET / HTTP/1.0\r\nHost: custody\r\n\r\n" + os.urandom(200))


def sc_oversize_header(s, arg):
    s.sendall(struct.pack(">IB", 0x7FFFFFFF, FRAME_MSG))


def sc_oversize_after_hello(s, arg):
    s.sendall(hello())
    s.sendall(struct.pack(">IB", 0x7FFFFFFF, FRAME_MSG))


def sc_big_before_hello(s, arg):
    # A message frame of 5000 bytes before the Hello: over the 4096-byte limit.
    body = envelope(F_HELLO, f_varint(1, 1) + f_bytes(2, "x" * 4980))
    s.sendall(frame(body)[:4200])


def sc_bad_version(s, arg):
    s.sendall(hello(version=1))    # the version before office channels used Noise XK


def sc_version_zero(s, arg):
    s.sendall(hello(version=0))


def sc_truncated(s, arg):
    # The header announces 100 bytes; send 10, then close our side.
    s.sendall(struct.pack(">IB", 100, FRAME_MSG) + b"\x0a\x08\x08\x01" + b"\x00" * 6)
    s.shutdown(socket.SHUT_WR)


def sc_truncated_hold(s, arg):
    # The header announces 100 bytes; send 10 and wait (the daemon must time out).
    s.sendall(struct.pack(">IB", 100, FRAME_MSG) + b"\x0a\x08\x08\x01" + b"\x00" * 6)


def sc_silent(s, arg):
    # Connect and say nothing (the daemon must time out waiting for the Hello).
    pass


def sc_truncated_after_hello(s, arg):
    s.sendall(hello())
    s.sendall(struct.pack(">IB", 100, FRAME_MSG) + os.urandom(10))
    s.shutdown(socket.SHUT_WR)


def sc_garbage_protobuf(s, arg):
    s.sendall(hello())
    s.sendall(frame(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x07garbage"))


def sc_garbage_protobuf_before_hello(s, arg):
    s.sendall(frame(b"\x0a\xff\xff\xff\x0f\x01"))


def sc_empty_envelope(s, arg):
    s.sendall(hello())
    s.sendall(frame(b""))  # a message frame with an empty body


def sc_no_body(s, arg):
    # A well-formed Envelope whose only field is unknown: no body set.
    s.sendall(hello())
    s.sendall(frame(f_varint(999, 1)))


def sc_unknown_frame_type(s, arg):
    s.sendall(hello())
    s.sendall(frame(b"abc", ftype=9))


def sc_status_before_hello(s, arg):
    s.sendall(frame(envelope(F_STATUS_REQUEST)))


def sc_welcome(s, arg):
    s.sendall(hello())
    s.sendall(frame(envelope(F_WELCOME, f_varint(1, 1) + f_bytes(2, "evil"))))


def sc_status_reply(s, arg):
    s.sendall(hello())
    s.sendall(frame(envelope(F_STATUS_REPLY, f_bytes(1, "evil") + f_varint(4, 99))))


def sc_second_hello(s, arg):
    s.sendall(hello())
    s.sendall(hello())
    s.sendall(frame(envelope(F_STATUS_REQUEST)))


def sc_ingest_file_no_fd(s, arg):
    s.sendall(hello())
    s.sendall(frame(envelope(F_INGEST_BEGIN, f_varint(3, 1))))
    s.sendall(frame(envelope(F_INGEST_FILE, f_varint(1, 0) + f_bytes(2, "x.txt"))))


def sc_ingest_commit_no_batch(s, arg):
    s.sendall(hello())
    s.sendall(frame(envelope(F_INGEST_COMMIT)))


def sc_ingest_commit_early(s, arg):
    s.sendall(hello())
    s.sendall(frame(envelope(F_INGEST_BEGIN, f_varint(3, 2))))
    s.sendall(frame(envelope(F_INGEST_COMMIT)))


def sc_ingest_begin_zero(s, arg):
    s.sendall(hello())
    s.sendall(frame(envelope(F_INGEST_BEGIN, f_varint(3, 0))))


def sc_data_frame(s, arg):
    s.sendall(hello())
    s.sendall(frame(b"raw bulk bytes", ftype=FRAME_DATA))


def sc_data_end_frame(s, arg):
    s.sendall(hello())
    s.sendall(frame(b"", ftype=FRAME_DATA_END))


def sc_get_no_fd(s, arg):
    s.sendall(hello())
    s.sendall(frame(envelope(F_GET_REQUEST, f_bytes(1, "0" * 64))))


def sc_status(s, arg):
    s.sendall(hello())
    s.sendall(frame(envelope(F_STATUS_REQUEST)))


def _ingest_fd(s, fd, name):
    s.sendall(hello())
    s.sendall(frame(envelope(F_INGEST_BEGIN, f_varint(3, 1))))
    send_fd(s, frame(envelope(F_INGEST_FILE, f_varint(1, 0) + f_bytes(2, name))), fd)
    s.sendall(frame(envelope(F_INGEST_COMMIT)))


def sc_ingest_wronly(s, arg):
    # A descriptor opened write-only: the daemon cannot read it.
    fd = os.open(arg, os.O_WRONLY)
    _ingest_fd(s, fd, "wronly.bin")
    os.close(fd)


def sc_ingest_dirfd(s, arg):
    fd = os.open(arg, os.O_RDONLY | os.O_DIRECTORY)
    _ingest_fd(s, fd, "dir")
    os.close(fd)


def sc_ingest_pipe(s, arg):
    r, w = os.pipe()
    os.write(w, b"bytes through a pipe")
    os.close(w)
    _ingest_fd(s, r, "pipe")
    os.close(r)


def sc_records_then_ingest(s, arg):
    # A record batch, then an IngestBegin before the records' commit: the daemon checks the
    # batch on a worker while it holds the next message, read ahead; it must go on reading after
    # it (the StatusRequest gets its reply).
    s.sendall(hello())
    s.sendall(frame(envelope(F_RECORD_BEGIN, f_bytes(1, "source") + f_varint(2, 2))))
    s.sendall(frame(envelope(F_RECORD_BATCH, f_bytes(1, '{"id":"src-1","type":"witness"}'))))
    s.sendall(frame(envelope(F_INGEST_BEGIN, f_varint(3, 1))))
    s.sendall(frame(envelope(F_STATUS_REQUEST)))


def sc_ingest_ok(s, arg):
    # A well-formed ingest of one file through this client: shows the encoder is right.
    fd = os.open(arg, os.O_RDONLY)
    _ingest_fd(s, fd, os.path.basename(arg))
    os.close(fd)


def sc_ingest_climbing_name(s, arg):
    # A name that climbs out of any directory it would be written under, with a terminal
    # escape: the daemon records it as a plain relative path.
    fd = os.open(arg, os.O_RDONLY)
    _ingest_fd(s, fd, "/../../etc/./cron.d//job\x1b[31m/..".encode())
    os.close(fd)


def sc_ingest_long_names(s, arg):
    # 300 files (the same bytes each time) with names of 4000 bytes: more names than one
    # custody event holds (1 MiB), so the batch's event comes in parts.
    n = 300
    s.sendall(hello())
    s.sendall(frame(envelope(F_INGEST_BEGIN, f_varint(3, n))))
    for i in range(n):
        fd = os.open(arg, os.O_RDONLY)     # an offset of its own
        name = "long/%04d-" % i + "n" * 3990
        send_fd(s, frame(envelope(F_INGEST_FILE, f_varint(1, i) + f_bytes(2, name))), fd)
        os.close(fd)
    s.sendall(frame(envelope(F_INGEST_COMMIT)))


def sc_ingest_then_status(s, arg):
    # An ingest whose commit is followed at once by a status request, all sent before any
    # answer: the answers must come in the order of the requests (IngestDone first, which ends
    # the conversation here), though the status would be quicker.
    fd = os.open(arg, os.O_RDONLY)
    _ingest_fd(s, fd, os.path.basename(arg))
    os.close(fd)
    s.sendall(frame(envelope(F_STATUS_REQUEST)))


def recv_frame(s, buf):
    """Read one whole frame: returns (type, body, rest) or (None, None, buf) at EOF."""
    while True:
        if len(buf) >= 5:
            length, ftype = struct.unpack(">IB", buf[:5])
            if len(buf) >= 5 + length:
                return ftype, buf[5:5 + length], buf[5 + length:]
        chunk = s.recv(1 << 20)
        if not chunk:
            return None, None, buf
        buf += chunk


def sc_get_many(s, arg):
    """ARG lists "SHA256  PATH" lines (sha256sum's format): get each over one connection (GetRequest with a fresh
    temporary file's descriptor), then check the bytes against SHA256 and against PATH.
    Prints "got SHA" or "bad SHA REASON" per line, then "end". Reads the replies itself."""
    import hashlib
    import filecmp
    import tempfile
    s.sendall(hello())
    ftype, body, buf = recv_frame(s, b"")
    if ftype != FRAME_MSG or not describe(body).startswith("welcome"):
        print("bad hello %s" % (describe(body) if body else "closed"))
        return True
    for line in open(arg):
        line = line.rstrip("\n")
        sha, path = line[:64], line[66:] if line[64:66] == "  " else line[65:]
        with tempfile.TemporaryFile() as t:
            send_fd(s, frame(envelope(F_GET_REQUEST, f_bytes(1, sha))), t.fileno())
            ftype, body, buf = recv_frame(s, buf)
            if ftype is None:
                print("bad %s connection closed" % sha)
                return True
            what = describe(body)
            if what != "reply 108":
                print("bad %s %s" % (sha, what))
                continue
            t.seek(0)
            h = hashlib.sha256()
            for chunk in iter(lambda: t.read(1 << 20), b""):
                h.update(chunk)
            if h.hexdigest() != sha:
                print("bad %s bytes hash to %s" % (sha, h.hexdigest()))
                continue
            t.seek(0)
            with open(path, "rb") as orig:
                same = True
                while same:
                    a, b = orig.read(1 << 20), t.read(1 << 20)
                    same = a == b
                    if not a:
                        break
            print("got %s" % sha if same else "bad %s differs from %s" % (sha, path))
        sys.stdout.flush()
    print("end")
    return True


def sc_list_stall(s, arg):
    """ARG is "KIND LIMIT SECONDS": ask for a list of up to LIMIT records of KIND, read nothing
    for SECONDS (printing "stalled" first), then read the whole answer. Prints "records N"
    (the records of every RecordList, up to the one with more unset) or what came instead."""
    import time
    kind, limit, secs = arg.split()
    s.sendall(hello())
    ftype, body, buf = recv_frame(s, b"")
    if ftype != FRAME_MSG or not describe(body).startswith("welcome"):
        print("bad hello %s" % (describe(body) if body else "closed"))
        return True
    s.sendall(frame(envelope(F_LIST_REQUEST, f_bytes(1, kind) + f_varint(2, int(limit)))))
    print("stalled")
    sys.stdout.flush()
    time.sleep(float(secs))
    n = lists = 0
    while True:
        ftype, body, buf = recv_frame(s, buf)
        if ftype is None:
            print("closed after %d records" % n)
            return True
        top = fields(body)
        if ftype != FRAME_MSG or not top or top[0][0] != F_RECORD_LIST:
            print("%s after %d records" % (describe(body), n))
            return True
        lists += 1
        more = False
        for field, wire, value in fields(top[0][2]):
            n += field == 1
            more = more or (field == 2 and value != 0)
        if not more:
            print("records %d in %d lists" % (n, lists))
            return True


SCENARIOS = {name[3:].replace("_", "-"): fn for name, fn in globals().items()
             if name.startswith("sc_")}


def main():
    if len(sys.argv) < 3 or sys.argv[2] not in SCENARIOS:
        sys.stderr.write("usage: rawclient.py SOCKET SCENARIO [ARG]\nscenarios: %s\n" %
                         " ".join(sorted(SCENARIOS)))
        return 2
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    try:
        if SCENARIOS[sys.argv[2]](s, sys.argv[3] if len(sys.argv) > 3 else None):
            s.close()
            return 0
    except (BrokenPipeError, ConnectionResetError) as e:
        # The daemon may hang up before everything was sent; what it said is still readable.
        print("send-failed %s" % e.__class__.__name__)
    s.settimeout(TIMEOUT)
    buf = b""
    finished = False
    while not finished:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            print("open")
            break
        except ConnectionResetError:
            print("reset")
            break
        if not chunk:
            if buf:
                print("trailing %d bytes" % len(buf))
            print("closed")
            break
        buf += chunk
        while len(buf) >= 5:
            length, ftype = struct.unpack(">IB", buf[:5])
            if len(buf) < 5 + length:
                break
            body, buf = buf[5:5 + length], buf[5 + length:]
            if ftype == FRAME_MSG:
                line = describe(body)
                print(line)
                if line in ("reply %d" % F_STATUS_REPLY, "reply 106"):
                    finished = True
                    break
            else:
                print("data %d %d" % (ftype, length))
        sys.stdout.flush()
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
