"""The ownership matrix as a table: each kind of owned object, how to make one, and the routes that
reach it. tests/platform/test_ownership.py runs every row against two users:

- the intruder (another user, with an access token or an API key) gets 404 on every object route (not
  403: whether the object exists must not leak), never sees the object in a list, and the object is
  still there for its owner afterwards;
- without credentials every route answers 401.

A kind without a list route (live sessions) says instead how its owner sees that it is still there.

To cover a new kind of object, add an ``OwnedKind`` to ``test_ownership.KINDS``, e.g.::

    OwnedKind(
        name="video",
        create=lambda client, owner: client.post("/v1/videos", json={...}, headers=owner.headers).json()["id"],
        object_routes=(Route("GET", "/v1/videos/{id}"), Route("POST", "/v1/videos/{id}/cancel")),
        list_route="/v1/videos",
    )
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.platform.users import TestUser as Owner


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "{id}" stands for the object's id
    json: Any = None
    files: dict[str, Any] | None = None
    api_key_status: int = 404  # what an intruder's API key gets (403 where API keys are refused outright)

    def call(self, client: httpx.Client, object_id: str, headers: dict[str, str]) -> httpx.Response:
        return client.request(
            self.method, self.path.format(id=object_id), json=self.json, files=self.files, headers=headers
        )

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class OwnedKind:
    name: str
    create: Callable[[httpx.Client, Owner], str]  # makes one object for the owner; returns its id
    list_route: str | None  # GET route whose JSON "items" list the user's objects ("id" each)
    object_routes: tuple[Route, ...] = field(default_factory=tuple)
    # without a list route: whether the owner still has the object, unchanged (client, owner, id)
    still_there: Callable[[httpx.Client, Owner, str], bool] | None = None
    end_route: str | None = None  # DELETE route that frees what the object holds once the matrix is done

    def owner_still_has(self, client: httpx.Client, owner: Owner, object_id: str) -> bool:
        if self.still_there is not None:
            return self.still_there(client, owner, object_id)
        return object_id in self.listed_ids(client, owner.headers)

    def listed_ids(self, client: httpx.Client, headers: dict[str, str]) -> set[str]:
        assert self.list_route is not None, f"{self.name} has no list route"
        ids: set[str] = set()
        offset: int | None = 0
        while offset is not None:
            response = client.get(self.list_route, params={"limit": 100, "offset": offset}, headers=headers)
            assert response.status_code == 200, response.text
            body = response.json()
            ids |= {str(item["id"]) for item in body["items"]}
            offset = body.get("next_offset")
        return ids


def assert_hidden(response: httpx.Response, expected: int = 404) -> None:
    """The intruder learns nothing: the expected status and a JSON error body."""
    assert response.status_code == expected, f"{response.request.method} {response.request.url}: {response.text}"
    assert response.json()["error"]["code"]
