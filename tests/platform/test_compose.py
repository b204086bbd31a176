"""The deployment files: compose.yml validates with the compose CLI (no Docker engine needed), keeps
secrets out of the file, and the image runs as a non-root user without downloading models."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from neura.config import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yml"
REQUIRED_SECRETS = ("POSTGRES_PASSWORD", "NEURA_SECRET_KEY")


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def _config(env_file: Path) -> subprocess.CompletedProcess[str]:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("neither 'docker compose' nor 'docker-compose' is installed")
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED_SECRETS}
    command = [*cli, "--env-file", str(env_file), "-f", str(COMPOSE), "config", "-q"]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)


def test_compose_config_is_valid(tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("POSTGRES_PASSWORD=test-only\nNEURA_SECRET_KEY=test-only\n")
    result = _config(env_file)
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_run_without_the_secrets(tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("")
    result = _config(env_file)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr or "NEURA_SECRET_KEY" in result.stderr


def _compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_compose_services_and_health() -> None:
    services = _compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "backend", "worker", "frontend"}
    assert services["postgres"]["image"] == "postgres:15" and services["redis"]["image"] == "redis:7"
    for name in ("postgres", "redis", "backend", "worker", "frontend"):
        assert services[name]["healthcheck"]["test"], name
    assert services["backend"]["command"][:2] == ["neura", "serve"]
    assert services["worker"]["command"][:2] == ["neura", "worker"]
    for name in ("backend", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "neura-data:/data" in services[name]["volumes"]
    frontend = services["frontend"]
    assert frontend["build"] == {"context": "./frontend", "dockerfile": "Dockerfile"}  # the web app's own image
    assert frontend["environment"]["NEURA_API_URL"] == "http://backend:8000"
    assert frontend["ports"] == ["${FRONTEND_PORT:-3000}:3000"]
    assert frontend["depends_on"]["backend"]["condition"] == "service_healthy"


def test_compose_environment_holds_no_secret_and_only_known_keys() -> None:
    environment: dict[str, str] = _compose()["services"]["backend"]["environment"]
    for key in (*REQUIRED_SECRETS, "S3_SECRET_ACCESS_KEY", "GEMINI_API_KEY"):
        assert environment[key].startswith("${" + key), f"{key} must come from the environment"
    for key in REQUIRED_SECRETS:
        assert environment[key].startswith("${" + key + ":?"), f"{key} must be required, never defaulted"
    known = {field.alias for field in Settings.model_fields.values()}
    assert set(environment) <= known, f"keys the settings do not read: {set(environment) - known}"


def test_image_runs_unprivileged_and_downloads_no_models() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "\nUSER neura" in dockerfile
    run_lines = [line for line in dockerfile.splitlines() if line.lstrip().startswith(("RUN", "&&"))]
    assert not any(
        tool in line for line in run_lines for tool in ("curl", "wget", "huggingface", "http://", "https://")
    )
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".git", ".venv", ".env", "tests"} <= set(ignored)
