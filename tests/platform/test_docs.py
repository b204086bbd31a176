"""/docs and /redoc work offline: every script, style and icon they load comes from the gateway itself;
and the API description states the limits a client meets."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from neura import limits
from neura.config import Settings

LOADED = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url\s*:\s*["']([^"']+)["']""")


def loaded_urls(html: str) -> list[str]:
    """What a browser fetches for the page: src, href and spec-url attributes, Swagger UI's ``url:``."""
    return [a or b for a, b in LOADED.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_load_nothing_from_another_origin(client: httpx.Client, gateway_url: str, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "cdn." not in html and "fonts.googleapis" not in html
    urls = loaded_urls(html)
    assert any(u.endswith(".js") for u in urls) and any(u.endswith("openapi.json") for u in urls)
    for url in urls:
        absolute = urljoin(gateway_url + page, url)
        assert urlsplit(absolute).netloc == urlsplit(gateway_url).netloc, f"{page} loads {url} from elsewhere"
        asset = client.get(absolute)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url


def test_swagger_assets_are_the_real_files_with_their_types(client: httpx.Client) -> None:
    js = client.get("/docs/assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert b"SwaggerUIBundle" in js.content
    css = client.get("/docs/assets/swagger-ui.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/docs/assets/../../openapi.json").status_code in (200, 404)  # no way out of the folder
    assert client.get("/docs/assets/nothing.js").status_code == 404
    redirect = client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200 and "http" not in redirect.text.split("<script")[0]


def test_the_pages_are_not_in_the_api_schema(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not any(path.startswith(("/docs", "/redoc")) for path in paths)


def test_the_api_description_states_the_limits(client: httpx.Client, platform_settings: Settings) -> None:
    schema = client.get("/openapi.json").json()
    description = schema["info"]["description"]
    assert f"{limits.SCRIPT_MAX_CHARS:,} characters of narration in {limits.SCRIPT_MAX_SCENES} scenes" in description
    assert f"at most {limits.PROMPT_MAX_CHARS:,} characters" in description
    assert f"at most {limits.megabytes(platform_settings.max_upload_bytes)} on this server" in description
    for plan in limits.PLANS.values():
        assert f"| {plan.name} | {plan.monthly_credits:,} | {plan.max_video_s} s |" in description
    assert "X-Credits-Charged" in description

    video = schema["components"]["schemas"]["VideoCreate"]["properties"]
    prompt = next(p for p in video["prompt"]["anyOf"] if p.get("type") == "string")
    assert prompt["maxLength"] == limits.PROMPT_MAX_CHARS
    script = next(p for p in video["script"]["anyOf"] if p.get("type") == "string")
    assert script["maxLength"] == limits.SCRIPT_MAX_CHARS
    assert f"{limits.SCRIPT_MAX_SCENES} scenes" in video["script"]["description"]
    assert f"default {limits.DURATION_DEFAULT_S:g} s" in video["duration_s"]["description"]
    assert "512" in video["background"]["description"]
