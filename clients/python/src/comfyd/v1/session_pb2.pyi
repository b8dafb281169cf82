from google.protobuf import wrappers_pb2 as _wrappers_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
EXPORT_FORMAT_JSON: ExportFormat
EXPORT_FORMAT_MARKDOWN: ExportFormat
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
LOG_LEVEL_DEBUG: LogLevel
LOG_LEVEL_ERROR: LogLevel
LOG_LEVEL_INFO: LogLevel
LOG_LEVEL_UNSPECIFIED: LogLevel
LOG_LEVEL_WARN: LogLevel
MESSAGE_KIND_SUMMARY: MessageKind
MESSAGE_KIND_UNSPECIFIED: MessageKind
MESSAGE_STATE_CANCELLED: MessageState
MESSAGE_STATE_DONE: MessageState
MESSAGE_STATE_FAILED: MessageState
MESSAGE_STATE_INTERRUPTED: MessageState
MESSAGE_STATE_QUEUED: MessageState
MESSAGE_STATE_RUNNING: MessageState
MESSAGE_STATE_UNSPECIFIED: MessageState
ROLE_ASSISTANT: Role
ROLE_SYSTEM: Role
ROLE_TOOL: Role
ROLE_UNSPECIFIED: Role
ROLE_USER: Role
SEARCH_HIT_KIND_MEMORY: SearchHitKind
SEARCH_HIT_KIND_MESSAGE: SearchHitKind
SEARCH_HIT_KIND_SUMMARY: SearchHitKind
SEARCH_HIT_KIND_UNSPECIFIED: SearchHitKind
SESSION_STATUS_ERROR: SessionStatus
SESSION_STATUS_IDLE: SessionStatus
SESSION_STATUS_UNSPECIFIED: SessionStatus
SESSION_STATUS_WORKING: SessionStatus

class Attachment(_message.Message):
    __slots__ = ["data", "height", "mime_type", "name", "run_output", "sha256", "size", "width"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RUN_OUTPUT_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    height: int
    mime_type: str
    name: str
    run_output: RunOutputRef
    sha256: str
    size: int
    width: int
    def __init__(self, sha256: _Optional[str] = ..., mime_type: _Optional[str] = ..., name: _Optional[str] = ..., size: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., run_output: _Optional[_Union[RunOutputRef, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class CancelRequest(_message.Message):
    __slots__ = ["clear_queue", "session_id"]
    CLEAR_QUEUE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    clear_queue: bool
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., clear_queue: bool = ...) -> None: ...

class CancelResponse(_message.Message):
    __slots__ = ["cancelled", "dropped_queued"]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    DROPPED_QUEUED_FIELD_NUMBER: _ClassVar[int]
    cancelled: bool
    dropped_queued: int
    def __init__(self, cancelled: bool = ..., dropped_queued: _Optional[int] = ...) -> None: ...

class CanvasRestore(_message.Message):
    __slots__ = ["canvas_id", "checkpoint_id", "checkpoint_revision", "from_revision", "to_revision"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_REVISION_FIELD_NUMBER: _ClassVar[int]
    FROM_REVISION_FIELD_NUMBER: _ClassVar[int]
    TO_REVISION_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    checkpoint_id: int
    checkpoint_revision: int
    from_revision: int
    to_revision: int
    def __init__(self, canvas_id: _Optional[str] = ..., checkpoint_id: _Optional[int] = ..., checkpoint_revision: _Optional[int] = ..., from_revision: _Optional[int] = ..., to_revision: _Optional[int] = ...) -> None: ...

class ChatMessage(_message.Message):
    __slots__ = ["attachments", "content", "covers_to", "created_at_ms", "error", "id", "kind", "role", "skill", "state", "turn_id"]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    COVERS_TO_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    attachments: _containers.RepeatedCompositeFieldContainer[Attachment]
    content: str
    covers_to: int
    created_at_ms: int
    error: str
    id: int
    kind: MessageKind
    role: Role
    skill: str
    state: MessageState
    turn_id: int
    def __init__(self, id: _Optional[int] = ..., role: _Optional[_Union[Role, str]] = ..., skill: _Optional[str] = ..., content: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., turn_id: _Optional[int] = ..., state: _Optional[_Union[MessageState, str]] = ..., error: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[Attachment, _Mapping]]] = ..., kind: _Optional[_Union[MessageKind, str]] = ..., covers_to: _Optional[int] = ...) -> None: ...

class Checkpoint(_message.Message):
    __slots__ = ["bytes", "canvas_id", "created_at_ms", "id", "message_id", "revision_after", "revision_before"]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_AFTER_FIELD_NUMBER: _ClassVar[int]
    REVISION_BEFORE_FIELD_NUMBER: _ClassVar[int]
    bytes: int
    canvas_id: str
    created_at_ms: int
    id: int
    message_id: int
    revision_after: int
    revision_before: int
    def __init__(self, id: _Optional[int] = ..., message_id: _Optional[int] = ..., canvas_id: _Optional[str] = ..., revision_before: _Optional[int] = ..., revision_after: _Optional[int] = ..., bytes: _Optional[int] = ..., created_at_ms: _Optional[int] = ...) -> None: ...

class CompactSessionRequest(_message.Message):
    __slots__ = ["session_id"]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class CompactSessionResponse(_message.Message):
    __slots__ = ["compacted", "messages_compacted", "notice", "summary"]
    COMPACTED_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_COMPACTED_FIELD_NUMBER: _ClassVar[int]
    NOTICE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    compacted: bool
    messages_compacted: int
    notice: str
    summary: ChatMessage
    def __init__(self, compacted: bool = ..., messages_compacted: _Optional[int] = ..., summary: _Optional[_Union[ChatMessage, _Mapping]] = ..., notice: _Optional[str] = ...) -> None: ...

class ConfigUpdated(_message.Message):
    __slots__ = ["config", "title"]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    config: SessionConfig
    title: str
    def __init__(self, config: _Optional[_Union[SessionConfig, _Mapping]] = ..., title: _Optional[str] = ...) -> None: ...

class ConfigureSessionRequest(_message.Message):
    __slots__ = ["active_skills", "api_key", "archived", "base_url", "context_window", "model", "provider", "session_id", "system_prompt", "title", "token_delay_ms", "vision"]
    ACTIVE_SKILLS_FIELD_NUMBER: _ClassVar[int]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_PROMPT_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    VISION_FIELD_NUMBER: _ClassVar[int]
    active_skills: SkillList
    api_key: _wrappers_pb2.StringValue
    archived: _wrappers_pb2.BoolValue
    base_url: _wrappers_pb2.StringValue
    context_window: _wrappers_pb2.UInt32Value
    model: _wrappers_pb2.StringValue
    provider: _wrappers_pb2.StringValue
    session_id: str
    system_prompt: _wrappers_pb2.StringValue
    title: _wrappers_pb2.StringValue
    token_delay_ms: _wrappers_pb2.UInt32Value
    vision: _wrappers_pb2.StringValue
    def __init__(self, session_id: _Optional[str] = ..., title: _Optional[_Union[_wrappers_pb2.StringValue, _Mapping]] = ..., provider: _Optional[_Union[_wrappers_pb2.StringValue, _Mapping]] = ..., model: _Optional[_Union[_wrappers_pb2.StringValue, _Mapping]] = ..., base_url: _Optional[_Union[_wrappers_pb2.StringValue, _Mapping]] = ..., system_prompt: _Optional[_Union[_wrappers_pb2.StringValue, _Mapping]] = ..., api_key: _Optional[_Union[_wrappers_pb2.StringValue, _Mapping]] = ..., active_skills: _Optional[_Union[SkillList, _Mapping]] = ..., token_delay_ms: _Optional[_Union[_wrappers_pb2.UInt32Value, _Mapping]] = ..., vision: _Optional[_Union[_wrappers_pb2.StringValue, _Mapping]] = ..., context_window: _Optional[_Union[_wrappers_pb2.UInt32Value, _Mapping]] = ..., archived: _Optional[_Union[_wrappers_pb2.BoolValue, _Mapping]] = ...) -> None: ...

class ConfigureSessionResponse(_message.Message):
    __slots__ = ["api_key_cleared", "notice", "session"]
    API_KEY_CLEARED_FIELD_NUMBER: _ClassVar[int]
    NOTICE_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    api_key_cleared: bool
    notice: str
    session: Session
    def __init__(self, session: _Optional[_Union[Session, _Mapping]] = ..., api_key_cleared: bool = ..., notice: _Optional[str] = ...) -> None: ...

class CreateSessionRequest(_message.Message):
    __slots__ = ["api_key", "config", "session_id", "title"]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    api_key: str
    config: SessionConfig
    session_id: str
    title: str
    def __init__(self, title: _Optional[str] = ..., config: _Optional[_Union[SessionConfig, _Mapping]] = ..., api_key: _Optional[str] = ..., session_id: _Optional[str] = ...) -> None: ...

class CreateSessionResponse(_message.Message):
    __slots__ = ["session"]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: Session
    def __init__(self, session: _Optional[_Union[Session, _Mapping]] = ...) -> None: ...

class DebugLog(_message.Message):
    __slots__ = ["level", "message", "module", "skill", "turn_id"]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MODULE_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    level: LogLevel
    message: str
    module: str
    skill: str
    turn_id: int
    def __init__(self, level: _Optional[_Union[LogLevel, str]] = ..., module: _Optional[str] = ..., message: _Optional[str] = ..., turn_id: _Optional[int] = ..., skill: _Optional[str] = ...) -> None: ...

class DeleteSessionRequest(_message.Message):
    __slots__ = ["session_id"]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class DeleteSessionResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ErrorEvent(_message.Message):
    __slots__ = ["code", "message", "skill", "turn_id"]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    skill: str
    turn_id: int
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., turn_id: _Optional[int] = ..., skill: _Optional[str] = ...) -> None: ...

class ExportSessionRequest(_message.Message):
    __slots__ = ["format", "session_id"]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    format: ExportFormat
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., format: _Optional[_Union[ExportFormat, str]] = ...) -> None: ...

class ExportSessionResponse(_message.Message):
    __slots__ = ["content", "content_type", "filename"]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    content: str
    content_type: str
    filename: str
    def __init__(self, content_type: _Optional[str] = ..., filename: _Optional[str] = ..., content: _Optional[str] = ...) -> None: ...

class ForkSessionRequest(_message.Message):
    __slots__ = ["message_id", "session_id", "title"]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    message_id: int
    session_id: str
    title: str
    def __init__(self, session_id: _Optional[str] = ..., message_id: _Optional[int] = ..., title: _Optional[str] = ...) -> None: ...

class ForkSessionResponse(_message.Message):
    __slots__ = ["messages_copied", "session"]
    MESSAGES_COPIED_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    messages_copied: int
    session: Session
    def __init__(self, session: _Optional[_Union[Session, _Mapping]] = ..., messages_copied: _Optional[int] = ...) -> None: ...

class GetAttachmentRequest(_message.Message):
    __slots__ = ["sha256"]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    def __init__(self, sha256: _Optional[str] = ...) -> None: ...

class GetAttachmentResponse(_message.Message):
    __slots__ = ["attachment", "data"]
    ATTACHMENT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    attachment: Attachment
    data: bytes
    def __init__(self, attachment: _Optional[_Union[Attachment, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ["history_limit", "include_history", "session_id"]
    HISTORY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_HISTORY_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    history_limit: int
    include_history: bool
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., include_history: bool = ..., history_limit: _Optional[int] = ...) -> None: ...

class GetSessionResponse(_message.Message):
    __slots__ = ["history", "history_truncated", "session"]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    HISTORY_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    history: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    history_truncated: bool
    session: Session
    def __init__(self, session: _Optional[_Union[Session, _Mapping]] = ..., history: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ..., history_truncated: bool = ...) -> None: ...

class GraphChanged(_message.Message):
    __slots__ = ["canvas_id", "revision", "summary"]
    CANVAS_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    canvas_id: str
    revision: int
    summary: str
    def __init__(self, canvas_id: _Optional[str] = ..., revision: _Optional[int] = ..., summary: _Optional[str] = ...) -> None: ...

class ListCheckpointsRequest(_message.Message):
    __slots__ = ["session_id"]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class ListCheckpointsResponse(_message.Message):
    __slots__ = ["checkpoints"]
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    checkpoints: _containers.RepeatedCompositeFieldContainer[Checkpoint]
    def __init__(self, checkpoints: _Optional[_Iterable[_Union[Checkpoint, _Mapping]]] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ["include_archived", "page_size", "page_token"]
    INCLUDE_ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    include_archived: bool
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., include_archived: bool = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ["next_page_token", "sessions"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    sessions: _containers.RepeatedCompositeFieldContainer[Session]
    def __init__(self, sessions: _Optional[_Iterable[_Union[Session, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class MessageAdded(_message.Message):
    __slots__ = ["message"]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: ChatMessage
    def __init__(self, message: _Optional[_Union[ChatMessage, _Mapping]] = ...) -> None: ...

class PartialReply(_message.Message):
    __slots__ = ["content", "delta_count", "skill", "turn_id"]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    DELTA_COUNT_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    content: str
    delta_count: int
    skill: str
    turn_id: int
    def __init__(self, turn_id: _Optional[int] = ..., skill: _Optional[str] = ..., content: _Optional[str] = ..., delta_count: _Optional[int] = ...) -> None: ...

class RevertSessionRequest(_message.Message):
    __slots__ = ["force", "message_id", "restore_canvas", "session_id"]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    RESTORE_CANVAS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    force: bool
    message_id: int
    restore_canvas: bool
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., message_id: _Optional[int] = ..., restore_canvas: bool = ..., force: bool = ...) -> None: ...

class RevertSessionResponse(_message.Message):
    __slots__ = ["messages_hidden", "notice", "restored", "session"]
    MESSAGES_HIDDEN_FIELD_NUMBER: _ClassVar[int]
    NOTICE_FIELD_NUMBER: _ClassVar[int]
    RESTORED_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    messages_hidden: int
    notice: str
    restored: _containers.RepeatedCompositeFieldContainer[CanvasRestore]
    session: Session
    def __init__(self, session: _Optional[_Union[Session, _Mapping]] = ..., messages_hidden: _Optional[int] = ..., restored: _Optional[_Iterable[_Union[CanvasRestore, _Mapping]]] = ..., notice: _Optional[str] = ...) -> None: ...

class RunOutputRef(_message.Message):
    __slots__ = ["index", "node_id", "prompt_id"]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    PROMPT_ID_FIELD_NUMBER: _ClassVar[int]
    index: int
    node_id: str
    prompt_id: str
    def __init__(self, prompt_id: _Optional[str] = ..., node_id: _Optional[str] = ..., index: _Optional[int] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ["created_at_ms", "id", "kind", "role", "score", "session_id", "session_title", "snippet"]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_TITLE_FIELD_NUMBER: _ClassVar[int]
    SNIPPET_FIELD_NUMBER: _ClassVar[int]
    created_at_ms: int
    id: int
    kind: SearchHitKind
    role: Role
    score: float
    session_id: str
    session_title: str
    snippet: str
    def __init__(self, kind: _Optional[_Union[SearchHitKind, str]] = ..., id: _Optional[int] = ..., session_id: _Optional[str] = ..., session_title: _Optional[str] = ..., snippet: _Optional[str] = ..., score: _Optional[float] = ..., created_at_ms: _Optional[int] = ..., role: _Optional[_Union[Role, str]] = ...) -> None: ...

class SearchSessionsRequest(_message.Message):
    __slots__ = ["kinds", "limit", "query", "session_id"]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    kinds: _containers.RepeatedScalarFieldContainer[SearchHitKind]
    limit: int
    query: str
    session_id: str
    def __init__(self, query: _Optional[str] = ..., session_id: _Optional[str] = ..., limit: _Optional[int] = ..., kinds: _Optional[_Iterable[_Union[SearchHitKind, str]]] = ...) -> None: ...

class SearchSessionsResponse(_message.Message):
    __slots__ = ["hits"]
    HITS_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ...) -> None: ...

class SendMessageRequest(_message.Message):
    __slots__ = ["attachments", "client_message_id", "content", "session_id", "skills"]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    attachments: _containers.RepeatedCompositeFieldContainer[Attachment]
    client_message_id: str
    content: str
    session_id: str
    skills: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, session_id: _Optional[str] = ..., content: _Optional[str] = ..., skills: _Optional[_Iterable[str]] = ..., client_message_id: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[Attachment, _Mapping]]] = ...) -> None: ...

class SendMessageResponse(_message.Message):
    __slots__ = ["duplicate", "message", "queue_position", "queued"]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    QUEUE_POSITION_FIELD_NUMBER: _ClassVar[int]
    duplicate: bool
    message: ChatMessage
    queue_position: int
    queued: bool
    def __init__(self, message: _Optional[_Union[ChatMessage, _Mapping]] = ..., queued: bool = ..., queue_position: _Optional[int] = ..., duplicate: bool = ...) -> None: ...

class Session(_message.Message):
    __slots__ = ["archived", "compacted_to", "config", "context_window", "created_at_ms", "fork_point", "id", "last_seq", "message_count", "parent_id", "queued_turns", "status", "title", "updated_at_ms", "usage"]
    ARCHIVED_FIELD_NUMBER: _ClassVar[int]
    COMPACTED_TO_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    FORK_POINT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUED_TURNS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    archived: bool
    compacted_to: int
    config: SessionConfig
    context_window: int
    created_at_ms: int
    fork_point: int
    id: str
    last_seq: int
    message_count: int
    parent_id: str
    queued_turns: int
    status: SessionStatus
    title: str
    updated_at_ms: int
    usage: Usage
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., config: _Optional[_Union[SessionConfig, _Mapping]] = ..., status: _Optional[_Union[SessionStatus, str]] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., last_seq: _Optional[int] = ..., message_count: _Optional[int] = ..., queued_turns: _Optional[int] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ..., context_window: _Optional[int] = ..., archived: bool = ..., compacted_to: _Optional[int] = ..., parent_id: _Optional[str] = ..., fork_point: _Optional[int] = ...) -> None: ...

class SessionConfig(_message.Message):
    __slots__ = ["active_skills", "api_key_set", "base_url", "context_window", "model", "provider", "system_prompt", "token_delay_ms", "vision"]
    ACTIVE_SKILLS_FIELD_NUMBER: _ClassVar[int]
    API_KEY_SET_FIELD_NUMBER: _ClassVar[int]
    BASE_URL_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_PROMPT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    VISION_FIELD_NUMBER: _ClassVar[int]
    active_skills: _containers.RepeatedScalarFieldContainer[str]
    api_key_set: bool
    base_url: str
    context_window: int
    model: str
    provider: str
    system_prompt: str
    token_delay_ms: int
    vision: str
    def __init__(self, provider: _Optional[str] = ..., model: _Optional[str] = ..., base_url: _Optional[str] = ..., system_prompt: _Optional[str] = ..., active_skills: _Optional[_Iterable[str]] = ..., api_key_set: bool = ..., token_delay_ms: _Optional[int] = ..., vision: _Optional[str] = ..., context_window: _Optional[int] = ...) -> None: ...

class SessionEvent(_message.Message):
    __slots__ = ["config_updated", "debug_log", "error", "graph_changed", "message_added", "reverted", "seq", "session_id", "status_update", "stream_delta", "sync_state", "time_ms", "tool_call", "tool_result", "unreverted"]
    CONFIG_UPDATED_FIELD_NUMBER: _ClassVar[int]
    DEBUG_LOG_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    GRAPH_CHANGED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ADDED_FIELD_NUMBER: _ClassVar[int]
    REVERTED_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_UPDATE_FIELD_NUMBER: _ClassVar[int]
    STREAM_DELTA_FIELD_NUMBER: _ClassVar[int]
    SYNC_STATE_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    TOOL_CALL_FIELD_NUMBER: _ClassVar[int]
    TOOL_RESULT_FIELD_NUMBER: _ClassVar[int]
    UNREVERTED_FIELD_NUMBER: _ClassVar[int]
    config_updated: ConfigUpdated
    debug_log: DebugLog
    error: ErrorEvent
    graph_changed: GraphChanged
    message_added: MessageAdded
    reverted: SessionReverted
    seq: int
    session_id: str
    status_update: StatusUpdate
    stream_delta: StreamDelta
    sync_state: SyncState
    time_ms: int
    tool_call: ToolCall
    tool_result: ToolResult
    unreverted: SessionUnreverted
    def __init__(self, seq: _Optional[int] = ..., time_ms: _Optional[int] = ..., session_id: _Optional[str] = ..., sync_state: _Optional[_Union[SyncState, _Mapping]] = ..., status_update: _Optional[_Union[StatusUpdate, _Mapping]] = ..., stream_delta: _Optional[_Union[StreamDelta, _Mapping]] = ..., debug_log: _Optional[_Union[DebugLog, _Mapping]] = ..., message_added: _Optional[_Union[MessageAdded, _Mapping]] = ..., error: _Optional[_Union[ErrorEvent, _Mapping]] = ..., config_updated: _Optional[_Union[ConfigUpdated, _Mapping]] = ..., tool_call: _Optional[_Union[ToolCall, _Mapping]] = ..., tool_result: _Optional[_Union[ToolResult, _Mapping]] = ..., graph_changed: _Optional[_Union[GraphChanged, _Mapping]] = ..., reverted: _Optional[_Union[SessionReverted, _Mapping]] = ..., unreverted: _Optional[_Union[SessionUnreverted, _Mapping]] = ...) -> None: ...

class SessionReverted(_message.Message):
    __slots__ = ["messages_hidden", "restored", "to_message_id"]
    MESSAGES_HIDDEN_FIELD_NUMBER: _ClassVar[int]
    RESTORED_FIELD_NUMBER: _ClassVar[int]
    TO_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    messages_hidden: int
    restored: _containers.RepeatedCompositeFieldContainer[CanvasRestore]
    to_message_id: int
    def __init__(self, to_message_id: _Optional[int] = ..., messages_hidden: _Optional[int] = ..., restored: _Optional[_Iterable[_Union[CanvasRestore, _Mapping]]] = ...) -> None: ...

class SessionUnreverted(_message.Message):
    __slots__ = ["messages"]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    def __init__(self, messages: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ...) -> None: ...

class SkillList(_message.Message):
    __slots__ = ["names"]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, names: _Optional[_Iterable[str]] = ...) -> None: ...

class StatusUpdate(_message.Message):
    __slots__ = ["detail", "queued_turns", "skill", "status", "turn_id"]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    QUEUED_TURNS_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    detail: str
    queued_turns: int
    skill: str
    status: SessionStatus
    turn_id: int
    def __init__(self, status: _Optional[_Union[SessionStatus, str]] = ..., turn_id: _Optional[int] = ..., queued_turns: _Optional[int] = ..., detail: _Optional[str] = ..., skill: _Optional[str] = ...) -> None: ...

class StreamDelta(_message.Message):
    __slots__ = ["delta", "index", "skill", "turn_id"]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    delta: str
    index: int
    skill: str
    turn_id: int
    def __init__(self, turn_id: _Optional[int] = ..., skill: _Optional[str] = ..., delta: _Optional[str] = ..., index: _Optional[int] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ["after_seq", "session_id"]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    after_seq: int
    session_id: str
    def __init__(self, session_id: _Optional[str] = ..., after_seq: _Optional[int] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: SessionEvent
    def __init__(self, event: _Optional[_Union[SessionEvent, _Mapping]] = ...) -> None: ...

class SyncState(_message.Message):
    __slots__ = ["history", "history_truncated", "partials", "reason", "session"]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    HISTORY_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    PARTIALS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    history: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    history_truncated: bool
    partials: _containers.RepeatedCompositeFieldContainer[PartialReply]
    reason: str
    session: Session
    def __init__(self, session: _Optional[_Union[Session, _Mapping]] = ..., history: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ..., history_truncated: bool = ..., partials: _Optional[_Iterable[_Union[PartialReply, _Mapping]]] = ..., reason: _Optional[str] = ...) -> None: ...

class ToolCall(_message.Message):
    __slots__ = ["arguments_json", "call_id", "name", "skill", "turn_id"]
    ARGUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    arguments_json: str
    call_id: str
    name: str
    skill: str
    turn_id: int
    def __init__(self, turn_id: _Optional[int] = ..., skill: _Optional[str] = ..., call_id: _Optional[str] = ..., name: _Optional[str] = ..., arguments_json: _Optional[str] = ...) -> None: ...

class ToolResult(_message.Message):
    __slots__ = ["call_id", "ok", "result_json", "skill", "turn_id"]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    TURN_ID_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    ok: bool
    result_json: str
    skill: str
    turn_id: int
    def __init__(self, turn_id: _Optional[int] = ..., skill: _Optional[str] = ..., call_id: _Optional[str] = ..., ok: bool = ..., result_json: _Optional[str] = ...) -> None: ...

class UnrevertSessionRequest(_message.Message):
    __slots__ = ["session_id"]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class UnrevertSessionResponse(_message.Message):
    __slots__ = ["messages_restored", "notice", "session"]
    MESSAGES_RESTORED_FIELD_NUMBER: _ClassVar[int]
    NOTICE_FIELD_NUMBER: _ClassVar[int]
    SESSION_FIELD_NUMBER: _ClassVar[int]
    messages_restored: int
    notice: str
    session: Session
    def __init__(self, session: _Optional[_Union[Session, _Mapping]] = ..., messages_restored: _Optional[int] = ..., notice: _Optional[str] = ...) -> None: ...

class UploadAttachmentRequest(_message.Message):
    __slots__ = ["data", "mime_type", "name"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    mime_type: str
    name: str
    def __init__(self, data: _Optional[bytes] = ..., mime_type: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class UploadAttachmentResponse(_message.Message):
    __slots__ = ["attachment"]
    ATTACHMENT_FIELD_NUMBER: _ClassVar[int]
    attachment: Attachment
    def __init__(self, attachment: _Optional[_Union[Attachment, _Mapping]] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ["completion_tokens", "prompt_tokens"]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    completion_tokens: int
    prompt_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ...) -> None: ...

class SessionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class MessageState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class MessageKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class LogLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class SearchHitKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
