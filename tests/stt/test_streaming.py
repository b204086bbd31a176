"""Transcribing while the speaker speaks: partials before the end, a final equal to the batch result."""

from __future__ import annotations

import time

from neura.stt import STTEngine, TranscribeOptions
from neura.stt.scoring import normalized_words, word_error_rate
from tests.stt.samples import SENTENCES, spoken

FRAME = 512


def test_partials_come_while_speaking_and_the_final_matches_the_batch_transcript(engine: STTEngine) -> None:
    clip = spoken("piper", SENTENCES[2])
    options = TranscribeOptions(language="en")
    stream = engine.stream(options)
    partials = []
    for i in range(0, clip.samples.size, FRAME):
        stream.feed(clip.samples[i : i + FRAME])
        if stream.partial_due():
            partials.append((stream.duration_s, stream.partial()))
    assert len(partials) >= 2 and partials[0][0] < clip.speech_end_s - 1.0
    early = normalized_words(partials[0][1].text)
    assert early and early[0] == "the", partials[0][1].text  # the utterance's first word, heard early
    assert all(not p.words for _, p in partials)  # partials are quick: no word timings
    started = time.perf_counter()
    final = stream.final()
    final_s = time.perf_counter() - started
    batch = engine.transcribe(clip.samples, options)
    assert final.text == batch.text and final.words == batch.words
    assert word_error_rate([SENTENCES[2]], [final.text]) <= 0.1
    assert final.words and final.words[-1].end_s <= clip.samples.size / 16000
    again = time.perf_counter()
    assert stream.final() is final and time.perf_counter() - again < 0.01  # kept: nothing new to decode
    print(f"\n{len(partials)} partials; final in {final_s * 1000:.0f} ms for {stream.duration_s:.1f} s of audio")


def test_new_audio_after_a_final_is_decoded_again_and_reset_starts_over(engine: STTEngine) -> None:
    first, second = spoken("piper", SENTENCES[0]), spoken("piper", SENTENCES[1])
    stream = engine.stream(TranscribeOptions(language="en"))
    stream.feed(first.samples)
    before = stream.final()
    stream.feed(second.samples)
    after = stream.final()
    assert after is not before and word_error_rate([f"{SENTENCES[0]} {SENTENCES[1]}"], [after.text]) <= 0.25
    stream.reset()
    assert stream.duration_s == 0 and stream.last_partial is None and not stream.partial_due()
