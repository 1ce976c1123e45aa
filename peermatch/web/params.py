"""Names for what handlers receive, so signatures stay short and explicit."""

from __future__ import annotations

from typing import TypeAlias

from litestar.datastructures import FormMultiDict
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlmodel import Session

from peermatch.web.auth import Coordinator

Db: TypeAlias = NamedDependency[Session]  # this request's unit of work
Form: TypeAlias = NamedDependency[FormMultiDict]  # the parsed form body
Me: TypeAlias = NamedDependency[Coordinator]  # the signed-in coordinator (auth.provide_coordinator)
# Int path parameters need nothing special: RequestShapeMiddleware answers 404 for any int path
# parameter outside 1..2**31-1 before a handler runs.
ReviewerId: TypeAlias = FromPath[int]
RequestId: TypeAlias = FromPath[int]
