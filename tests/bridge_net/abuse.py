"""Abuse checks for bnet (run by run.sh against a bnet_echo_server started
with --max-connections 16 --max-unauth-connections 4
--handshake-timeout-ms 1500): idle sockets without the token, broken
HTTP/2 prefaces, a stream id that goes backwards, a host header that
differs from :authority, and rapid reset. Prints "ok"/"FAIL" lines; the
exit status is the number of failures.

Environment: PORT3 (the server's port), TOK (its token)."""
import os
import socket
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events

PORT = int(os.environ["PORT3"])
TOK = os.environ["TOK"]
BUDGET = 4
fails = 0


def res(name, good, detail=""):
    global fails
    print(("ok   " if good else "FAIL ") + name + ("" if good else ": " + str(detail)))
    fails += 0 if good else 1


def get_hello(s):
    s.sendall(("GET /hello HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n\r\n"
               % (PORT, TOK)).encode())
    s.settimeout(5)
    d = b""
    try:
        while b"hello" not in d and not d.startswith(b"HTTP/1.1 5"):
            b = s.recv(4096)
            if not b:
                break
            d += b
    except (socket.timeout, ConnectionResetError):
        pass
    return d


def is_closed(s, wait=0.5):
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def raw(data, wait=3):
    c = socket.create_connection(("127.0.0.1", PORT), timeout=wait)
    c.sendall(data)
    out = b""
    try:
        while True:
            b = c.recv(65536)
            if not b:
                return out, True
            out += b
    except socket.timeout:
        return out, False
    except ConnectionResetError:
        return out, True


# ---- idle sockets without the token ----

# As many idle sockets as the whole limit: the ones past the budget make the
# oldest give way, and a caller with the token still gets in.
idle = [socket.create_connection(("127.0.0.1", PORT)) for _ in range(16)]
time.sleep(0.3)
s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
d = get_hello(s)
res("16 idle sockets without the token: an authenticated request still gets 200",
    d.startswith(b"HTTP/1.1 200"), d[:60])
still = [c for c in idle if not is_closed(c, 0.05)]
res("at most the budget (%d) of idle sockets stay open" % BUDGET, len(still) <= BUDGET, len(still))
t0 = time.time()
for c in still:
    c.settimeout(max(0.1, 4 - (time.time() - t0)))
    try:
        c.recv(1)
    except (socket.timeout, ConnectionResetError):
        pass
res("idle sockets are closed after the handshake deadline",
    all(is_closed(c, 0.1) for c in still), "%.1fs" % (time.time() - t0))
time.sleep(0.5)
d = get_hello(s)
res("the authenticated connection outlives the deadline", d.startswith(b"HTTP/1.1 200"), d[:60])
for c in idle:
    c.close()
s.close()

# A public route answered without the token does not authenticate.
p = socket.create_connection(("127.0.0.1", PORT), timeout=5)
p.sendall(("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % PORT).encode())
t0 = time.time()
p.settimeout(4)
d = b""
try:
    while True:
        b = p.recv(4096)
        if not b:
            break
        d += b
except (socket.timeout, ConnectionResetError):
    pass
el = time.time() - t0
res("a public request without the token is answered, then the deadline closes the connection",
    d.startswith(b"HTTP/1.1 200") and el < 3.5, "%r %.1fs" % (d[:30], el))
p.close()

# ---- broken prefaces: a connection error, never an HTTP/1.1 answer ----

GOAWAY_PROTO = bytes([0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
d, closed = raw(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
res("mangled h2 preface -> GOAWAY PROTOCOL_ERROR and close", d == GOAWAY_PROTO and closed, d[:40])
d, closed = raw(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\rQ")
res("preface wrong in its last byte -> GOAWAY PROTOCOL_ERROR and close",
    d == GOAWAY_PROTO and closed, d[:40])
d, closed = raw(b"INVALID CONNECTION PREFACE\r\n\r\n")
res("h2spec 3.5/2 (not HTTP at all) -> closed without an HTTP/1.1 answer",
    closed and not d.startswith(b"HTTP/1.1"), d[:40])
d, closed = raw(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\xff" * 40)
res("preface then garbage -> closed, no HTTP/1.1 answer", closed and b"HTTP/1.1" not in d, d[:40])


# ---- raw HTTP/2 ----

def h2conn():
    c = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    # Outbound validation off: some of these requests are wrong on purpose.
    h = h2.connection.H2Connection(h2.config.H2Configuration(
        client_side=True, header_encoding="utf-8", validate_outbound_headers=False))
    h.initiate_connection()
    c.sendall(h.data_to_send())
    return c, h


def headers(path="/hello", extra=()):
    return [(":method", "GET"), (":scheme", "http"), (":path", path),
            (":authority", "127.0.0.1:%d" % PORT), ("authorization", "Bearer " + TOK)] + list(extra)


def events_until(c, h, pred, wait=5):
    seen = []
    end = time.time() + wait
    while time.time() < end:
        c.settimeout(max(0.05, end - time.time()))
        try:
            b = c.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            seen.append("closed")
            break
        if not b:
            seen.append("closed")
            break
        try:
            evs = h.receive_data(b)
        except Exception as e:  # the peer stopped mid-frame or broke a rule
            seen.append(e)
            break
        try:
            c.sendall(h.data_to_send())
        except (BrokenPipeError, ConnectionResetError):
            pass
        seen.extend(evs)
        if any(pred(e) for e in seen):
            break
    return seen


def goaway_code(evs):
    for e in evs:
        if isinstance(e, h2.events.ConnectionTerminated):
            return e.error_code
    return None


def statuses(evs):
    return [dict(e.headers).get(":status") for e in evs if isinstance(e, h2.events.ResponseReceived)]


def ended(e):
    return isinstance(e, (h2.events.StreamEnded, h2.events.StreamReset))


def terminated(e):
    return isinstance(e, h2.events.ConnectionTerminated) or e == "closed"


# A lower stream id after a higher one: connection error PROTOCOL_ERROR
# (h2spec 5.1.1/2). The frame is written by hand: h2 refuses to.
c, h = h2conn()
h.send_headers(5, headers(), end_stream=True)
c.sendall(h.data_to_send())
events_until(c, h, ended)
block = h.encoder.encode(headers())
# HEADERS (type 1), END_STREAM | END_HEADERS (0x5), stream 3.
c.sendall(len(block).to_bytes(3, "big") + bytes([1, 5]) + (3).to_bytes(4, "big") + block)
evs = events_until(c, h, terminated)
res("HEADERS on stream 3 after stream 5 -> GOAWAY PROTOCOL_ERROR",
    goaway_code(evs) == h2.errors.ErrorCodes.PROTOCOL_ERROR, evs)
c.close()

# A host header that differs from :authority is refused.
c, h = h2conn()
h.send_headers(1, headers(extra=[("host", "other.example:%d" % PORT)]), end_stream=True)
c.sendall(h.data_to_send())
evs = events_until(c, h, ended)
res("h2: host differing from :authority -> 400", statuses(evs) == ["400"], evs)
h.send_headers(3, headers(extra=[("host", "127.0.0.1:%d" % PORT)]), end_stream=True)
c.sendall(h.data_to_send())
evs = events_until(c, h, ended)
res("h2: host equal to :authority -> 200", statuses(evs) == ["200"], evs)
c.close()

# Rapid reset: HEADERS + RST_STREAM pairs on one connection end it with
# GOAWAY ENHANCE_YOUR_CALM.
c, h = h2conn()
sid = 1
for _ in range(40):
    for _ in range(50):
        h.send_headers(sid, headers(), end_stream=True)
        h.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
        sid += 2
    try:
        c.sendall(h.data_to_send())
    except (BrokenPipeError, ConnectionResetError):
        break
evs = events_until(c, h, terminated, 10)
res("rapid reset (2000 HEADERS+RST_STREAM) -> GOAWAY ENHANCE_YOUR_CALM",
    goaway_code(evs) == h2.errors.ErrorCodes.ENHANCE_YOUR_CALM,
    [e for e in evs if not isinstance(e, h2.events.ResponseReceived)][-3:])
c.close()
s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
d = get_hello(s)
res("after the rapid reset others are served", d.startswith(b"HTTP/1.1 200"), d[:60])
s.close()

# A client that cancels now and then is not mistaken for one.
c, h = h2conn()
sid = 1
for i in range(300):
    h.send_headers(sid, headers(), end_stream=True)
    if i % 10 == 0:
        h.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
    sid += 2
    if i % 50 == 49:
        c.sendall(h.data_to_send())
        events_until(c, h, lambda e: False, 0.3)
c.sendall(h.data_to_send())
evs = events_until(c, h, terminated, 1)
res("an occasional cancel keeps the connection", goaway_code(evs) is None and "closed" not in evs,
    evs[-3:])
c.close()
sys.exit(fails)
