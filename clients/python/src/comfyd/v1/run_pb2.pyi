from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
RUN_ORIGIN_GRPC: RunOrigin
RUN_ORIGIN_HTTP: RunOrigin
RUN_ORIGIN_MCP: RunOrigin
RUN_ORIGIN_SESSION: RunOrigin
RUN_ORIGIN_UNSPECIFIED: RunOrigin
RUN_ORIGIN_USER: RunOrigin
RUN_STATUS_CANCELLED: RunStatus
RUN_STATUS_FAILED: RunStatus
RUN_STATUS_INTERRUPTED: RunStatus
RUN_STATUS_QUEUED: RunStatus
RUN_STATUS_RUNNING: RunStatus
RUN_STATUS_SUCCEEDED: RunStatus
RUN_STATUS_UNKNOWN: RunStatus
RUN_STATUS_UNSPECIFIED: RunStatus

class CancelRunRequest(_message.Message):
    __slots__ = ["prompt_id"]
    PROMPT_ID_FIELD_NUMBER: _ClassVar[int]
    prompt_id: str
    def __init__(self, prompt_id: _Optional[str] = ...) -> None: ...

class CancelRunResponse(_message.Message):
    __slots__ = ["run"]
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: Run
    def __init__(self, run: _Optional[_Union[Run, _Mapping]] = ...) -> None: ...

class GetRunOutputRequest(_message.Message):
    __slots__ = ["index", "max_side", "node_id", "prompt_id"]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    MAX_SIDE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PROMPT_ID_FIELD_NUMBER: _ClassVar[int]
    index: int
    max_side: int
    node_id: str
    prompt_id: str
    def __init__(self, prompt_id: _Optional[str] = ..., node_id: _Optional[str] = ..., index: _Optional[int] = ..., max_side: _Optional[int] = ...) -> None: ...

class GetRunOutputResponse(_message.Message):
    __slots__ = ["content_type", "data", "file", "height", "scaled", "width"]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    SCALED_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    data: bytes
    file: OutputFile
    height: int
    scaled: bool
    width: int
    def __init__(self, file: _Optional[_Union[OutputFile, _Mapping]] = ..., content_type: _Optional[str] = ..., data: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., scaled: bool = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ["prompt_id"]
    PROMPT_ID_FIELD_NUMBER: _ClassVar[int]
    prompt_id: str
    def __init__(self, prompt_id: _Optional[str] = ...) -> None: ...

class GetRunResponse(_message.Message):
    __slots__ = ["run"]
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: Run
    def __init__(self, run: _Optional[_Union[Run, _Mapping]] = ...) -> None: ...

class ListRunsRequest(_message.Message):
    __slots__ = ["canvas_id", "page_size", "page_token", "session_id"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    page_size: int
    page_token: str
    session_id: str
    def __init__(self, canvas_id: _Optional[str] = ..., session_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRunsResponse(_message.Message):
    __slots__ = ["next_page_token", "runs"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    runs: _containers.RepeatedCompositeFieldContainer[Run]
    def __init__(self, runs: _Optional[_Iterable[_Union[Run, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class NodeProgress(_message.Message):
    __slots__ = ["max", "node_id", "value"]
    MAX_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    max: float
    node_id: str
    value: float
    def __init__(self, node_id: _Optional[str] = ..., value: _Optional[float] = ..., max: _Optional[float] = ...) -> None: ...

class OutputFile(_message.Message):
    __slots__ = ["filename", "kind", "subfolder", "type"]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBFOLDER_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    filename: str
    kind: str
    subfolder: str
    type: str
    def __init__(self, kind: _Optional[str] = ..., filename: _Optional[str] = ..., subfolder: _Optional[str] = ..., type: _Optional[str] = ...) -> None: ...

class Run(_message.Message):
    __slots__ = ["cached_nodes", "canvas_id", "ended_at_ms", "executed_nodes", "executing_node", "execution_error", "node_errors", "number", "origin", "outputs", "progress", "prompt_error", "prompt_id", "queue_position", "queued_at_ms", "queued_by", "reason", "revision", "seq", "session_id", "started_at_ms", "status"]
    CACHED_NODES_FIELD_NUMBER: _ClassVar[int]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    EXECUTED_NODES_FIELD_NUMBER: _ClassVar[int]
    EXECUTING_NODE_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ERROR_FIELD_NUMBER: _ClassVar[int]
    NODE_ERRORS_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_ERROR_FIELD_NUMBER: _ClassVar[int]
    PROMPT_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    QUEUED_BY_FIELD_NUMBER: _ClassVar[int]
    QUEUE_POSITION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    cached_nodes: _containers.RepeatedScalarFieldContainer[str]
    canvas_id: str
    ended_at_ms: int
    executed_nodes: _containers.RepeatedScalarFieldContainer[str]
    executing_node: str
    execution_error: RunExecutionError
    node_errors: _containers.RepeatedCompositeFieldContainer[RunNodeError]
    number: float
    origin: RunOrigin
    outputs: _containers.RepeatedCompositeFieldContainer[RunNodeOutput]
    progress: _containers.RepeatedCompositeFieldContainer[NodeProgress]
    prompt_error: str
    prompt_id: str
    queue_position: int
    queued_at_ms: int
    queued_by: str
    reason: str
    revision: int
    seq: int
    session_id: str
    started_at_ms: int
    status: RunStatus
    def __init__(self, prompt_id: _Optional[str] = ..., number: _Optional[float] = ..., canvas_id: _Optional[str] = ..., revision: _Optional[int] = ..., origin: _Optional[_Union[RunOrigin, str]] = ..., session_id: _Optional[str] = ..., queued_by: _Optional[str] = ..., status: _Optional[_Union[RunStatus, str]] = ..., reason: _Optional[str] = ..., queue_position: _Optional[int] = ..., executing_node: _Optional[str] = ..., progress: _Optional[_Iterable[_Union[NodeProgress, _Mapping]]] = ..., cached_nodes: _Optional[_Iterable[str]] = ..., queued_at_ms: _Optional[int] = ..., started_at_ms: _Optional[int] = ..., ended_at_ms: _Optional[int] = ..., node_errors: _Optional[_Iterable[_Union[RunNodeError, _Mapping]]] = ..., execution_error: _Optional[_Union[RunExecutionError, _Mapping]] = ..., outputs: _Optional[_Iterable[_Union[RunNodeOutput, _Mapping]]] = ..., seq: _Optional[int] = ..., prompt_error: _Optional[str] = ..., executed_nodes: _Optional[_Iterable[str]] = ...) -> None: ...

class RunExecutionError(_message.Message):
    __slots__ = ["exception_message", "exception_type", "node_id", "node_type", "title", "traceback"]
    EXCEPTION_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EXCEPTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_TYPE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TRACEBACK_FIELD_NUMBER: _ClassVar[int]
    exception_message: str
    exception_type: str
    node_id: str
    node_type: str
    title: str
    traceback: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, node_id: _Optional[str] = ..., node_type: _Optional[str] = ..., title: _Optional[str] = ..., exception_type: _Optional[str] = ..., exception_message: _Optional[str] = ..., traceback: _Optional[_Iterable[str]] = ...) -> None: ...

class RunNodeError(_message.Message):
    __slots__ = ["allowed_values", "details", "input_name", "message", "node_id", "node_type", "title", "type"]
    ALLOWED_VALUES_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    INPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_TYPE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    allowed_values: _containers.RepeatedScalarFieldContainer[str]
    details: str
    input_name: str
    message: str
    node_id: str
    node_type: str
    title: str
    type: str
    def __init__(self, node_id: _Optional[str] = ..., node_type: _Optional[str] = ..., title: _Optional[str] = ..., input_name: _Optional[str] = ..., type: _Optional[str] = ..., message: _Optional[str] = ..., details: _Optional[str] = ..., allowed_values: _Optional[_Iterable[str]] = ...) -> None: ...

class RunNodeOutput(_message.Message):
    __slots__ = ["files", "node_id", "output_json"]
    FILES_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_JSON_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[OutputFile]
    node_id: str
    output_json: str
    def __init__(self, node_id: _Optional[str] = ..., files: _Optional[_Iterable[_Union[OutputFile, _Mapping]]] = ..., output_json: _Optional[str] = ...) -> None: ...

class WatchRunRequest(_message.Message):
    __slots__ = ["after_seq", "prompt_id"]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    PROMPT_ID_FIELD_NUMBER: _ClassVar[int]
    after_seq: int
    prompt_id: str
    def __init__(self, prompt_id: _Optional[str] = ..., after_seq: _Optional[int] = ...) -> None: ...

class WatchRunResponse(_message.Message):
    __slots__ = ["run"]
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: Run
    def __init__(self, run: _Optional[_Union[Run, _Mapping]] = ...) -> None: ...

class RunStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class RunOrigin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
