"""deploy/k8s, checked offline: every overlay renders with Kustomize, every object validates against the
Kubernetes (and KEDA) schemas, and the rules we hold ourselves to hold in every rendered workload:
probes, requests and limits, an unprivileged read-only container, a grace period that outlasts the
drain, settings NEURA knows, and no secret value anywhere in the tree."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import pytest
import typer

from neura.cli import app as cli_app
from neura.config import Settings
from tests.platform import k8s
from tests.platform.k8s import OVERLAYS, Obj, config_data, container_env, named, of_kind, pod_specs, render

# The oldest Kubernetes we support (the `sleep` preStop action is 1.30's) and the newest schemas packaged.
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.utils.latest_version())
SECRET_NAME = "neura-secrets"
# Names a container may carry that are not NEURA settings: the pod's own identity, and HOME.
POD_ENV = {"HOME", "POD_IP", "POD_NAME"}
DRAIN_MARGIN_S = 5  # what the process needs after its drain deadline to close connections and exit
SECRET_SETTING = re.compile(r"(_KEY|_KEY_ID|PASSWORD|_TOKEN)$|^DATABASE_URL$")

SETTINGS = {field.alias for field in Settings.model_fields.values() if field.alias}
SECRET_SETTINGS = {name for name in SETTINGS if SECRET_SETTING.search(name)}

overlays = pytest.mark.parametrize("overlay", OVERLAYS)


def _containers(objects: tuple[Obj, ...], *, neura_only: bool = False) -> list[tuple[str, Obj, Obj]]:
    """(workload name, pod spec, container) for every container of every Deployment and Job; with
    ``neura_only``, of NEURA's own image (not the web app, which reads no NEURA setting)."""
    return [
        (workload["metadata"]["name"], spec, container)
        for workload, spec in pod_specs(objects)
        for container in spec["containers"]
        if not neura_only or workload["metadata"]["labels"]["app.kubernetes.io/name"] == "neura"
    ]


def _deployment_containers(objects: tuple[Obj, ...]) -> list[tuple[str, Obj, Obj]]:
    names = {obj["metadata"]["name"] for obj in of_kind(objects, "Deployment")}
    return [row for row in _containers(objects) if row[0] in names]


@overlays
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_validates_against_the_schemas(overlay: str, version: str) -> None:
    objects = render(overlay)
    assert objects
    for obj in objects:
        if obj["apiVersion"].startswith("keda.sh/"):
            k8s.validate_keda(obj)
        else:  # strict: an unknown field is an error, as with kubectl's server-side field validation
            kubernetes_validate.validate(obj, version, strict=True)


@overlays
def test_the_workloads_and_what_serves_them(overlay: str) -> None:
    objects = render(overlay)
    deployments = {obj["metadata"]["name"]: obj for obj in of_kind(objects, "Deployment")}
    assert set(deployments) == {"neura-api", "neura-media", "neura-worker", "neura-web"}
    assert [job["metadata"]["name"] for job in of_kind(objects, "Job")] == ["neura-migrate"]
    pods = {name: d["spec"]["template"]["metadata"]["labels"] for name, d in deployments.items()}
    for selecting in (*of_kind(objects, "Service"), *of_kind(objects, "PodDisruptionBudget")):
        spec = selecting["spec"]
        selector = spec["selector"].get("matchLabels", spec["selector"])
        matched = [name for name, labels in pods.items() if selector.items() <= labels.items()]
        assert len(matched) == 1, f"{selecting['kind']}/{selecting['metadata']['name']} selects {matched}"
    budgets = {pdb["metadata"]["name"] for pdb in of_kind(objects, "PodDisruptionBudget")}
    assert budgets == set(deployments), "every Deployment has a PodDisruptionBudget"
    assert named(objects, "Service", "neura-api")["spec"]["ports"][0]["targetPort"] == "http"
    for scaler in (*of_kind(objects, "HorizontalPodAutoscaler"), *of_kind(objects, "ScaledObject")):
        target = scaler["spec"]["scaleTargetRef"]["name"]
        assert target in deployments, target
        assert "replicas" not in deployments[target]["spec"], f"{target}: an apply would reset its autoscaler"


@overlays
def test_every_container_has_probes_and_resources(overlay: str) -> None:
    objects = render(overlay)
    for name, _, container in _containers(objects):
        resources = container["resources"]
        for bound in ("requests", "limits"):
            assert {"cpu", "memory", "ephemeral-storage"} <= set(resources[bound]), f"{name}: {bound}"
    for name, _, container in _deployment_containers(objects):
        ports = {port["name"] for port in container["ports"]}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["port"] in ports, f"{name}: {probe} on an undeclared port"
        if name in ("neura-api", "neura-media"):  # the gateway's own health routes
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


@overlays
def test_the_declared_ports_are_where_the_processes_listen(overlay: str) -> None:
    objects = render(overlay)
    config = config_data(objects)
    neura = {name for name, _, _ in _containers(objects, neura_only=True)}
    for name, _, container in _deployment_containers(objects):
        if name not in neura:
            continue
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        env, command = container_env(container, config), container["command"]
        assert ports["metrics"] == int(env["METRICS_PORT"]), f"{name}: metrics are served elsewhere"
        if "--port" in command:
            assert ports["http"] == int(command[command.index("--port") + 1]), f"{name}: --port"
        if "LIVE_INTERNAL_URL" in env:  # what API pods call to reach this pod's sessions
            assert env["LIVE_INTERNAL_URL"].endswith(f":{ports['http']}"), name


@overlays
def test_every_container_is_unprivileged_and_read_only(overlay: str) -> None:
    for name, spec, container in _containers(render(overlay)):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, name
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", name
        own = container["securityContext"]
        assert own["allowPrivilegeEscalation"] is False, name
        assert own["readOnlyRootFilesystem"] is True, name
        assert own["capabilities"]["drop"] == ["ALL"] and not own["capabilities"].get("add"), name
        assert not spec.get("hostNetwork") and not spec.get("hostPID"), name
        no_token = spec.get("automountServiceAccountToken") is False or spec.get("serviceAccountName") == "neura"
        assert no_token, f"{name}: mounts a Kubernetes API token"
        assert "/tmp" in {mount["mountPath"] for mount in container["volumeMounts"]}, name
    account = named(render(overlay), "ServiceAccount", "neura")
    assert account["automountServiceAccountToken"] is False
    config = config_data(render(overlay))
    for name, _, container in _containers(render(overlay), neura_only=True):
        mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
        assert container_env(container, config)["NEURA_CACHE_DIR"] in mounts, f"{name}: the cache is read-only"


@overlays
def test_the_grace_period_outlasts_the_drain(overlay: str) -> None:
    objects = render(overlay)
    config = config_data(objects)
    assert "DRAIN_TIMEOUT_S" in config, "the drain deadline is configuration, not a default nobody sees"
    neura = {name for name, _, _ in _containers(objects, neura_only=True)}
    for name, spec, container in _deployment_containers(objects):
        drain_s = float(container_env(container, config)["DRAIN_TIMEOUT_S"]) if name in neura else 0.0
        pre_stop_s = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        needed_s = pre_stop_s + drain_s + DRAIN_MARGIN_S
        assert spec["terminationGracePeriodSeconds"] >= needed_s, f"{name}: SIGKILL before the drain ends"


@overlays
def test_no_secret_value_anywhere(overlay: str) -> None:
    objects = render(overlay)
    assert not of_kind(objects, "Secret"), "Secrets are made outside the tree (docs/deploy.md)"
    config = config_data(objects)
    assert not SECRET_SETTINGS & set(config), "secret settings belong in the Secret"
    for name, _, container in _containers(objects):
        inline = {entry["name"] for entry in container.get("env", []) if "value" in entry}
        assert not inline & SECRET_SETTINGS, f"{name}: inline secret {inline & SECRET_SETTINGS}"
    assert "envFrom" not in named(objects, "Deployment", "neura-web")["spec"]["template"]["spec"]["containers"][0]
    for name, _, container in _containers(objects, neura_only=True):
        sources = container["envFrom"]
        assert {"secretRef": {"name": SECRET_NAME}} in sources, name
        assert any(source.get("configMapRef", {}).get("name", "").startswith("neura-config-") for source in sources)


@overlays
def test_settings_are_names_neura_reads_with_valid_values(overlay: str) -> None:
    objects = render(overlay)
    config = config_data(objects)
    known = SETTINGS | POD_ENV
    assert not set(config) - known, f"unknown settings (misspelt?): {sorted(set(config) - known)}"
    for name, _, container in _containers(objects, neura_only=True):
        names = {entry["name"] for entry in container.get("env", [])}
        assert not names - known, f"{name}: unknown settings {sorted(names - known)}"
        values = {key: value for key, value in container_env(container, config).items() if key in SETTINGS}
        Settings(_env_file=None, **values)  # raises on a value NEURA would refuse


def _parse(command: list[str]) -> None:
    """Parse ``command`` as the ``neura`` CLI would, down to its subcommand's option values, without
    running it (raises Typer's UsageError or BadParameter where the CLI would exit 2)."""
    assert command[0] == "neura", command
    cmd: Any = typer.main.get_command(cli_app)
    context = cmd.make_context("neura", [], resilient_parsing=True)
    args = command[1:]
    while hasattr(cmd, "resolve_command"):  # a group: descend to the named subcommand
        _, cmd, args = cmd.resolve_command(context, args)
        assert cmd is not None, f"no such command: {command}"
        context = cmd.make_context(cmd.name, [], parent=context, resilient_parsing=True)
    cmd.make_context(cmd.name, args, parent=context.parent)


@overlays
def test_every_command_is_one_the_cli_accepts(overlay: str) -> None:
    for name, _, container in _containers(render(overlay), neura_only=True):
        try:
            _parse(container["command"])
        except Exception as exc:  # Typer's own (vendored) click exceptions
            raise AssertionError(f"{name}: {container['command']}: {exc}") from None


def test_media_pods_get_a_gpu_only_in_the_gpu_overlay() -> None:
    for overlay in OVERLAYS:
        for name, spec, container in _containers(render(overlay)):
            gpus = container["resources"]["limits"].get("nvidia.com/gpu")
            wants_gpu = overlay == "gpu" and name == "neura-media"
            assert (gpus == 1) is wants_gpu, f"{overlay}: {name} asks for {gpus} GPUs"
            if wants_gpu:
                assert container["resources"]["requests"]["nvidia.com/gpu"] == 1
                assert spec["nodeSelector"]["nvidia.com/gpu.present"] == "true"
                assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]


def test_autoscaling_follows_the_queue_and_the_live_sessions() -> None:
    objects = render("gpu")
    metrics = {"neura_jobs", "neura_live_sessions"}
    exported = {name for name in metrics if name in _exported_metric_names()}
    assert exported == metrics, "the autoscalers read metrics NEURA exports"
    worker, media = named(objects, "ScaledObject", "neura-worker"), named(objects, "ScaledObject", "neura-media")
    assert "neura_jobs" in worker["spec"]["triggers"][0]["metadata"]["query"]
    assert worker["spec"]["minReplicaCount"] >= 1, "workers also deliver webhooks and recover jobs"
    assert "neura_live_sessions" in media["spec"]["triggers"][0]["metadata"]["query"]
    per_pod = float(media["spec"]["triggers"][0]["metadata"]["threshold"])
    assert per_pod < float(config_data(objects)["LIVE_MAX_SESSIONS"]), "no headroom for sessions while a pod boots"
    assert not of_kind(render("staging"), "ScaledObject"), "staging runs without KEDA"


def _exported_metric_names() -> set[str]:
    from prometheus_client import REGISTRY

    import neura.metrics  # noqa: F401  (registers NEURA's metrics)

    return {metric.name for metric in REGISTRY.collect()}


def test_the_documented_secret_holds_the_settings_production_needs() -> None:
    """docs/deploy.md's `kubectl create secret` names secret settings NEURA reads, those production needs first."""
    keys = set(re.findall(r"--from-literal=([A-Z0-9_]+)=", (k8s.ROOT / "docs" / "deploy.md").read_text()))
    assert {"NEURA_SECRET_KEY", "POSTGRES_PASSWORD", "S3_SECRET_ACCESS_KEY"} <= keys
    assert keys <= SECRET_SETTINGS, f"not secret settings of NEURA: {sorted(keys - SECRET_SETTINGS)}"
