"""Signed downloads: ``GET /v1/files/<key>?expires=&sig=`` streams an object, with HTTP Range support.

No credentials: the signature is the authorisation (see :mod:`neura.gateway.signed_urls`), so a
``<video src>`` or a download manager can fetch and seek it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import StreamingResponse

from neura.gateway.deps import SettingsDep, State
from neura.gateway.ranges import object_response
from neura.gateway.ratelimit import FilesRateLimited
from neura.gateway.schemas.text import STORABLE, Text
from neura.gateway.signed_urls import check_signature
from neura.storage import check_key

router = APIRouter(prefix="/v1/files", tags=["files"], dependencies=[FilesRateLimited])


@router.get(
    "/{key:path}",
    operation_id="getFile",
    response_class=StreamingResponse,
    summary="Download a file through a signed URL (Range requests supported)",
    responses={
        200: {"description": "the whole file"},
        206: {"description": "the requested byte range"},
        403: {"description": "the signature is missing, wrong or expired"},
        416: {"description": "the range lies outside the file"},
    },
)
async def get_file(
    key: Text,
    settings: SettingsDep,
    state: State,
    expires: Annotated[int | None, Query()] = None,
    sig: Annotated[str | None, Query(max_length=128), STORABLE] = None,
    range_header: Annotated[str | None, Header(alias="Range", max_length=200), STORABLE] = None,
) -> StreamingResponse:
    check_signature(settings, key, expires, sig)
    name = key.rsplit("/", 1)[-1]
    headers = {"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "private, max-age=300"}
    return await object_response(state.storage, check_key(key), range_header, headers)
