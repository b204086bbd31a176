"""Whisper transcribes NEURA's own voices: the words come back, with timings near the TTS's own."""

from __future__ import annotations

import numpy as np
import pytest

from neura.encode.audio import resample
from neura.errors import EngineUnavailableError, InputError
from neura.stt import STTEngine, TranscribeOptions, create_stt, list_stt_models
from neura.stt.base import UnsupportedLanguageError
from neura.stt.models import PACKAGED, PackagedModel, find_model
from neura.stt.registry import UnknownSTTModelError, check_model_name
from neura.stt.scoring import normalized_words, word_error_rate
from tests.stt.samples import RATE_HZ, SENTENCES, spoken, with_noise


@pytest.mark.parametrize(("voice", "max_wer"), [("piper", 0.08), ("espeak", 0.2)])
def test_both_voices_are_transcribed(engine: STTEngine, voice: str, max_wer: float) -> None:
    clips = [spoken(voice, text) for text in SENTENCES]
    texts = [engine.transcribe(c.samples, TranscribeOptions(language="en")).text for c in clips]
    wer = word_error_rate(SENTENCES, texts)
    print(f"\n{voice}: WER {wer:.1%}: {texts}")
    assert wer <= max_wer


def test_word_timings_follow_the_speech(engine: STTEngine) -> None:
    clip = spoken("piper", SENTENCES[1])
    transcript = engine.transcribe(clip.samples, TranscribeOptions(language="en"))
    heard = transcript.words
    assert [w.word.strip("?.,").lower() for w in heard] == normalized_words(SENTENCES[1])
    starts = [w.start_s for w in heard]
    assert starts == sorted(starts) and all(w.end_s >= w.start_s for w in heard)
    assert heard[-1].end_s <= transcript.duration_s + 0.01
    errors_ms = [abs(h.start_s - t.start_s) * 1000 for h, t in zip(heard, clip.words, strict=True)]
    print(f"\nword starts differ from Piper's by median {np.median(errors_ms):.0f} ms, max {max(errors_ms):.0f} ms")
    assert np.median(errors_ms) < 200
    assert all(0 < w.probability <= 1 for w in heard)


def test_telephone_audio_at_8khz_and_clipped_audio_are_transcribed(engine: STTEngine) -> None:
    clip = spoken("piper", SENTENCES[0])
    telephone = resample(resample(clip.samples, RATE_HZ, 8000), 8000, RATE_HZ)  # what 8 kHz keeps
    clipped = np.clip(clip.samples * 8.0, -0.5, 0.5)  # overdriven: most of the speech flattened
    assert np.mean(np.abs(clipped) >= 0.5) > 0.1
    for audio in (telephone, clipped):
        text = engine.transcribe(audio, TranscribeOptions(language="en")).text
        assert word_error_rate([SENTENCES[0]], [text]) <= 0.2, text


def test_speech_in_noise_at_10_db_is_still_mostly_heard(engine: STTEngine) -> None:
    clip = spoken("piper", SENTENCES[2])
    text = engine.transcribe(with_noise(clip.samples, 10.0), TranscribeOptions(language="en")).text
    assert word_error_rate([SENTENCES[2]], [text]) <= 0.25, text


def test_a_prompt_and_a_language_are_accepted_and_bad_ones_refused(engine: STTEngine) -> None:
    clip = spoken("piper", SENTENCES[0])
    transcript = engine.transcribe(clip.samples, TranscribeOptions(language="EN", prompt="James, Friday."))
    assert transcript.language == "en" and "James" in transcript.text
    with pytest.raises(UnsupportedLanguageError) as refused:
        engine.transcribe(clip.samples, TranscribeOptions(language="klingon"))
    assert isinstance(refused.value, InputError) and "language" in refused.value.message


def test_the_default_model_is_installed_and_known_names_resolve(stt_settings) -> None:  # type: ignore[no-untyped-def]
    installed = {m.name for m in list_stt_models(stt_settings)}
    assert stt_settings.stt_model in installed
    assert check_model_name(stt_settings, "whisper-1") == stt_settings.stt_model
    assert check_model_name(stt_settings, None) == stt_settings.stt_model
    with pytest.raises(UnknownSTTModelError) as unknown:
        check_model_name(stt_settings, "large-v9")
    assert stt_settings.stt_model in (unknown.value.hint or "")


def test_a_packaged_model_that_is_not_installed_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = PackagedModel("medium.en", (("neura-test-absent-model", "neura_test_absent_model"),), "m", "stt-x", 1)
    monkeypatch.setitem(PACKAGED, "medium.en", missing)
    with pytest.raises(EngineUnavailableError) as caught:
        find_model("medium.en", None)
    assert caught.value.exit_code == 69 and "neura[stt-x]" in (caught.value.hint or "")


def test_a_model_folder_of_ones_own(tmp_path, stt_settings) -> None:  # type: ignore[no-untyped-def]
    source = find_model("base", None)
    own = tmp_path / "my-whisper"
    own.mkdir()
    for name, content in (source.files or {}).items():
        (own / name).write_bytes(content)
    for path in [] if source.files else list(source.folder.iterdir()):
        (own / path.name).write_bytes(path.read_bytes())
    (tmp_path / "incomplete").mkdir()
    (tmp_path / "incomplete" / "model.bin").write_bytes(b"x")  # no config, no tokenizer: not a model
    settings = stt_settings.model_copy(update={"stt_model_dir": tmp_path})
    names = {m.name: m for m in list_stt_models(settings)}
    assert "my-whisper" in names and "incomplete" not in names
    assert names["my-whisper"].source == str(own)
    engine = create_stt(settings, "my-whisper", threads=1)
    assert engine.model.name == "my-whisper"
    clip = spoken("piper", SENTENCES[1])
    assert word_error_rate([SENTENCES[1]], [engine.transcribe(clip.samples).text]) <= 0.1


def test_a_damaged_model_folder_is_engine_unavailable(tmp_path, stt_settings) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        (broken / name).write_bytes(b"not a model")
    settings = stt_settings.model_copy(update={"stt_model_dir": tmp_path})
    with pytest.raises(EngineUnavailableError):
        create_stt(settings, "broken", threads=1)
