"""Samples over real HTTP: an avatar's short video (decoded: a square picture whose mouth moves and
whose eyes blink, with speech) and a voice's sentence (decoded in each format), each made once, kept
in storage and free."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from neura.assets.samples import BLINK_WINDOW_S
from neura.avatar import detect_faces
from neura.avatar.landmarks import eyes_aspect_ratio, mouth_gap_ratio
from neura.config import Settings
from neura.encode.probe import decode_audio, decode_frames, probe
from neura.gateway.routes import avatar_samples, voice_samples
from tests.platform import users
from tests.platform.photos import portrait
from tests.platform.speech_client import decode
from tests.platform.videos import balance
from tests.tts.conftest import median_pitch_hz


@pytest.fixture(scope="module")
def owner(gateway_url: str) -> users.TestUser:
    with httpx.Client(base_url=gateway_url) as http:
        return users.signup(http)


@pytest.fixture(scope="module")
def avatar(gateway_url: str, owner: users.TestUser) -> dict[str, Any]:
    with httpx.Client(base_url=gateway_url, timeout=60.0) as http:
        response = http.post("/v1/avatars", files={"file": ("me.jpg", portrait(), "image/jpeg")}, headers=owner.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def sample(gateway_url: str, owner: users.TestUser, avatar: dict[str, Any], database_url: str) -> httpx.Response:
    """The first request for the avatar's sample: it renders it."""
    before = balance(database_url, owner)
    with httpx.Client(base_url=gateway_url, timeout=120.0) as http:
        response = http.get(f"/v1/avatars/{avatar['id']}/sample", headers=owner.headers)
    assert response.status_code == 200, response.text
    assert balance(database_url, owner) == before  # free
    return response


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any, str], list[tuple[Any, ...]]]:
    """Count the calls of a function the gateway (served in this process) looks up in a module."""

    def spy(module: Any, name: str) -> list[tuple[Any, ...]]:
        seen: list[tuple[Any, ...]] = []
        real = getattr(module, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            seen.append(args)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
        return seen

    return spy


def sample_files(settings: Settings, owner: users.TestUser, avatar: dict[str, Any]) -> list[Path]:
    return sorted((settings.storage_dir / "users" / owner.user_id / "avatars" / avatar["id"]).glob("sample-*.mp4"))


def test_the_avatar_sample_is_a_short_square_video_that_speaks(sample: httpx.Response, tmp_path: Path) -> None:
    assert sample.headers["content-type"] == "video/mp4"
    path = tmp_path / "sample.mp4"
    path.write_bytes(sample.content)
    info = probe(path)
    assert (info.video_codec, info.audio_codec, info.width, info.height) == ("h264", "aac", 512, 512)
    assert 2.0 <= info.video_duration_s <= 3.2, info
    samples, rate_hz = decode_audio(path)
    assert abs(len(samples) / rate_hz - info.video_duration_s) < 0.1
    loud_s = np.mean(np.abs(samples) > 0.02) * len(samples) / rate_hz
    assert loud_s > 0.5, "the phrase is spoken"


def test_the_avatar_moves_its_mouth_and_blinks(sample: httpx.Response, tmp_path: Path) -> None:
    path = tmp_path / "sample.mp4"
    path.write_bytes(sample.content)
    times, mouths, eyes = [], [], []
    for time_s, rgb in decode_frames(path):
        landmarks = detect_faces(rgb, min_face_px=0).landmarks
        times.append(time_s)
        mouths.append(mouth_gap_ratio(landmarks))
        eyes.append(eyes_aspect_ratio(landmarks))
    mouth, eye, t = np.array(mouths), np.array(eyes), np.array(times)
    assert mouth.max() - mouth.min() > 0.1, mouths  # it opens and closes while speaking
    blink = (t >= BLINK_WINDOW_S[0]) & (t <= BLINK_WINDOW_S[1] + 0.3)
    assert eye[blink].min() < 0.6 * np.median(eye), eyes  # the lids close in the blink window...
    assert eye[~blink].min() > 0.7 * np.median(eye), eyes  # ...and only there


def test_the_sample_is_rendered_once_and_kept(
    sample: httpx.Response,
    client: httpx.Client,
    owner: users.TestUser,
    avatar: dict[str, Any],
    platform_settings: Settings,
    calls: Callable[[Any, str], list[tuple[Any, ...]]],
) -> None:
    renders = calls(avatar_samples, "render_avatar_sample")
    again = client.get(f"/v1/avatars/{avatar['id']}/sample", headers=owner.headers)
    assert again.status_code == 200 and again.content == sample.content
    assert renders == []
    (stored,) = sample_files(platform_settings, owner, avatar)
    assert stored.read_bytes() == sample.content

    # Range requests, for a <video> that seeks
    part = client.get(f"/v1/avatars/{avatar['id']}/sample", headers={**owner.headers, "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == sample.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(sample.content)}"


def test_concurrent_first_requests_render_once(
    sample: httpx.Response,
    gateway_url: str,
    owner: users.TestUser,
    avatar: dict[str, Any],
    platform_settings: Settings,
    calls: Callable[[Any, str], list[tuple[Any, ...]]],
) -> None:
    for path in sample_files(platform_settings, owner, avatar):
        path.unlink()  # as if it had never been made
    renders = calls(avatar_samples, "render_avatar_sample")

    def fetch(_: int) -> httpx.Response:
        with httpx.Client(base_url=gateway_url, timeout=120.0) as http:
            return http.get(f"/v1/avatars/{avatar['id']}/sample", headers=owner.headers)

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(fetch, range(3)))
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert len(renders) == 1
    assert responses[0].content == responses[1].content == responses[2].content


def test_another_users_avatar_has_no_sample_for_you(
    client: httpx.Client, avatar: dict[str, Any], calls: Callable[[Any, str], list[tuple[Any, ...]]]
) -> None:
    renders = calls(avatar_samples, "render_avatar_sample")
    stranger = users.signup(client)
    response = client.get(f"/v1/avatars/{avatar['id']}/sample", headers=stranger.headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.get(f"/v1/avatars/{avatar['id']}/sample").status_code == 401
    assert renders == []


@pytest.fixture(scope="module")
def listener(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=60.0) as http:
        yield http


@pytest.mark.parametrize(
    ("query", "accept", "codec", "content_type"),
    [
        ("", None, "mp3float", "audio/mpeg"),
        ("?format=wav", None, "pcm_s16le", "audio/wav"),
        ("?format=opus", "audio/wav", "opus", "audio/ogg; codecs=opus"),  # the query wins
        ("", "audio/wav;q=0.9, */*", "pcm_s16le", "audio/wav"),
        ("", "audio/webm, audio/ogg", "opus", "audio/ogg; codecs=opus"),
    ],
)
def test_a_voice_sample_in_the_format_asked_for(
    listener: httpx.Client, query: str, accept: str | None, codec: str, content_type: str
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = listener.get(f"/v1/voices/espeak:en-us/sample{query}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == content_type
    audio = decode(response.content)
    assert audio.codec == codec
    assert 2.0 < audio.duration_s < 6.0
    assert np.mean(np.abs(audio.samples) > 0.02) > 0.2  # speech, not silence


def test_a_voice_sample_is_that_voice(listener: httpx.Client) -> None:
    pitches = {}
    for voice in ("espeak:en-us", "espeak:en-us+f3"):
        response = listener.get(f"/v1/voices/{voice}/sample?format=wav")
        audio = decode(response.content)
        pitches[voice] = median_pitch_hz(audio.samples, audio.sample_rate_hz)
    assert pitches["espeak:en-us"] < 130 < 160 < pitches["espeak:en-us+f3"], pitches
    default = listener.get("/v1/voices/default/sample?format=wav")
    assert default.status_code == 200 and decode(default.content).duration_s > 2.0  # Piper's Joe


def test_a_voice_sample_is_made_once(
    listener: httpx.Client, calls: Callable[[Any, str], list[tuple[Any, ...]]]
) -> None:
    first = listener.get("/v1/voices/espeak:en-gb/sample?format=mp3")
    syntheses = calls(voice_samples, "synthesize_sample")
    again = listener.get("/v1/voices/espeak:en-gb/sample?format=mp3")
    assert again.status_code == 200 and again.content == first.content
    assert syntheses == []
    other_format = listener.get("/v1/voices/espeak:en-gb/sample?format=wav")
    assert other_format.status_code == 200 and len(syntheses) == 1


@pytest.mark.parametrize(
    ("voice", "status", "code"),
    [
        ("shatner", 404, "not_found"),
        ("piper:nobody", 404, "not_found"),
        ("espeak:fr", 404, "not_found"),
        ("xtts", 503, "engine_unavailable"),
    ],
)
def test_voice_sample_errors(listener: httpx.Client, voice: str, status: int, code: str) -> None:
    response = listener.get(f"/v1/voices/{voice}/sample")
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert listener.get("/v1/voices/espeak:en-us/sample?format=flac").status_code == 422


def test_operation_ids(listener: httpx.Client) -> None:
    paths = listener.get("/openapi.json").json()["paths"]
    assert paths["/v1/avatars/{avatar_id}/sample"]["get"]["operationId"] == "getAvatarSample"
    assert paths["/v1/voices/{voice_id}/sample"]["get"]["operationId"] == "getVoiceSample"
