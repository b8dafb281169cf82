from comfyd.v1 import run_pb2 as _run_pb2
from google.protobuf import wrappers_pb2 as _wrappers_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

ACTOR_KIND_GRPC: ActorKind
ACTOR_KIND_LOAD: ActorKind
ACTOR_KIND_MCP: ActorKind
ACTOR_KIND_SKILL: ActorKind
ACTOR_KIND_UNSPECIFIED: ActorKind
ACTOR_KIND_USER: ActorKind
APPLY_MODE_APPLY: ApplyMode
APPLY_MODE_PREVIEW: ApplyMode
APPLY_MODE_PREVIEW_IF_SHOWN: ApplyMode
APPLY_MODE_UNSPECIFIED: ApplyMode
BATCH_MODE_ATOMIC: BatchMode
BATCH_MODE_PARTIAL: BatchMode
BATCH_MODE_UNSPECIFIED: BatchMode
DESCRIPTOR: _descriptor.FileDescriptor
GRAPH_ERROR_CODE_AMBIGUOUS_CANVAS: GraphErrorCode
GRAPH_ERROR_CODE_CANVAS_NOT_FOUND: GraphErrorCode
GRAPH_ERROR_CODE_EDITOR_FAILED: GraphErrorCode
GRAPH_ERROR_CODE_EDITOR_GONE: GraphErrorCode
GRAPH_ERROR_CODE_EDITOR_TIMEOUT: GraphErrorCode
GRAPH_ERROR_CODE_IDEMPOTENCY_KEY_REUSED: GraphErrorCode
GRAPH_ERROR_CODE_INVALID_COMMAND: GraphErrorCode
GRAPH_ERROR_CODE_INVALID_NAME: GraphErrorCode
GRAPH_ERROR_CODE_LEASED: GraphErrorCode
GRAPH_ERROR_CODE_NODE_NOT_FOUND: GraphErrorCode
GRAPH_ERROR_CODE_NO_LIVE_CANVAS: GraphErrorCode
GRAPH_ERROR_CODE_REF_NOT_FOUND: GraphErrorCode
GRAPH_ERROR_CODE_SKIPPED: GraphErrorCode
GRAPH_ERROR_CODE_SLOT_NOT_FOUND: GraphErrorCode
GRAPH_ERROR_CODE_STALE_REVISION: GraphErrorCode
GRAPH_ERROR_CODE_TYPE_MISMATCH: GraphErrorCode
GRAPH_ERROR_CODE_UNKNOWN_NODE_TYPE: GraphErrorCode
GRAPH_ERROR_CODE_UNSPECIFIED: GraphErrorCode
GRAPH_ERROR_CODE_VALUE_INVALID: GraphErrorCode
GRAPH_ERROR_CODE_WIDGET_NOT_FOUND: GraphErrorCode
GRAPH_ERROR_CODE_WORKFLOW_NOT_FOUND: GraphErrorCode
GRAPH_ORIGIN_AGENT: GraphOrigin
GRAPH_ORIGIN_LOAD: GraphOrigin
GRAPH_ORIGIN_UNSPECIFIED: GraphOrigin
GRAPH_ORIGIN_USER: GraphOrigin
LEASE_ACTION_ACQUIRE: LeaseAction
LEASE_ACTION_LIST: LeaseAction
LEASE_ACTION_RELEASE: LeaseAction
LEASE_ACTION_RENEW: LeaseAction
LEASE_ACTION_UNSPECIFIED: LeaseAction
ON_STALE_REBASE: OnStale
ON_STALE_REJECT: OnStale
ON_STALE_UNSPECIFIED: OnStale
PREVIEW_OUTCOME_ACCEPTED: PreviewOutcome
PREVIEW_OUTCOME_REJECTED: PreviewOutcome
PREVIEW_OUTCOME_TIMED_OUT: PreviewOutcome
PREVIEW_OUTCOME_UNAVAILABLE: PreviewOutcome
PREVIEW_OUTCOME_UNSPECIFIED: PreviewOutcome

class Actor(_message.Message):
    __slots__ = ["kind", "name", "session_id", "skill"]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    kind: ActorKind
    name: str
    session_id: str
    skill: str
    def __init__(self, kind: _Optional[_Union[ActorKind, str]] = ..., session_id: _Optional[str] = ..., skill: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ArrangeCommand(_message.Message):
    __slots__ = ["node_ids", "spacing", "x", "y"]
    NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    SPACING_FIELD_NUMBER: _ClassVar[int]
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    node_ids: _containers.RepeatedCompositeFieldContainer[NodeRef]
    spacing: _wrappers_pb2.DoubleValue
    x: _wrappers_pb2.DoubleValue
    y: _wrappers_pb2.DoubleValue
    def __init__(self, node_ids: _Optional[_Iterable[_Union[NodeRef, _Mapping]]] = ..., x: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., y: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., spacing: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ...) -> None: ...

class AttachCanvasRequest(_message.Message):
    __slots__ = ["can_preview", "canvas_id", "focused", "object_info_json", "tab_revision", "title", "workflow_json"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    CAN_PREVIEW_FIELD_NUMBER: _ClassVar[int]
    FOCUSED_FIELD_NUMBER: _ClassVar[int]
    OBJECT_INFO_JSON_FIELD_NUMBER: _ClassVar[int]
    TAB_REVISION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_JSON_FIELD_NUMBER: _ClassVar[int]
    can_preview: bool
    canvas_id: str
    focused: bool
    object_info_json: str
    tab_revision: int
    title: str
    workflow_json: str
    def __init__(self, canvas_id: _Optional[str] = ..., title: _Optional[str] = ..., workflow_json: _Optional[str] = ..., object_info_json: _Optional[str] = ..., focused: bool = ..., tab_revision: _Optional[int] = ..., can_preview: bool = ...) -> None: ...

class AttachCanvasResponse(_message.Message):
    __slots__ = ["attached", "lease_update", "load", "patch", "preview", "queue", "resync"]
    ATTACHED_FIELD_NUMBER: _ClassVar[int]
    LEASE_UPDATE_FIELD_NUMBER: _ClassVar[int]
    LOAD_FIELD_NUMBER: _ClassVar[int]
    PATCH_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    RESYNC_FIELD_NUMBER: _ClassVar[int]
    attached: Attached
    lease_update: LeaseUpdate
    load: EditorLoadRequest
    patch: PatchRequest
    preview: PreviewRequest
    queue: EditorQueueRequest
    resync: ResyncRequest
    def __init__(self, attached: _Optional[_Union[Attached, _Mapping]] = ..., patch: _Optional[_Union[PatchRequest, _Mapping]] = ..., queue: _Optional[_Union[EditorQueueRequest, _Mapping]] = ..., load: _Optional[_Union[EditorLoadRequest, _Mapping]] = ..., resync: _Optional[_Union[ResyncRequest, _Mapping]] = ..., preview: _Optional[_Union[PreviewRequest, _Mapping]] = ..., lease_update: _Optional[_Union[LeaseUpdate, _Mapping]] = ...) -> None: ...

class Attached(_message.Message):
    __slots__ = ["canvas_id", "revision"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    revision: int
    def __init__(self, canvas_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class Canvas(_message.Message):
    __slots__ = ["attached", "canvas_id", "focused", "focused_at_ms", "node_count", "revision", "title"]
    ATTACHED_FIELD_NUMBER: _ClassVar[int]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    FOCUSED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    FOCUSED_FIELD_NUMBER: _ClassVar[int]
    NODE_COUNT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    attached: bool
    canvas_id: str
    focused: bool
    focused_at_ms: int
    node_count: int
    revision: int
    title: str
    def __init__(self, canvas_id: _Optional[str] = ..., title: _Optional[str] = ..., revision: _Optional[int] = ..., attached: bool = ..., focused: bool = ..., focused_at_ms: _Optional[int] = ..., node_count: _Optional[int] = ...) -> None: ...

class ClearGraphCommand(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class Command(_message.Message):
    __slots__ = ["arrange", "clear_graph", "connect", "create_node", "disconnect", "get_graph", "move_node", "remove_node", "set_node_mode", "set_widget"]
    ARRANGE_FIELD_NUMBER: _ClassVar[int]
    CLEAR_GRAPH_FIELD_NUMBER: _ClassVar[int]
    CONNECT_FIELD_NUMBER: _ClassVar[int]
    CREATE_NODE_FIELD_NUMBER: _ClassVar[int]
    DISCONNECT_FIELD_NUMBER: _ClassVar[int]
    GET_GRAPH_FIELD_NUMBER: _ClassVar[int]
    MOVE_NODE_FIELD_NUMBER: _ClassVar[int]
    REMOVE_NODE_FIELD_NUMBER: _ClassVar[int]
    SET_NODE_MODE_FIELD_NUMBER: _ClassVar[int]
    SET_WIDGET_FIELD_NUMBER: _ClassVar[int]
    arrange: ArrangeCommand
    clear_graph: ClearGraphCommand
    connect: ConnectCommand
    create_node: CreateNodeCommand
    disconnect: DisconnectCommand
    get_graph: GetGraphCommand
    move_node: MoveNodeCommand
    remove_node: RemoveNodeCommand
    set_node_mode: SetNodeModeCommand
    set_widget: SetWidgetCommand
    def __init__(self, create_node: _Optional[_Union[CreateNodeCommand, _Mapping]] = ..., remove_node: _Optional[_Union[RemoveNodeCommand, _Mapping]] = ..., connect: _Optional[_Union[ConnectCommand, _Mapping]] = ..., disconnect: _Optional[_Union[DisconnectCommand, _Mapping]] = ..., set_widget: _Optional[_Union[SetWidgetCommand, _Mapping]] = ..., move_node: _Optional[_Union[MoveNodeCommand, _Mapping]] = ..., clear_graph: _Optional[_Union[ClearGraphCommand, _Mapping]] = ..., get_graph: _Optional[_Union[GetGraphCommand, _Mapping]] = ..., arrange: _Optional[_Union[ArrangeCommand, _Mapping]] = ..., set_node_mode: _Optional[_Union[SetNodeModeCommand, _Mapping]] = ...) -> None: ...

class CommandResult(_message.Message):
    __slots__ = ["error", "index", "link_id", "node", "node_id", "ok", "value"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    LINK_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    error: GraphError
    index: int
    link_id: int
    node: Node
    node_id: int
    ok: bool
    value: Value
    def __init__(self, index: _Optional[int] = ..., ok: bool = ..., error: _Optional[_Union[GraphError, _Mapping]] = ..., node_id: _Optional[int] = ..., link_id: _Optional[int] = ..., value: _Optional[_Union[Value, _Mapping]] = ..., node: _Optional[_Union[Node, _Mapping]] = ...) -> None: ...

class ConnectCommand(_message.Message):
    __slots__ = ["from_id", "from_slot", "to_id", "to_slot"]
    FROM_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_SLOT_FIELD_NUMBER: _ClassVar[int]
    TO_ID_FIELD_NUMBER: _ClassVar[int]
    TO_SLOT_FIELD_NUMBER: _ClassVar[int]
    from_id: NodeRef
    from_slot: SlotRef
    to_id: NodeRef
    to_slot: SlotRef
    def __init__(self, from_id: _Optional[_Union[NodeRef, _Mapping]] = ..., from_slot: _Optional[_Union[SlotRef, _Mapping]] = ..., to_id: _Optional[_Union[NodeRef, _Mapping]] = ..., to_slot: _Optional[_Union[SlotRef, _Mapping]] = ...) -> None: ...

class CreateNodeCommand(_message.Message):
    __slots__ = ["node_type", "ref", "title", "widgets", "x", "y"]
    class WidgetsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...
    NODE_TYPE_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    WIDGETS_FIELD_NUMBER: _ClassVar[int]
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    node_type: str
    ref: str
    title: str
    widgets: _containers.MessageMap[str, Value]
    x: _wrappers_pb2.DoubleValue
    y: _wrappers_pb2.DoubleValue
    def __init__(self, node_type: _Optional[str] = ..., x: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., y: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., ref: _Optional[str] = ..., title: _Optional[str] = ..., widgets: _Optional[_Mapping[str, Value]] = ...) -> None: ...

class DisconnectCommand(_message.Message):
    __slots__ = ["node_id", "slot"]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    node_id: NodeRef
    slot: SlotRef
    def __init__(self, node_id: _Optional[_Union[NodeRef, _Mapping]] = ..., slot: _Optional[_Union[SlotRef, _Mapping]] = ...) -> None: ...

class EditorLoadRequest(_message.Message):
    __slots__ = ["deadline_ms", "request_id", "undo_step", "workflow_json"]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    UNDO_STEP_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_JSON_FIELD_NUMBER: _ClassVar[int]
    deadline_ms: int
    request_id: int
    undo_step: bool
    workflow_json: str
    def __init__(self, request_id: _Optional[int] = ..., workflow_json: _Optional[str] = ..., deadline_ms: _Optional[int] = ..., undo_step: bool = ...) -> None: ...

class EditorLoadResult(_message.Message):
    __slots__ = ["error", "ok", "request_id", "tab_revision", "workflow_json"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TAB_REVISION_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_JSON_FIELD_NUMBER: _ClassVar[int]
    error: str
    ok: bool
    request_id: int
    tab_revision: int
    workflow_json: str
    def __init__(self, request_id: _Optional[int] = ..., ok: bool = ..., error: _Optional[str] = ..., workflow_json: _Optional[str] = ..., tab_revision: _Optional[int] = ...) -> None: ...

class EditorQueueRequest(_message.Message):
    __slots__ = ["batch_count", "deadline_ms", "prompt_only", "request_id"]
    BATCH_COUNT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_ONLY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    batch_count: int
    deadline_ms: int
    prompt_only: bool
    request_id: int
    def __init__(self, request_id: _Optional[int] = ..., batch_count: _Optional[int] = ..., deadline_ms: _Optional[int] = ..., prompt_only: bool = ...) -> None: ...

class EditorQueueResult(_message.Message):
    __slots__ = ["error", "number", "ok", "prompt_id", "prompt_json", "request_id", "workflow_json"]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    PROMPT_ID_FIELD_NUMBER: _ClassVar[int]
    PROMPT_JSON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_JSON_FIELD_NUMBER: _ClassVar[int]
    error: str
    number: int
    ok: bool
    prompt_id: str
    prompt_json: str
    request_id: int
    workflow_json: str
    def __init__(self, request_id: _Optional[int] = ..., ok: bool = ..., error: _Optional[str] = ..., prompt_id: _Optional[str] = ..., number: _Optional[int] = ..., prompt_json: _Optional[str] = ..., workflow_json: _Optional[str] = ...) -> None: ...

class ExecuteBatchRequest(_message.Message):
    __slots__ = ["apply_mode", "base_revision", "canvas_id", "commands", "idempotency_key", "mode", "on_stale", "preview_timeout_ms", "timeout_ms", "validate_only"]
    APPLY_MODE_FIELD_NUMBER: _ClassVar[int]
    BASE_REVISION_FIELD_NUMBER: _ClassVar[int]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    ON_STALE_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    apply_mode: ApplyMode
    base_revision: _wrappers_pb2.UInt64Value
    canvas_id: str
    commands: _containers.RepeatedCompositeFieldContainer[Command]
    idempotency_key: str
    mode: BatchMode
    on_stale: OnStale
    preview_timeout_ms: int
    timeout_ms: int
    validate_only: bool
    def __init__(self, canvas_id: _Optional[str] = ..., commands: _Optional[_Iterable[_Union[Command, _Mapping]]] = ..., base_revision: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., validate_only: bool = ..., mode: _Optional[_Union[BatchMode, str]] = ..., timeout_ms: _Optional[int] = ..., on_stale: _Optional[_Union[OnStale, str]] = ..., apply_mode: _Optional[_Union[ApplyMode, str]] = ..., preview_timeout_ms: _Optional[int] = ...) -> None: ...

class ExecuteBatchResponse(_message.Message):
    __slots__ = ["canvas_id", "errors", "ok", "preview", "rebased", "rebased_from", "refs", "replayed", "results", "revision"]
    class RefsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_FIELD_NUMBER: _ClassVar[int]
    REBASED_FIELD_NUMBER: _ClassVar[int]
    REBASED_FROM_FIELD_NUMBER: _ClassVar[int]
    REFS_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    errors: _containers.RepeatedCompositeFieldContainer[GraphError]
    ok: bool
    preview: PreviewResult
    rebased: bool
    rebased_from: int
    refs: _containers.ScalarMap[str, int]
    replayed: bool
    results: _containers.RepeatedCompositeFieldContainer[CommandResult]
    revision: int
    def __init__(self, ok: bool = ..., results: _Optional[_Iterable[_Union[CommandResult, _Mapping]]] = ..., errors: _Optional[_Iterable[_Union[GraphError, _Mapping]]] = ..., canvas_id: _Optional[str] = ..., revision: _Optional[int] = ..., replayed: bool = ..., refs: _Optional[_Mapping[str, int]] = ..., rebased: bool = ..., rebased_from: _Optional[int] = ..., preview: _Optional[_Union[PreviewResult, _Mapping]] = ...) -> None: ...

class ExecuteRequest(_message.Message):
    __slots__ = ["apply_mode", "base_revision", "canvas_id", "command", "idempotency_key", "on_stale", "preview_timeout_ms", "timeout_ms", "validate_only"]
    APPLY_MODE_FIELD_NUMBER: _ClassVar[int]
    BASE_REVISION_FIELD_NUMBER: _ClassVar[int]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ON_STALE_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    apply_mode: ApplyMode
    base_revision: _wrappers_pb2.UInt64Value
    canvas_id: str
    command: Command
    idempotency_key: str
    on_stale: OnStale
    preview_timeout_ms: int
    timeout_ms: int
    validate_only: bool
    def __init__(self, canvas_id: _Optional[str] = ..., command: _Optional[_Union[Command, _Mapping]] = ..., base_revision: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., validate_only: bool = ..., timeout_ms: _Optional[int] = ..., on_stale: _Optional[_Union[OnStale, str]] = ..., apply_mode: _Optional[_Union[ApplyMode, str]] = ..., preview_timeout_ms: _Optional[int] = ...) -> None: ...

class ExecuteResponse(_message.Message):
    __slots__ = ["canvas_id", "graph", "ok", "preview", "rebased", "rebased_from", "replayed", "result", "revision"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    GRAPH_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_FIELD_NUMBER: _ClassVar[int]
    REBASED_FIELD_NUMBER: _ClassVar[int]
    REBASED_FROM_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    graph: Graph
    ok: bool
    preview: PreviewResult
    rebased: bool
    rebased_from: int
    replayed: bool
    result: CommandResult
    revision: int
    def __init__(self, ok: bool = ..., result: _Optional[_Union[CommandResult, _Mapping]] = ..., canvas_id: _Optional[str] = ..., revision: _Optional[int] = ..., graph: _Optional[_Union[Graph, _Mapping]] = ..., replayed: bool = ..., rebased: bool = ..., rebased_from: _Optional[int] = ..., preview: _Optional[_Union[PreviewResult, _Mapping]] = ...) -> None: ...

class Focus(_message.Message):
    __slots__ = ["focused"]
    FOCUSED_FIELD_NUMBER: _ClassVar[int]
    focused: bool
    def __init__(self, focused: bool = ...) -> None: ...

class GetDiffRequest(_message.Message):
    __slots__ = ["canvas_id", "since_revision"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_REVISION_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    since_revision: int
    def __init__(self, canvas_id: _Optional[str] = ..., since_revision: _Optional[int] = ...) -> None: ...

class GetDiffResponse(_message.Message):
    __slots__ = ["canvas_id", "from_revision", "graph", "ops", "to_revision", "truncated"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_REVISION_FIELD_NUMBER: _ClassVar[int]
    GRAPH_FIELD_NUMBER: _ClassVar[int]
    OPS_FIELD_NUMBER: _ClassVar[int]
    TO_REVISION_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    from_revision: int
    graph: Graph
    ops: _containers.RepeatedCompositeFieldContainer[GraphOp]
    to_revision: int
    truncated: bool
    def __init__(self, canvas_id: _Optional[str] = ..., from_revision: _Optional[int] = ..., to_revision: _Optional[int] = ..., ops: _Optional[_Iterable[_Union[GraphOp, _Mapping]]] = ..., truncated: bool = ..., graph: _Optional[_Union[Graph, _Mapping]] = ...) -> None: ...

class GetGraphCommand(_message.Message):
    __slots__ = ["known_revision"]
    KNOWN_REVISION_FIELD_NUMBER: _ClassVar[int]
    known_revision: int
    def __init__(self, known_revision: _Optional[int] = ...) -> None: ...

class GetGraphRequest(_message.Message):
    __slots__ = ["canvas_id", "include_workflow"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    include_workflow: bool
    def __init__(self, canvas_id: _Optional[str] = ..., include_workflow: bool = ...) -> None: ...

class GetGraphResponse(_message.Message):
    __slots__ = ["graph", "workflow_json"]
    GRAPH_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_JSON_FIELD_NUMBER: _ClassVar[int]
    graph: Graph
    workflow_json: str
    def __init__(self, graph: _Optional[_Union[Graph, _Mapping]] = ..., workflow_json: _Optional[str] = ...) -> None: ...

class GetNodeHistoryRequest(_message.Message):
    __slots__ = ["canvas_id", "limit", "node_id"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    limit: int
    node_id: int
    def __init__(self, canvas_id: _Optional[str] = ..., node_id: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class GetNodeHistoryResponse(_message.Message):
    __slots__ = ["canvas_id", "from_revision", "ops", "provenance", "revision", "truncated"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_REVISION_FIELD_NUMBER: _ClassVar[int]
    OPS_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    from_revision: int
    ops: _containers.RepeatedCompositeFieldContainer[GraphOp]
    provenance: Provenance
    revision: int
    truncated: bool
    def __init__(self, canvas_id: _Optional[str] = ..., revision: _Optional[int] = ..., from_revision: _Optional[int] = ..., ops: _Optional[_Iterable[_Union[GraphOp, _Mapping]]] = ..., truncated: bool = ..., provenance: _Optional[_Union[Provenance, _Mapping]] = ...) -> None: ...

class Graph(_message.Message):
    __slots__ = ["canvas_id", "leases", "links", "nodes", "revision", "stale", "title", "unchanged"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    LEASES_FIELD_NUMBER: _ClassVar[int]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    leases: _containers.RepeatedCompositeFieldContainer[Lease]
    links: _containers.RepeatedCompositeFieldContainer[Link]
    nodes: _containers.RepeatedCompositeFieldContainer[Node]
    revision: int
    stale: bool
    title: str
    unchanged: bool
    def __init__(self, canvas_id: _Optional[str] = ..., revision: _Optional[int] = ..., nodes: _Optional[_Iterable[_Union[Node, _Mapping]]] = ..., links: _Optional[_Iterable[_Union[Link, _Mapping]]] = ..., stale: bool = ..., title: _Optional[str] = ..., unchanged: bool = ..., leases: _Optional[_Iterable[_Union[Lease, _Mapping]]] = ...) -> None: ...

class GraphDelta(_message.Message):
    __slots__ = ["digest", "last_link_id", "last_node_id", "links_json", "nodes_json", "removed_link_ids", "removed_node_ids"]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    LAST_LINK_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    LINKS_JSON_FIELD_NUMBER: _ClassVar[int]
    NODES_JSON_FIELD_NUMBER: _ClassVar[int]
    REMOVED_LINK_IDS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    digest: str
    last_link_id: int
    last_node_id: int
    links_json: _containers.RepeatedScalarFieldContainer[str]
    nodes_json: _containers.RepeatedScalarFieldContainer[str]
    removed_link_ids: _containers.RepeatedScalarFieldContainer[int]
    removed_node_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, nodes_json: _Optional[_Iterable[str]] = ..., removed_node_ids: _Optional[_Iterable[int]] = ..., links_json: _Optional[_Iterable[str]] = ..., removed_link_ids: _Optional[_Iterable[int]] = ..., last_node_id: _Optional[int] = ..., last_link_id: _Optional[int] = ..., digest: _Optional[str] = ...) -> None: ...

class GraphError(_message.Message):
    __slots__ = ["code", "conflicts", "index", "lease", "leased_node_id", "message", "suggestions"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    CONFLICTS_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    LEASED_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SUGGESTIONS_FIELD_NUMBER: _ClassVar[int]
    code: GraphErrorCode
    conflicts: _containers.RepeatedCompositeFieldContainer[RevisionConflict]
    index: int
    lease: Lease
    leased_node_id: int
    message: str
    suggestions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, code: _Optional[_Union[GraphErrorCode, str]] = ..., message: _Optional[str] = ..., index: _Optional[int] = ..., suggestions: _Optional[_Iterable[str]] = ..., conflicts: _Optional[_Iterable[_Union[RevisionConflict, _Mapping]]] = ..., lease: _Optional[_Union[Lease, _Mapping]] = ..., leased_node_id: _Optional[int] = ...) -> None: ...

class GraphOp(_message.Message):
    __slots__ = ["actor", "command", "from_node_id", "lease_holder", "lease_id", "link_id", "node_id", "origin", "revision", "summary", "time_ms", "widget"]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    FROM_NODE_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_HOLDER_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    LINK_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    WIDGET_FIELD_NUMBER: _ClassVar[int]
    actor: Actor
    command: Command
    from_node_id: int
    lease_holder: Actor
    lease_id: int
    link_id: int
    node_id: int
    origin: GraphOrigin
    revision: int
    summary: str
    time_ms: int
    widget: str
    def __init__(self, revision: _Optional[int] = ..., origin: _Optional[_Union[GraphOrigin, str]] = ..., command: _Optional[_Union[Command, _Mapping]] = ..., summary: _Optional[str] = ..., time_ms: _Optional[int] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ..., node_id: _Optional[int] = ..., link_id: _Optional[int] = ..., from_node_id: _Optional[int] = ..., widget: _Optional[str] = ..., lease_id: _Optional[int] = ..., lease_holder: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class InputSpec(_message.Message):
    __slots__ = ["default_value", "is_widget", "max", "min", "multiline", "name", "options", "required", "step", "tooltip", "type"]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    IS_WIDGET_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MULTILINE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOOLTIP_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    default_value: Value
    is_widget: bool
    max: _wrappers_pb2.DoubleValue
    min: _wrappers_pb2.DoubleValue
    multiline: bool
    name: str
    options: _containers.RepeatedScalarFieldContainer[str]
    required: bool
    step: _wrappers_pb2.DoubleValue
    tooltip: str
    type: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., required: bool = ..., is_widget: bool = ..., default_value: _Optional[_Union[Value, _Mapping]] = ..., min: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., max: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., step: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., options: _Optional[_Iterable[str]] = ..., multiline: bool = ..., tooltip: _Optional[str] = ...) -> None: ...

class Lease(_message.Message):
    __slots__ = ["expires_ms", "group", "group_pos", "group_size", "holder", "id", "node_ids", "taken_ms", "user_edited_node_ids", "user_edited_revision"]
    EXPIRES_MS_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    GROUP_POS_FIELD_NUMBER: _ClassVar[int]
    GROUP_SIZE_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    TAKEN_MS_FIELD_NUMBER: _ClassVar[int]
    USER_EDITED_NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    USER_EDITED_REVISION_FIELD_NUMBER: _ClassVar[int]
    expires_ms: int
    group: str
    group_pos: Position
    group_size: Position
    holder: Actor
    id: int
    node_ids: _containers.RepeatedScalarFieldContainer[int]
    taken_ms: int
    user_edited_node_ids: _containers.RepeatedScalarFieldContainer[int]
    user_edited_revision: int
    def __init__(self, id: _Optional[int] = ..., holder: _Optional[_Union[Actor, _Mapping]] = ..., node_ids: _Optional[_Iterable[int]] = ..., group: _Optional[str] = ..., group_pos: _Optional[_Union[Position, _Mapping]] = ..., group_size: _Optional[_Union[Position, _Mapping]] = ..., taken_ms: _Optional[int] = ..., expires_ms: _Optional[int] = ..., user_edited_node_ids: _Optional[_Iterable[int]] = ..., user_edited_revision: _Optional[int] = ...) -> None: ...

class LeaseRequest(_message.Message):
    __slots__ = ["action", "canvas_id", "group", "lease_id", "node_ids", "ttl_ms"]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    LEASE_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    TTL_MS_FIELD_NUMBER: _ClassVar[int]
    action: LeaseAction
    canvas_id: str
    group: str
    lease_id: int
    node_ids: _containers.RepeatedScalarFieldContainer[int]
    ttl_ms: int
    def __init__(self, canvas_id: _Optional[str] = ..., action: _Optional[_Union[LeaseAction, str]] = ..., node_ids: _Optional[_Iterable[int]] = ..., group: _Optional[str] = ..., ttl_ms: _Optional[int] = ..., lease_id: _Optional[int] = ...) -> None: ...

class LeaseResponse(_message.Message):
    __slots__ = ["canvas_id", "lease", "leases", "ok", "refusal", "released", "revision"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    LEASES_FIELD_NUMBER: _ClassVar[int]
    LEASE_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    lease: Lease
    leases: _containers.RepeatedCompositeFieldContainer[Lease]
    ok: bool
    refusal: GraphError
    released: int
    revision: int
    def __init__(self, ok: bool = ..., refusal: _Optional[_Union[GraphError, _Mapping]] = ..., lease: _Optional[_Union[Lease, _Mapping]] = ..., canvas_id: _Optional[str] = ..., revision: _Optional[int] = ..., released: _Optional[int] = ..., leases: _Optional[_Iterable[_Union[Lease, _Mapping]]] = ...) -> None: ...

class LeaseUpdate(_message.Message):
    __slots__ = ["leases", "now_ms"]
    LEASES_FIELD_NUMBER: _ClassVar[int]
    NOW_MS_FIELD_NUMBER: _ClassVar[int]
    leases: _containers.RepeatedCompositeFieldContainer[Lease]
    now_ms: int
    def __init__(self, leases: _Optional[_Iterable[_Union[Lease, _Mapping]]] = ..., now_ms: _Optional[int] = ...) -> None: ...

class Link(_message.Message):
    __slots__ = ["from_id", "from_slot", "id", "provenance", "to_id", "to_slot", "type"]
    FROM_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_SLOT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    TO_ID_FIELD_NUMBER: _ClassVar[int]
    TO_SLOT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    from_id: int
    from_slot: int
    id: int
    provenance: Provenance
    to_id: int
    to_slot: int
    type: str
    def __init__(self, id: _Optional[int] = ..., from_id: _Optional[int] = ..., from_slot: _Optional[int] = ..., to_id: _Optional[int] = ..., to_slot: _Optional[int] = ..., type: _Optional[str] = ..., provenance: _Optional[_Union[Provenance, _Mapping]] = ...) -> None: ...

class ListCanvasesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListCanvasesResponse(_message.Message):
    __slots__ = ["canvases"]
    CANVASES_FIELD_NUMBER: _ClassVar[int]
    canvases: _containers.RepeatedCompositeFieldContainer[Canvas]
    def __init__(self, canvases: _Optional[_Iterable[_Union[Canvas, _Mapping]]] = ...) -> None: ...

class ListNodeTypesRequest(_message.Message):
    __slots__ = ["canvas_id", "category", "limit", "names", "query"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    category: str
    limit: int
    names: _containers.RepeatedScalarFieldContainer[str]
    query: str
    def __init__(self, canvas_id: _Optional[str] = ..., query: _Optional[str] = ..., category: _Optional[str] = ..., limit: _Optional[int] = ..., names: _Optional[_Iterable[str]] = ...) -> None: ...

class ListNodeTypesResponse(_message.Message):
    __slots__ = ["node_types", "total"]
    NODE_TYPES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    node_types: _containers.RepeatedCompositeFieldContainer[NodeType]
    total: int
    def __init__(self, node_types: _Optional[_Iterable[_Union[NodeType, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...

class ListWorkflowsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListWorkflowsResponse(_message.Message):
    __slots__ = ["workflows"]
    WORKFLOWS_FIELD_NUMBER: _ClassVar[int]
    workflows: _containers.RepeatedCompositeFieldContainer[StoredWorkflow]
    def __init__(self, workflows: _Optional[_Iterable[_Union[StoredWorkflow, _Mapping]]] = ...) -> None: ...

class LoadRequest(_message.Message):
    __slots__ = ["canvas_id", "idempotency_key", "name", "timeout_ms", "undo_step", "workflow_json"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    UNDO_STEP_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_JSON_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    idempotency_key: str
    name: str
    timeout_ms: int
    undo_step: bool
    workflow_json: str
    def __init__(self, canvas_id: _Optional[str] = ..., name: _Optional[str] = ..., workflow_json: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., timeout_ms: _Optional[int] = ..., undo_step: bool = ...) -> None: ...

class LoadResponse(_message.Message):
    __slots__ = ["canvas_id", "node_count", "replayed", "revision"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_COUNT_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    node_count: int
    replayed: bool
    revision: int
    def __init__(self, canvas_id: _Optional[str] = ..., revision: _Optional[int] = ..., node_count: _Optional[int] = ..., replayed: bool = ...) -> None: ...

class MoveNodeCommand(_message.Message):
    __slots__ = ["node_id", "x", "y"]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    node_id: NodeRef
    x: float
    y: float
    def __init__(self, node_id: _Optional[_Union[NodeRef, _Mapping]] = ..., x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class Node(_message.Message):
    __slots__ = ["id", "inputs", "mode", "outputs", "pos", "provenance", "size", "title", "type", "widgets"]
    ID_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    POS_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    WIDGETS_FIELD_NUMBER: _ClassVar[int]
    id: int
    inputs: _containers.RepeatedCompositeFieldContainer[NodeInput]
    mode: int
    outputs: _containers.RepeatedCompositeFieldContainer[NodeOutput]
    pos: Position
    provenance: Provenance
    size: Position
    title: str
    type: str
    widgets: _containers.RepeatedCompositeFieldContainer[Widget]
    def __init__(self, id: _Optional[int] = ..., type: _Optional[str] = ..., title: _Optional[str] = ..., pos: _Optional[_Union[Position, _Mapping]] = ..., size: _Optional[_Union[Position, _Mapping]] = ..., inputs: _Optional[_Iterable[_Union[NodeInput, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[NodeOutput, _Mapping]]] = ..., widgets: _Optional[_Iterable[_Union[Widget, _Mapping]]] = ..., mode: _Optional[int] = ..., provenance: _Optional[_Union[Provenance, _Mapping]] = ...) -> None: ...

class NodeInput(_message.Message):
    __slots__ = ["link", "name", "type", "widget"]
    LINK_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    WIDGET_FIELD_NUMBER: _ClassVar[int]
    link: int
    name: str
    type: str
    widget: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., link: _Optional[int] = ..., widget: _Optional[str] = ...) -> None: ...

class NodeOutput(_message.Message):
    __slots__ = ["links", "name", "type"]
    LINKS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    links: _containers.RepeatedScalarFieldContainer[int]
    name: str
    type: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., links: _Optional[_Iterable[int]] = ...) -> None: ...

class NodeRef(_message.Message):
    __slots__ = ["id", "ref"]
    ID_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    id: int
    ref: str
    def __init__(self, id: _Optional[int] = ..., ref: _Optional[str] = ...) -> None: ...

class NodeType(_message.Message):
    __slots__ = ["category", "description", "display_name", "inputs", "name", "output_node", "outputs"]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_NODE_FIELD_NUMBER: _ClassVar[int]
    category: str
    description: str
    display_name: str
    inputs: _containers.RepeatedCompositeFieldContainer[InputSpec]
    name: str
    output_node: bool
    outputs: _containers.RepeatedCompositeFieldContainer[OutputSpec]
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., category: _Optional[str] = ..., description: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[InputSpec, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[OutputSpec, _Mapping]]] = ..., output_node: bool = ...) -> None: ...

class OutputSpec(_message.Message):
    __slots__ = ["is_list", "name", "type"]
    IS_LIST_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    is_list: bool
    name: str
    type: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., is_list: bool = ...) -> None: ...

class PatchRequest(_message.Message):
    __slots__ = ["commands", "deadline_ms", "expected_node_ids", "mode", "request_id"]
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    commands: _containers.RepeatedCompositeFieldContainer[Command]
    deadline_ms: int
    expected_node_ids: _containers.RepeatedScalarFieldContainer[int]
    mode: BatchMode
    request_id: int
    def __init__(self, request_id: _Optional[int] = ..., commands: _Optional[_Iterable[_Union[Command, _Mapping]]] = ..., expected_node_ids: _Optional[_Iterable[int]] = ..., deadline_ms: _Optional[int] = ..., mode: _Optional[_Union[BatchMode, str]] = ...) -> None: ...

class PatchResult(_message.Message):
    __slots__ = ["delta", "error", "ok", "provenance_revision", "request_id", "results", "tab_revision", "workflow_json"]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_REVISION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    TAB_REVISION_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_JSON_FIELD_NUMBER: _ClassVar[int]
    delta: GraphDelta
    error: str
    ok: bool
    provenance_revision: int
    request_id: int
    results: _containers.RepeatedCompositeFieldContainer[CommandResult]
    tab_revision: int
    workflow_json: str
    def __init__(self, request_id: _Optional[int] = ..., ok: bool = ..., error: _Optional[str] = ..., results: _Optional[_Iterable[_Union[CommandResult, _Mapping]]] = ..., workflow_json: _Optional[str] = ..., tab_revision: _Optional[int] = ..., delta: _Optional[_Union[GraphDelta, _Mapping]] = ..., provenance_revision: _Optional[int] = ...) -> None: ...

class Position(_message.Message):
    __slots__ = ["x", "y"]
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class PreviewDecision(_message.Message):
    __slots__ = ["accepted", "request_id"]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    accepted: bool
    request_id: int
    def __init__(self, request_id: _Optional[int] = ..., accepted: bool = ...) -> None: ...

class PreviewRequest(_message.Message):
    __slots__ = ["commands", "deadline_ms", "destructive", "expected_node_ids", "request_id", "requested_by"]
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    DESTRUCTIVE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    commands: _containers.RepeatedCompositeFieldContainer[Command]
    deadline_ms: int
    destructive: _containers.RepeatedScalarFieldContainer[int]
    expected_node_ids: _containers.RepeatedScalarFieldContainer[int]
    request_id: int
    requested_by: str
    def __init__(self, request_id: _Optional[int] = ..., commands: _Optional[_Iterable[_Union[Command, _Mapping]]] = ..., expected_node_ids: _Optional[_Iterable[int]] = ..., deadline_ms: _Optional[int] = ..., requested_by: _Optional[str] = ..., destructive: _Optional[_Iterable[int]] = ...) -> None: ...

class PreviewResult(_message.Message):
    __slots__ = ["decided_by", "outcome", "waited_ms"]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    WAITED_MS_FIELD_NUMBER: _ClassVar[int]
    decided_by: str
    outcome: PreviewOutcome
    waited_ms: int
    def __init__(self, outcome: _Optional[_Union[PreviewOutcome, str]] = ..., decided_by: _Optional[str] = ..., waited_ms: _Optional[int] = ...) -> None: ...

class Provenance(_message.Message):
    __slots__ = ["actor", "revision", "time_ms"]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    actor: Actor
    revision: int
    time_ms: int
    def __init__(self, actor: _Optional[_Union[Actor, _Mapping]] = ..., revision: _Optional[int] = ..., time_ms: _Optional[int] = ...) -> None: ...

class QueueRequest(_message.Message):
    __slots__ = ["batch_count", "canvas_id", "idempotency_key", "origin", "queued_by", "session_id", "timeout_ms"]
    BATCH_COUNT_FIELD_NUMBER: _ClassVar[int]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    QUEUED_BY_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    batch_count: int
    canvas_id: str
    idempotency_key: str
    origin: _run_pb2.RunOrigin
    queued_by: str
    session_id: str
    timeout_ms: int
    def __init__(self, canvas_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., timeout_ms: _Optional[int] = ..., batch_count: _Optional[int] = ..., origin: _Optional[_Union[_run_pb2.RunOrigin, str]] = ..., session_id: _Optional[str] = ..., queued_by: _Optional[str] = ...) -> None: ...

class QueueResponse(_message.Message):
    __slots__ = ["canvas_id", "number", "prompt_id", "prompt_ids", "replayed", "revision", "run"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    PROMPT_IDS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_ID_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    number: int
    prompt_id: str
    prompt_ids: _containers.RepeatedScalarFieldContainer[str]
    replayed: bool
    revision: int
    run: _run_pb2.Run
    def __init__(self, prompt_id: _Optional[str] = ..., number: _Optional[int] = ..., canvas_id: _Optional[str] = ..., revision: _Optional[int] = ..., replayed: bool = ..., run: _Optional[_Union[_run_pb2.Run, _Mapping]] = ..., prompt_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveNodeCommand(_message.Message):
    __slots__ = ["node_id"]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: NodeRef
    def __init__(self, node_id: _Optional[_Union[NodeRef, _Mapping]] = ...) -> None: ...

class ReportEditorRequest(_message.Message):
    __slots__ = ["canvas_id", "focus", "load_result", "patch_result", "preview_decision", "queue_result", "user_edit"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    FOCUS_FIELD_NUMBER: _ClassVar[int]
    LOAD_RESULT_FIELD_NUMBER: _ClassVar[int]
    PATCH_RESULT_FIELD_NUMBER: _ClassVar[int]
    PREVIEW_DECISION_FIELD_NUMBER: _ClassVar[int]
    QUEUE_RESULT_FIELD_NUMBER: _ClassVar[int]
    USER_EDIT_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    focus: Focus
    load_result: EditorLoadResult
    patch_result: PatchResult
    preview_decision: PreviewDecision
    queue_result: EditorQueueResult
    user_edit: UserEdit
    def __init__(self, canvas_id: _Optional[str] = ..., patch_result: _Optional[_Union[PatchResult, _Mapping]] = ..., queue_result: _Optional[_Union[EditorQueueResult, _Mapping]] = ..., load_result: _Optional[_Union[EditorLoadResult, _Mapping]] = ..., user_edit: _Optional[_Union[UserEdit, _Mapping]] = ..., focus: _Optional[_Union[Focus, _Mapping]] = ..., preview_decision: _Optional[_Union[PreviewDecision, _Mapping]] = ...) -> None: ...

class ReportEditorResponse(_message.Message):
    __slots__ = ["provenance_json", "revision"]
    PROVENANCE_JSON_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    provenance_json: str
    revision: int
    def __init__(self, revision: _Optional[int] = ..., provenance_json: _Optional[str] = ...) -> None: ...

class ResyncRequest(_message.Message):
    __slots__ = ["request_id"]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    def __init__(self, request_id: _Optional[int] = ...) -> None: ...

class RevisionConflict(_message.Message):
    __slots__ = ["actor", "change", "current_link", "current_value", "index", "input", "node_gone", "node_id", "origin", "revision", "summary", "widget"]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    CURRENT_LINK_FIELD_NUMBER: _ClassVar[int]
    CURRENT_VALUE_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    INPUT_FIELD_NUMBER: _ClassVar[int]
    NODE_GONE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    WIDGET_FIELD_NUMBER: _ClassVar[int]
    actor: Actor
    change: str
    current_link: str
    current_value: Value
    index: int
    input: str
    node_gone: bool
    node_id: int
    origin: GraphOrigin
    revision: int
    summary: str
    widget: str
    def __init__(self, index: _Optional[int] = ..., node_id: _Optional[int] = ..., input: _Optional[str] = ..., widget: _Optional[str] = ..., change: _Optional[str] = ..., revision: _Optional[int] = ..., origin: _Optional[_Union[GraphOrigin, str]] = ..., summary: _Optional[str] = ..., current_value: _Optional[_Union[Value, _Mapping]] = ..., current_link: _Optional[str] = ..., node_gone: bool = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class SaveRequest(_message.Message):
    __slots__ = ["canvas_id", "name", "overwrite"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    name: str
    overwrite: bool
    def __init__(self, canvas_id: _Optional[str] = ..., name: _Optional[str] = ..., overwrite: bool = ...) -> None: ...

class SaveResponse(_message.Message):
    __slots__ = ["bytes", "name", "revision"]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    bytes: int
    name: str
    revision: int
    def __init__(self, name: _Optional[str] = ..., revision: _Optional[int] = ..., bytes: _Optional[int] = ...) -> None: ...

class SetNodeModeCommand(_message.Message):
    __slots__ = ["mode", "node_id"]
    MODE_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    mode: str
    node_id: NodeRef
    def __init__(self, node_id: _Optional[_Union[NodeRef, _Mapping]] = ..., mode: _Optional[str] = ...) -> None: ...

class SetWidgetCommand(_message.Message):
    __slots__ = ["name", "node_id", "value"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    node_id: NodeRef
    value: Value
    def __init__(self, node_id: _Optional[_Union[NodeRef, _Mapping]] = ..., name: _Optional[str] = ..., value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class SlotRef(_message.Message):
    __slots__ = ["index", "name"]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    index: int
    name: str
    def __init__(self, index: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class StoredWorkflow(_message.Message):
    __slots__ = ["bytes", "modified_at_ms", "name"]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    MODIFIED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    bytes: int
    modified_at_ms: int
    name: str
    def __init__(self, name: _Optional[str] = ..., bytes: _Optional[int] = ..., modified_at_ms: _Optional[int] = ...) -> None: ...

class UserEdit(_message.Message):
    __slots__ = ["delta", "provenance_revision", "tab_revision", "workflow_json"]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_REVISION_FIELD_NUMBER: _ClassVar[int]
    TAB_REVISION_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_JSON_FIELD_NUMBER: _ClassVar[int]
    delta: GraphDelta
    provenance_revision: int
    tab_revision: int
    workflow_json: str
    def __init__(self, workflow_json: _Optional[str] = ..., tab_revision: _Optional[int] = ..., delta: _Optional[_Union[GraphDelta, _Mapping]] = ..., provenance_revision: _Optional[int] = ...) -> None: ...

class Value(_message.Message):
    __slots__ = ["boolean", "integer", "number", "text"]
    BOOLEAN_FIELD_NUMBER: _ClassVar[int]
    INTEGER_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    boolean: bool
    integer: int
    number: float
    text: str
    def __init__(self, number: _Optional[float] = ..., text: _Optional[str] = ..., boolean: bool = ..., integer: _Optional[int] = ...) -> None: ...

class Widget(_message.Message):
    __slots__ = ["name", "provenance", "value"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    provenance: Provenance
    value: Value
    def __init__(self, name: _Optional[str] = ..., value: _Optional[_Union[Value, _Mapping]] = ..., provenance: _Optional[_Union[Provenance, _Mapping]] = ...) -> None: ...

class GraphErrorCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class BatchMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class OnStale(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ActorKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class LeaseAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ApplyMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class PreviewOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class GraphOrigin(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
