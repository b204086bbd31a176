"""Offset pagination shared by list routes: ``?limit=&offset=`` in, ``Page[X]`` out.

A route fetches ``paging.fetch`` rows (one more than asked for: it only tells that another page
exists) and returns ``Page[XPublic].of(items, paging)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, Self, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

T = TypeVar("T")

MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int

    @property
    def fetch(self) -> int:
        return self.limit + 1


class Page(BaseModel, Generic[T]):
    items: list[T]
    limit: int
    offset: int
    next_offset: int | None  # None on the last page

    @classmethod
    def of(cls, items: list[T], paging: PageParams, **extra: Any) -> Self:
        more = len(items) > paging.limit
        return cls(
            items=items[: paging.limit],
            limit=paging.limit,
            offset=paging.offset,
            next_offset=paging.offset + paging.limit if more else None,
            **extra,
        )


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page")] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="items to skip")] = 0,
) -> PageParams:
    return PageParams(limit, offset)


Paging = Annotated[PageParams, Depends(page_params)]
