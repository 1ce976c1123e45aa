"""Names for what handlers receive, so signatures stay short and explicit."""

from __future__ import annotations

from typing import TypeAlias

from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlmodel import Session

Db: TypeAlias = NamedDependency[Session]  # this request's unit of work
Form: TypeAlias = NamedDependency[FormMultiDict]  # the parsed form body
ReviewerId: TypeAlias = FromPath[int]
RequestId: TypeAlias = FromPath[int]
