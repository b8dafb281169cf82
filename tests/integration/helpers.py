"""Helpers shared by the integration tests: a threaded event-stream reader,
turn helpers and a hand encoder for requests Python cannot build itself
(invalid UTF-8 in string fields)."""

import queue
import threading
import time
import uuid

import grpc
from comfyd.v1 import session_pb2 as spb
from google.protobuf import wrappers_pb2

# Hang guard for waiting on events that must come (not a performance limit).
GUARD_S = 60.0

IDLE = spb.SESSION_STATUS_IDLE
WORKING = spb.SESSION_STATUS_WORKING
ERROR = spb.SESSION_STATUS_ERROR

ECHO_PREFIX = "[echo provider \u00b7 skill %s]"


class StreamEnded(Exception):
    pass


def kind(ev):
    return ev.WhichOneof("kind")


def describe(ev):
    k = kind(ev)
    body = getattr(ev, k) if k else None
    txt = str(body).replace("\n", " ")[:120] if body is not None else ""
    return "#%d %s %s" % (ev.seq, k, txt)


def describe_all(evs, limit=40):
    lines = [describe(e) for e in evs[:limit]]
    if len(evs) > limit:
        lines.append("... (%d more)" % (len(evs) - limit))
    return "\n".join(lines)


class Sub:
    """Reads one Subscribe stream on a background thread.

    Events are handed out in order by next()/until(); everything handed out
    is kept in .events. When the stream ends, .code/.details hold its final
    status (grpc.StatusCode.OK for a clean end)."""

    _END = object()

    def __init__(self, stub, session_id, after_seq=0, timeout=None, start=True):
        req = spb.SubscribeRequest(session_id=session_id, after_seq=after_seq)
        self.call = stub.Subscribe(req, timeout=timeout)
        self.q = queue.Queue()
        self.events = []
        self.code = None
        self.details = None
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        if start:
            self.thread.start()

    def _run(self):
        try:
            for resp in self.call:
                self.q.put(resp.event)
            self.code = grpc.StatusCode.OK
        except grpc.RpcError as e:
            self.code = e.code()
            self.details = e.details()
        finally:
            self.ended.set()
            self.q.put(self._END)

    @property
    def last_seq(self):
        return self.events[-1].seq if self.events else 0

    def next(self, guard=GUARD_S):
        try:
            ev = self.q.get(timeout=guard)
        except queue.Empty:
            raise AssertionError(
                "no event within %.0f s; received so far:\n%s" % (guard, describe_all(self.events[-20:]))
            )
        if ev is self._END:
            self.q.put(self._END)
            raise StreamEnded("stream ended: %s %s" % (self.code, self.details))
        self.events.append(ev)
        return ev

    def poll(self, wait):
        """The next event if one arrives within wait seconds, else None."""
        try:
            ev = self.q.get(timeout=wait)
        except queue.Empty:
            return None
        if ev is self._END:
            self.q.put(self._END)
            return None
        self.events.append(ev)
        return ev

    def until(self, pred, guard=GUARD_S):
        """Events up to and including the first one for which pred is true."""
        out = []
        end = time.monotonic() + guard
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    "condition not met within %.0f s; got:\n%s" % (guard, describe_all(out[-30:]))
                )
            ev = self.next(guard=left)
            out.append(ev)
            if pred(ev):
                return out

    def until_seq(self, seq, guard=GUARD_S):
        if self.last_seq >= seq:
            return []
        return self.until(lambda e: e.seq >= seq, guard)

    def wait_end(self, guard=GUARD_S):
        """Drains the stream until it ends; returns the events drained."""
        out = []
        end = time.monotonic() + guard
        while True:
            try:
                out.append(self.next(guard=max(0.01, end - time.monotonic())))
            except StreamEnded:
                return out

    def cancel(self):
        self.call.cancel()
        self.ended.wait(GUARD_S)


def is_session_status(ev, *statuses):
    return kind(ev) == "status_update" and ev.status_update.skill == "" and ev.status_update.status in statuses


def is_working_snapshot(ev):
    return kind(ev) == "sync_state" and ev.sync_state.session.status == WORKING


def settle(stub, sid, sub, guard=GUARD_S):
    """Reads sub until every turn sent so far has finished.

    Done when the stream has shown WORKING and later IDLE/ERROR with no
    queued turns, and has reached the session's last_seq (so trailing events
    are in too). Returns the events read."""
    out = []
    seen_working = any(is_session_status(e, WORKING) or is_working_snapshot(e) for e in sub.events)
    end = time.monotonic() + guard
    while True:
        if seen_working:
            # Finished when the newest session-level status is final.
            statuses = [e for e in sub.events if is_session_status(e, WORKING, IDLE, ERROR)]
            last = statuses[-1] if statuses else None
            if last is not None and last.status_update.status != WORKING and last.status_update.queued_turns == 0:
                s = stub.GetSession(spb.GetSessionRequest(session_id=sid), timeout=10).session
                if s.status != WORKING and s.queued_turns == 0:
                    out += sub.until_seq(s.last_seq, guard=max(0.01, end - time.monotonic()))
                    return out
        left = end - time.monotonic()
        if left <= 0:
            raise AssertionError("turn did not settle; got:\n%s" % describe_all(out[-30:]))
        ev = sub.next(guard=left)
        out.append(ev)
        if is_session_status(ev, WORKING) or is_working_snapshot(ev):
            seen_working = True


def wait_turns_done(stub, sid, n_messages, guard=GUARD_S):
    """Polls GetSession until the history holds n_messages and nothing runs
    (for floods no Python subscriber could keep up with)."""
    end = time.monotonic() + guard
    while time.monotonic() < end:
        s = stub.GetSession(spb.GetSessionRequest(session_id=sid), timeout=10).session
        if s.message_count >= n_messages and s.status != WORKING and s.queued_turns == 0:
            return s
        time.sleep(0.05)
    raise AssertionError("session %s: %d messages expected, not done after %.0f s" % (sid, n_messages, guard))


def new_session(stub, skills=(), token_delay_ms=0, title="", api_key="", **cfg):
    conf = spb.SessionConfig(active_skills=list(skills), token_delay_ms=token_delay_ms, **cfg)
    resp = stub.CreateSession(spb.CreateSessionRequest(title=title, config=conf, api_key=api_key), timeout=10)
    return resp.session


def get_session(stub, sid, history=False, limit=0):
    return stub.GetSession(
        spb.GetSessionRequest(session_id=sid, include_history=history, history_limit=limit), timeout=10
    )


def send(stub, sid, content, skills=(), client_id=""):
    return stub.SendMessage(
        spb.SendMessageRequest(session_id=sid, content=content, skills=list(skills), client_message_id=client_id),
        timeout=10,
    )


def configure(stub, sid, **fields):
    """ConfigureSession with only the given fields present."""
    req = spb.ConfigureSessionRequest(session_id=sid)
    for name, value in fields.items():
        if name == "active_skills":
            req.active_skills.CopyFrom(spb.SkillList(names=list(value)))
        elif name == "token_delay_ms":
            req.token_delay_ms.CopyFrom(wrappers_pb2.UInt32Value(value=value))
        else:
            getattr(req, name).CopyFrom(wrappers_pb2.StringValue(value=value))
    return stub.ConfigureSession(req, timeout=10).session


def words(n, word="tok"):
    return " ".join("%s%d" % (word, i) for i in range(n))


def deltas(evs, turn_id=None):
    return [
        e.stream_delta for e in evs if kind(e) == "stream_delta" and (turn_id is None or e.stream_delta.turn_id == turn_id)
    ]


def added(evs, role=None):
    out = [e.message_added.message for e in evs if kind(e) == "message_added"]
    return [m for m in out if role is None or m.role == role]


def random_id():
    return str(uuid.uuid4())


# --- hand encoding (for bytes Python strings cannot hold) -------------------


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(number, payload):
    """A length-delimited field (wire type 2) holding raw bytes."""
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def raw_unary(channel, method, response_type):
    return channel.unary_unary(
        method, request_serializer=lambda b: b, response_deserializer=response_type.FromString
    )
