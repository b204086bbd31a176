"""Avatars from photos: validated, rigged for 512 and 640 px, stored under the user's prefix, deletable."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from PIL import Image

from neura.avatar import landmarks as lm
from neura.avatar.rig import AvatarRig
from neura.config import Settings
from tests.platform import users
from tests.platform.db import fetchval
from tests.platform.photos import cat_jpeg, portrait


@pytest.fixture(scope="module")
def owner(gateway_url: str) -> Iterator[users.TestUser]:
    with httpx.Client(base_url=gateway_url, timeout=30.0) as http:
        yield users.signup(http)


@pytest.fixture(scope="module")
def avatar(gateway_url: str, owner: users.TestUser) -> dict[str, Any]:
    """One uploaded portrait, shared by the module (a build takes a couple of seconds)."""
    with httpx.Client(base_url=gateway_url, timeout=60.0) as http:
        response = http.post(
            "/v1/avatars",
            files={"file": ("astronaut.jpg", portrait(), "image/jpeg")},
            data={"name": "Eileen"},
            headers=owner.headers,
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


def avatar_folder(settings: Settings, user_id: str, avatar_id: str) -> Path:
    return settings.storage_dir / "users" / user_id / "avatars" / avatar_id


def stored_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


def test_an_upload_describes_the_avatar(avatar: dict[str, Any]) -> None:
    assert avatar["name"] == "Eileen"
    assert (avatar["width"], avatar["height"]) == (512, 512)
    assert avatar["face_px"] >= 80
    assert avatar["rig_sizes"] == [512, 640]
    assert avatar["preview_url"] == f"/v1/avatars/{avatar['id']}/preview"


def test_the_photo_preview_and_rigs_are_stored_under_the_users_prefix(
    avatar: dict[str, Any], owner: users.TestUser, platform_settings: Settings, database_url: str
) -> None:
    folder = avatar_folder(platform_settings, owner.user_id, avatar["id"])
    assert stored_files(folder) == ["original.jpg", "preview.jpg", "rig-512.npz", "rig-640.npz"]
    assert (folder / "original.jpg").read_bytes() == portrait()
    for size in (512, 640):
        rig = AvatarRig.load(folder / f"rig-{size}.npz")
        assert rig.size_px == size and rig.image.shape == (size, size, 3)
    rig_keys = fetchval(database_url, "SELECT rig_keys::text FROM avatars WHERE id = $1::uuid", avatar["id"])
    assert f"users/{owner.user_id}/avatars/{avatar['id']}/rig-640.npz" in rig_keys


def test_the_preview_is_a_jpeg_of_the_cropped_portrait(
    client: httpx.Client, avatar: dict[str, Any], owner: users.TestUser
) -> None:
    response = client.get(avatar["preview_url"], headers=owner.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).size == (512, 512)


def test_the_face_is_outlined_on_the_preview(
    avatar: dict[str, Any], owner: users.TestUser, platform_settings: Settings
) -> None:
    """The box and outline are in the preview's pixels and hold the face the rig animates: its eyes
    and mouth as the 512 px rig (the preview's) places them."""
    rig = AvatarRig.load(avatar_folder(platform_settings, owner.user_id, avatar["id"]) / "rig-512.npz")
    box = avatar["face_box"]
    x0, y0, x1, y1 = box["x"], box["y"], box["x"] + box["width"], box["y"] + box["height"]
    assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 512
    features = lm.RIGHT_EYE_UPPER + lm.RIGHT_EYE_LOWER + lm.LEFT_EYE_UPPER + lm.LEFT_EYE_LOWER
    features += lm.OUTER_LIP_UPPER + lm.OUTER_LIP_LOWER
    for x, y in rig.landmarks[list(features)]:
        assert x0 < x < x1 and y0 < y < y1
    assert 0.05 < box["width"] * box["height"] / 512**2 < 0.5  # the face, not the whole head-and-shoulders crop
    outline = np.array(avatar["face_outline"])
    assert outline.shape == (36, 2)
    assert np.allclose([outline.min(axis=0), outline.max(axis=0)], [[x0, y0], [x1, y1]], atol=0.05)  # the box bounds it
    contour = outline.astype(np.float32).reshape(-1, 1, 2)
    for x, y in rig.landmarks[list(features)]:
        assert cv2.pointPolygonTest(contour, (float(x), float(y)), False) > 0  # inside the outline
    assert avatar["faces_found"] == 1


def test_get_and_list(client: httpx.Client, avatar: dict[str, Any], owner: users.TestUser) -> None:
    one = client.get(f"/v1/avatars/{avatar['id']}", headers=owner.headers)
    assert one.status_code == 200 and one.json() == avatar
    page = client.get("/v1/avatars", headers=owner.headers).json()
    assert [item["id"] for item in page["items"]] == [avatar["id"]]
    assert page["next_offset"] is None


def test_the_type_comes_from_the_bytes_not_the_name(
    client: httpx.Client, owner: users.TestUser, platform_settings: Settings
) -> None:
    response = client.post(
        "/v1/avatars", files={"file": ("holiday.jpg", portrait("PNG"), "image/jpeg")}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "holiday"  # from the file name when no name is given
    assert "original.png" in stored_files(avatar_folder(platform_settings, owner.user_id, body["id"]))
    assert client.delete(f"/v1/avatars/{body['id']}", headers=owner.headers).status_code == 204


def test_a_photo_without_a_face_is_refused_and_nothing_is_stored(
    client: httpx.Client, platform_settings: Settings, database_url: str
) -> None:
    user = users.signup(client)
    response = client.post("/v1/avatars", files={"file": ("cat.jpg", cat_jpeg(), "image/jpeg")}, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "no_face"
    assert not (platform_settings.storage_dir / "users" / user.user_id).exists()
    assert fetchval(database_url, "SELECT count(*) FROM avatars WHERE user_id = $1::uuid", user.user_id) == 0


def test_delete_removes_the_row_and_every_object(
    client: httpx.Client, avatar: dict[str, Any], owner: users.TestUser, platform_settings: Settings
) -> None:
    assert client.delete(f"/v1/avatars/{avatar['id']}", headers=owner.headers).status_code == 204
    assert stored_files(avatar_folder(platform_settings, owner.user_id, avatar["id"])) == []
    assert client.get(f"/v1/avatars/{avatar['id']}", headers=owner.headers).status_code == 404
    assert client.get(avatar["preview_url"], headers=owner.headers).status_code == 404
    assert client.delete(f"/v1/avatars/{avatar['id']}", headers=owner.headers).status_code == 404
