from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
SKILL_SOURCE_BUILTIN: SkillSource
SKILL_SOURCE_UNSPECIFIED: SkillSource
SKILL_SOURCE_USER: SkillSource

class GetSkillRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetSkillResponse(_message.Message):
    __slots__ = ["skill"]
    SKILL_FIELD_NUMBER: _ClassVar[int]
    skill: Skill
    def __init__(self, skill: _Optional[_Union[Skill, _Mapping]] = ...) -> None: ...

class ListSkillsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListSkillsResponse(_message.Message):
    __slots__ = ["errors", "skills"]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    errors: _containers.RepeatedCompositeFieldContainer[SkillLoadError]
    skills: _containers.RepeatedCompositeFieldContainer[Skill]
    def __init__(self, skills: _Optional[_Iterable[_Union[Skill, _Mapping]]] = ..., errors: _Optional[_Iterable[_Union[SkillLoadError, _Mapping]]] = ...) -> None: ...

class ReloadSkillsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ReloadSkillsResponse(_message.Message):
    __slots__ = ["errors", "skills"]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    errors: _containers.RepeatedCompositeFieldContainer[SkillLoadError]
    skills: _containers.RepeatedCompositeFieldContainer[Skill]
    def __init__(self, skills: _Optional[_Iterable[_Union[Skill, _Mapping]]] = ..., errors: _Optional[_Iterable[_Union[SkillLoadError, _Mapping]]] = ...) -> None: ...

class Skill(_message.Message):
    __slots__ = ["allowed_tools", "description", "instructions", "name", "path", "source"]
    ALLOWED_TOOLS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    allowed_tools: _containers.RepeatedScalarFieldContainer[str]
    description: str
    instructions: str
    name: str
    path: str
    source: SkillSource
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., source: _Optional[_Union[SkillSource, str]] = ..., path: _Optional[str] = ..., allowed_tools: _Optional[_Iterable[str]] = ..., instructions: _Optional[str] = ...) -> None: ...

class SkillLoadError(_message.Message):
    __slots__ = ["message", "path"]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    message: str
    path: str
    def __init__(self, path: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class SkillSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
