from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CorePeer(_message.Message):
    __slots__ = ["address", "core_id", "reachable", "state"]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CORE_ID_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    address: str
    core_id: str
    reachable: bool
    state: str
    def __init__(self, core_id: _Optional[str] = ..., address: _Optional[str] = ..., reachable: bool = ..., state: _Optional[str] = ...) -> None: ...

class GetHealthRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetHealthResponse(_message.Message):
    __slots__ = ["advertise", "canvases_expired", "canvases_here", "core_id", "forward_errors", "forward_latency_us_max", "forward_latency_us_sum", "forwarded_commands", "lease_takeovers", "leases_lost", "notify_dropped", "notify_lag_ms", "notify_received", "notify_sent", "peers", "store_engine", "store_reachable"]
    ADVERTISE_FIELD_NUMBER: _ClassVar[int]
    CANVASES_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    CANVASES_HERE_FIELD_NUMBER: _ClassVar[int]
    CORE_ID_FIELD_NUMBER: _ClassVar[int]
    FORWARDED_COMMANDS_FIELD_NUMBER: _ClassVar[int]
    FORWARD_ERRORS_FIELD_NUMBER: _ClassVar[int]
    FORWARD_LATENCY_US_MAX_FIELD_NUMBER: _ClassVar[int]
    FORWARD_LATENCY_US_SUM_FIELD_NUMBER: _ClassVar[int]
    LEASES_LOST_FIELD_NUMBER: _ClassVar[int]
    LEASE_TAKEOVERS_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_DROPPED_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_LAG_MS_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_SENT_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    STORE_ENGINE_FIELD_NUMBER: _ClassVar[int]
    STORE_REACHABLE_FIELD_NUMBER: _ClassVar[int]
    advertise: str
    canvases_expired: int
    canvases_here: int
    core_id: str
    forward_errors: int
    forward_latency_us_max: int
    forward_latency_us_sum: int
    forwarded_commands: int
    lease_takeovers: int
    leases_lost: int
    notify_dropped: int
    notify_lag_ms: int
    notify_received: int
    notify_sent: int
    peers: _containers.RepeatedCompositeFieldContainer[CorePeer]
    store_engine: str
    store_reachable: bool
    def __init__(self, core_id: _Optional[str] = ..., store_engine: _Optional[str] = ..., store_reachable: bool = ..., advertise: _Optional[str] = ..., peers: _Optional[_Iterable[_Union[CorePeer, _Mapping]]] = ..., forwarded_commands: _Optional[int] = ..., forward_errors: _Optional[int] = ..., forward_latency_us_sum: _Optional[int] = ..., forward_latency_us_max: _Optional[int] = ..., notify_sent: _Optional[int] = ..., notify_received: _Optional[int] = ..., notify_dropped: _Optional[int] = ..., notify_lag_ms: _Optional[int] = ..., lease_takeovers: _Optional[int] = ..., leases_lost: _Optional[int] = ..., canvases_expired: _Optional[int] = ..., canvases_here: _Optional[int] = ...) -> None: ...
