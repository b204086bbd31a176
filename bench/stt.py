"""Speech recognition on this machine: word error rate, speed and end-of-speech latency.

    PYTHONPATH=src .venv/bin/python bench/stt.py [--model base] [--threads 2] [--full-window] [--no-denoise]
        [--denoiser deepfilter|spectral] [--noise white|pink|babble] [--first N] [--limit N] [--no-streaming]

144 sentences in four sets of 36 (numbers, names, questions; set 1 is the original one, sets 2-4 were
added later: 36 alone gave too coarse a figure) are spoken by NEURA's own voices, Piper and espeak-ng,
with 0.5 s of silence around each, resampled to 16 kHz. Each is transcribed clean and with white noise at
10 dB SNR (relative to the speech's own power; seeded per set, so that set 1 hears the noise it
heard before sets 2-4 were added). The word error rate counts substitutions,
deletions and insertions over all reference words after both texts are spelled out the same way
(``neura.stt.scoring``).

* RTF: transcription wall time / audio time (whole clips, ``engine.transcribe`` with word timings);
  ``stt_cpu_rtf``: the CPU time of all threads over the audio time (less sensitive to a loaded machine).
* Streaming (clean clips, as the live mode will run it): audio goes through the voice activity
  detector in 32 ms frames and into a ``StreamingTranscriber``; a partial is decoded whenever 1 s
  of new audio came (its wall time is the partials' cost); at the detector's end-of-speech event the
  final transcript is decoded. ``final_ms``: time from the last audio to the final transcript (the
  decode itself); ``vad_end_ms``: how long after the last voiced frame the detector declared the end
  (its ``end_silence_ms``); ``end_to_final_ms`` = both, what a turn controller waits when it decodes
  only after the end is confirmed (decoding when the silence starts hides the decode behind the wait).

The machine's load average is printed: compare only quiet runs. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time
from collections import deque

import numpy as np

from neura.config import Settings
from neura.encode.audio import resample
from neura.stt import (
    SAMPLE_RATE_HZ,
    SpeechEnded,
    SpeechStarted,
    TranscribeOptions,
    VadConfig,
    VoiceActivityDetector,
    deepfilter,
)
from neura.stt.denoise import DENOISERS, denoised
from neura.stt.registry import create_stt
from neura.stt.scoring import word_error_rate
from neura.stt.whisper import load_whisper
from neura.tts import create_tts

SENTENCES = (
    "The meeting with Doctor Patel starts at half past three on Tuesday.",
    "How many apples did Maria buy at the market yesterday?",
    "Please send $42 to my brother James before Friday.",
    "Where did you park the car this morning?",
    "Olivia was born in 1998 in a small town near Boston.",
    "Can you remind me to call Michael at seven tonight?",
    "The train to Chicago leaves from platform nine in twenty minutes.",
    "What is the capital of Australia?",
    "Sophia scored ninety-five points on her final exam.",
    "We need three eggs, two cups of flour and a pinch of salt.",
    "Is it going to rain in London this weekend?",
    "David and Emma moved to Seattle last summer.",
    "The package weighs about 12 kilograms.",
    "Why is the sky blue during the day?",
    "Turn left at the second traffic light and drive for one mile.",
    "My phone battery dropped to 15% after lunch.",
    "Who painted the Mona Lisa?",
    "The concert tickets cost sixty dollars each.",
    "Could you book a table for four people at eight o'clock?",
    "Anna teaches mathematics at the university in Madrid.",
    "How long does it take to fly from Paris to New York?",
    "There are seven days in a week and twelve months in a year.",
    "Thomas fixed the broken window with a new piece of glass.",
    "What time does the library close on Sundays?",
    "The river flows for more than 3,000 kilometers.",
    "Please turn off the lights when you leave the kitchen.",
    "Did Robert finish the report before the deadline?",
    "The children planted five trees in the park on Saturday.",
    "Which team won the football match last night?",
    "Grace drinks two cups of coffee every morning.",
    "The hotel room on the fourth floor has a view of the ocean.",
    "Do you know where Kevin put the spare keys?",
    "Our flight was delayed by 45 minutes because of fog.",
    "Lucy wants to learn how to play the piano.",
    "How much does a ticket to the museum cost?",
    "The population of the city grew to two million people.",
)
MORE_SENTENCES = (  # three further sets of 36, added 2026-12-07: the first 36 alone gave too coarse a figure
    # set 2
    "The dentist moved my appointment to Thursday at ten.",
    "How far is the nearest gas station from here?",
    "Jessica paid $85 for the blue winter jacket.",
    "When does the next bus to the airport leave?",
    "Henry planted tomatoes and peppers in his garden.",
    "Could you send the invoice to Laura by Monday?",
    "The bridge was built in 1932 by a local company.",
    "What is the tallest mountain in Africa?",
    "We walked eight kilometers along the river on Sunday.",
    "Please lock the front door before you go to bed.",
    "Samuel bought three tickets for the evening show.",
    "Is the pharmacy open late on Wednesdays?",
    "The recipe needs one onion and four cloves of garlic.",
    "Why do cats sleep so much during the day?",
    "My sister lives in Toronto with her two dogs.",
    "The store closes at nine thirty tonight.",
    "Who wrote the novel Pride and Prejudice?",
    "Daniel ran the marathon in just under four hours.",
    "Can you turn the music down a little?",
    "The school has about 600 students and forty teachers.",
    "Where can I buy fresh bread in this neighborhood?",
    "Rachel forgot her umbrella at the office again.",
    "The temperature will drop to minus five degrees tonight.",
    "How many languages does your brother speak?",
    "Peter sold his old bicycle for thirty dollars.",
    "The museum is closed for repairs until next spring.",
    "Did Karen call the plumber about the leaking sink?",
    "Our team meets every Monday morning at nine.",
    "Which road goes to the beach from the station?",
    "The baby slept for six hours without waking up.",
    "Please write your name at the top of the page.",
    "Mark and Julia are getting married in June.",
    "What did you have for dinner last night?",
    "The factory produces 2,000 cars every month.",
    "Nobody knew the answer to the last question.",
    "Could you help me carry these boxes upstairs?",
    # set 3
    "Linda picked up the kids from school at four.",
    "How do you say thank you in Japanese?",
    "The bakery sells fresh croissants every morning until noon.",
    "George lost his wallet on the train to Manchester.",
    "Is there a parking lot behind the hospital?",
    "The printer on the second floor is out of paper.",
    "My grandmother turned ninety last week.",
    "Can you show me how to reset my password?",
    "The flight from Berlin lands at six fifteen.",
    "We painted the kitchen walls light green.",
    "Who is playing the guitar in the next room?",
    "Steven earns about $3,500 a month.",
    "The library has more than forty thousand books.",
    "When did you last visit your cousins in Texas?",
    "Put the milk back in the fridge, please.",
    "Natalie speaks French, Spanish and a little Italian.",
    "How long should I boil the eggs?",
    "The roof started leaking during the storm.",
    "Brian found a cheap apartment close to the university.",
    "What is the fastest way to get downtown?",
    "The doctor told me to drink more water.",
    "Our neighbors adopted a puppy named Charlie.",
    "Does this bus stop near the city hall?",
    "The meeting was moved to room 204.",
    "Helen reads a chapter of her book every night.",
    "Why did the company cancel the project?",
    "The garden needs water twice a week in summer.",
    "Please call me when you arrive at the hotel.",
    "Andrew bought a used car for eight thousand dollars.",
    "Which movie did you watch on Friday?",
    "The shop on the corner sells cheap shoes.",
    "It takes twenty minutes to walk to the station.",
    "Emily wrote a letter to her old teacher.",
    "Where did you learn to cook like that?",
    "The price of coffee went up again this year.",
    "Jack will pick you up at the airport tomorrow.",
    # set 4
    "Richard plays tennis with his son every Saturday.",
    "How much sugar do you take in your tea?",
    "The castle was built more than 700 years ago.",
    "Monica left her keys in the car again.",
    "Is the swimming pool open on holidays?",
    "The company hired fifteen new engineers in March.",
    "Could you spell your last name for me, please?",
    "The storm knocked down three trees on our street.",
    "Frank drove from Denver to Phoenix in one day.",
    "What kind of music do you like to listen to?",
    "The soup needs a little more salt and pepper.",
    "Victoria teaches piano lessons to young children.",
    "Our electricity bill was $120 last month.",
    "When will the new shopping center open?",
    "The cat is sleeping under the kitchen table.",
    "Please print two copies of the contract.",
    "Lisa runs five kilometers before breakfast.",
    "Who left the window open in the bedroom?",
    "The concert starts at half past eight.",
    "My uncle has worked at the bank for 25 years.",
    "Can we meet at the coffee shop near the park?",
    "The students visited the science museum on Thursday.",
    "How old was your father when he learned to swim?",
    "The hospital is about two miles north of here.",
    "Kate ordered a large pizza with extra cheese.",
    "Why is the traffic so bad this afternoon?",
    "The mountain road is closed because of snow.",
    "Tony fixed the old clock in the living room.",
    "Where should I put these empty bottles?",
    "The team practices three times a week.",
    "Alice found a twenty dollar bill on the sidewalk.",
    "Do you want to go hiking next weekend?",
    "The bus driver waited for the old man.",
    "A large dog was barking at the mailman.",
    "Our office moved to the ninth floor in January.",
    "What time should we leave for the wedding?",
)
SENTENCES += MORE_SENTENCES
NOISE_SEED = 20261206
SET_SIZE = 36  # sentences per set; set 1 is the original one (its figures compare with earlier runs)
VOICES = ("piper", "espeak")
PAD_S = 0.5
SNR_DB = 10.0
NOISES = ("white", "pink", "babble")
TUNING_SENTENCES = 12  # the suppressors' settings were tuned on the first 12 (--limit 12) only
FRAME = 512
VAD = VadConfig(end_silence_ms=500)
PREROLL_FRAMES = 20  # 0.64 s: more than min_speech_ms + 0.2 s
SPECULATE_AFTER_MS = 160  # silence after which the final is decoded, before the end is confirmed


def speak(settings: Settings, first: int, limit: int) -> list[tuple[str, str, np.ndarray]]:
    clips = []
    pad = np.zeros(int(PAD_S * SAMPLE_RATE_HZ), np.float32)
    for voice in VOICES:
        tts = create_tts(voice, settings)
        for text in SENTENCES[first:limit]:
            audio = np.concatenate([chunk.samples for chunk in tts.synthesize(text)])
            clips.append((voice, text, np.concatenate([pad, resample(audio, tts.sample_rate_hz, SAMPLE_RATE_HZ), pad])))
    return clips


def with_noise(
    clip: np.ndarray, rng: np.random.Generator, snr_db: float = SNR_DB, kind: str = "white", others: tuple = ()
) -> np.ndarray:
    """``clip`` with noise at ``snr_db`` below its speech's power: "white" (the target's definition),
    "pink" (power falling 3 dB an octave, like a fan or traffic) or "babble" (four sentences of
    ``others``, the other voice, spoken at once and looped: a room of talk)."""
    pad = int(PAD_S * SAMPLE_RATE_HZ)
    speech_power = float(np.mean(clip[pad:-pad] ** 2))
    if kind == "white":
        noise = rng.normal(0.0, 1.0, clip.size)
    elif kind == "pink":
        spectrum = np.fft.rfft(rng.normal(0.0, 1.0, clip.size))
        spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(clip.size, 1 / SAMPLE_RATE_HZ), 20.0))
        noise = np.fft.irfft(spectrum, clip.size)
    elif kind == "babble":
        talkers = [others[i] for i in rng.choice(len(others), 4, replace=False)]
        noise = sum((np.resize(np.roll(t, int(rng.integers(t.size))), clip.size) for t in talkers), np.zeros(clip.size))
    else:
        raise ValueError(f"unknown noise {kind!r}")
    noise = noise * np.sqrt(speech_power / 10 ** (snr_db / 10) / float(np.mean(noise**2)))
    return np.clip(clip + noise, -1.0, 1.0).astype(np.float32)


def per_set(refs: list[str], texts: list[str]) -> dict[int, float]:
    """The word error rate of each set of SET_SIZE sentences present (1: the original 36)."""
    sets: dict[int, list[tuple[str, str]]] = {}
    for ref, hyp in zip(refs, texts, strict=True):
        sets.setdefault(SENTENCES.index(ref) // SET_SIZE + 1, []).append((ref, hyp))
    return {k: round(word_error_rate(*zip(*pairs, strict=True)), 4) for k, pairs in sorted(sets.items())}


def batch(engine, clips, options) -> tuple[list[str], float, float]:  # type: ignore[no-untyped-def]
    texts, busy_s, audio_s = [], 0.0, 0.0
    for _, _, audio in clips:
        started = time.perf_counter()
        texts.append(engine.transcribe(audio, options).text)
        busy_s += time.perf_counter() - started
        audio_s += audio.size / SAMPLE_RATE_HZ
    return texts, busy_s, audio_s


def streamed(engine, audio: np.ndarray, options) -> dict[str, float | str]:  # type: ignore[no-untyped-def]
    """One utterance through the VAD and a StreamingTranscriber, the way a turn controller would run it:
    voiced audio is fed as it comes (from 0.2 s before the detector confirmed speech); silence inside
    speech is held back and fed only if speech goes on; after SPECULATE_AFTER_MS of silence the final
    is decoded at once, so that when the end is confirmed it is usually ready. Runs as fast as the
    CPU goes; times on the stream's clock assume the decodes run beside the audio (an executor)."""
    vad, stream = VoiceActivityDetector(VAD), engine.stream(options)
    recent: deque[tuple[float, np.ndarray]] = deque(maxlen=PREROLL_FRAMES)  # speech is confirmed late
    held: list[np.ndarray] = []
    partial_ms: list[float] = []
    vad_s, final_ms, final_cpu_ms = 0.0, 0.0, 0.0
    decoded_at_s: float | None = None  # stream time the kept final was started
    audio = np.concatenate([audio, np.zeros(SAMPLE_RATE_HZ, np.float32)])  # the silence that ends the turn
    for frames, i in enumerate(range(0, audio.size - FRAME + 1, FRAME), 1):
        frame = audio[i : i + FRAME]
        started = time.perf_counter()
        result = vad.process_frame(frame)
        vad_s += time.perf_counter() - started
        now_s = result.start_s + FRAME / SAMPLE_RATE_HZ
        if isinstance(result.event, SpeechStarted):  # from 0.2 s before the first voiced frame
            for start_s, earlier in recent:
                if start_s >= result.event.start_s - 0.2:
                    stream.feed(earlier)
        if isinstance(result.event, SpeechEnded):
            if decoded_at_s is None:  # no decode is pending for this audio: decode now
                started, started_cpu = time.perf_counter(), time.process_time()
                stream.final()
                final_ms, decoded_at_s = (time.perf_counter() - started) * 1000, now_s
                final_cpu_ms = (time.process_time() - started_cpu) * 1000
            final = stream.final()  # the kept transcript
            ready_s = max(now_s, decoded_at_s + final_ms / 1000)
            return {
                "text": final.text,
                "final_ms": final_ms,
                "final_cpu_ms": final_cpu_ms,
                "vad_end_ms": (now_s - result.event.end_s) * 1000,
                "end_to_final_ms": (ready_s - result.event.end_s) * 1000,
                "partials": len(partial_ms),
                "partial_ms": statistics.median(partial_ms) if partial_ms else 0.0,
                "partial_s": sum(partial_ms) / 1000,
                "speech_s": stream.duration_s,
                "vad_frame_ms": vad_s / frames * 1000,
            }
        if not result.speaking:
            recent.append((result.start_s, frame))
            continue
        if vad.silence_ms == 0:  # a voiced frame: the held pause belongs to the utterance
            for pause in held:
                stream.feed(pause)
            held.clear()
            stream.feed(frame)
            decoded_at_s = None
            if stream.partial_due():
                started = time.perf_counter()
                stream.partial()
                partial_ms.append((time.perf_counter() - started) * 1000)
            continue
        held.append(frame)
        if vad.silence_ms >= SPECULATE_AFTER_MS and decoded_at_s is None:
            for pause in held:  # a short trailing silence helps the model end the sentence
                stream.feed(pause)
            held.clear()
            started, started_cpu = time.perf_counter(), time.process_time()
            stream.final()
            final_ms, decoded_at_s = (time.perf_counter() - started) * 1000, now_s
            final_cpu_ms = (time.process_time() - started_cpu) * 1000
    raise RuntimeError("the detector never heard the utterance end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="a model name (default: STT_MODEL)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--full-window", action="store_true", help="encode whole 30 s windows (faster-whisper's way)")
    parser.add_argument("--beam", type=int, default=TranscribeOptions().beam_size, help="beam size of the decodes")
    parser.add_argument("--no-denoise", action="store_true", help="skip the noise suppression (neura.stt.denoise)")
    parser.add_argument("--denoiser", choices=DENOISERS, default=TranscribeOptions().denoiser, help="which suppressor")
    parser.add_argument("--attenuation-db", type=float, default=None, help="DeepFilterNet's attenuation limit")
    parser.add_argument("--noise", choices=NOISES, default="white", help="the noise added (the target: white)")
    parser.add_argument("--first", type=int, default=0, help="skip the first N sentences (a held-out split)")
    parser.add_argument("--no-fallback", action="store_true", help="no temperature fallback (greedy/beam only)")
    parser.add_argument("--only-noisy", action="store_true", help="skip the clean clips")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unfiltered noisy baseline")
    parser.add_argument("--no-streaming", action="store_true", help="skip the streaming measurement")
    parser.add_argument("--limit", type=int, default=len(SENTENCES), help="use only the first N sentences")
    args = parser.parse_args()
    settings = Settings()
    model = args.model or settings.stt_model
    started = time.perf_counter()
    if args.full_window:
        engine = load_whisper(model, model_dir=settings.stt_model_dir, threads=args.threads, full_window=True)
    else:
        engine = create_stt(settings, model, threads=args.threads)
    load_s = time.perf_counter() - started
    if args.attenuation_db is not None:
        deepfilter.ATTENUATION_LIMIT_DB = args.attenuation_db
    clips = speak(settings, args.first, args.limit)

    # each set's noise from its own seed, drawn for its Piper clips then its espeak ones: set 1 hears the
    # noise it heard before sets 2-4 were added
    others = {voice: tuple(a for v, _, a in clips if v != voice) for voice in VOICES}
    rngs: dict[int, np.random.Generator] = {}
    noisy = []
    for voice, text, audio in sorted(clips, key=lambda clip: SENTENCES.index(clip[1]) // SET_SIZE):
        k = SENTENCES.index(text) // SET_SIZE
        if k not in rngs:
            rngs[k] = np.random.default_rng(NOISE_SEED + k)
        noisy.append((voice, text, with_noise(audio, rngs[k], kind=args.noise, others=others[voice])))
    options = TranscribeOptions(
        language="en",
        beam_size=args.beam,
        denoise=not args.no_denoise,
        denoiser=args.denoiser,
        fallback=not args.no_fallback,
    )
    engine.transcribe(clips[0][2], options)  # warm up
    load_average = os.getloadavg()[0]

    results: dict[str, object] = {
        "model": model,
        "threads": args.threads,
        "beam": args.beam,
        "full_window": args.full_window,
        "denoise": not args.no_denoise,
        "denoiser": args.denoiser,
        "noise": args.noise,
        "fallback": not args.no_fallback,
    }
    busy_total = audio_total = 0.0
    started_cpu = time.process_time()
    for label, group in (("clean", clips), ("noisy", noisy))[1 if args.only_noisy else 0 :]:
        texts, busy_s, audio_s = batch(engine, group, options)
        busy_total, audio_total = busy_total + busy_s, audio_total + audio_s
        refs = [text for _, text, _ in group]
        results[f"wer_{label}"] = round(word_error_rate(refs, texts), 4)
        for voice in VOICES:
            pairs = [(r, h) for (v, _, _), r, h in zip(group, refs, texts, strict=True) if v == voice]
            results[f"wer_{label}_{voice}"] = round(word_error_rate(*zip(*pairs, strict=True)), 4)
        held_out = [(r, h) for r, h in zip(refs, texts, strict=True) if SENTENCES.index(r) >= TUNING_SENTENCES]
        if held_out:  # the sentences no setting was tuned on
            results[f"wer_{label}_held_out"] = round(word_error_rate(*zip(*held_out, strict=True)), 4)
        by_set = per_set(refs, texts)
        results.update({f"wer_{label}_set{k}": w for k, w in by_set.items()})
        print(
            f"{label:6} WER {results[f'wer_{label}']:.1%} (piper {results[f'wer_{label}_piper']:.1%}, "
            f"espeak {results[f'wer_{label}_espeak']:.1%}; by set of {SET_SIZE} sentences: "
            f"{', '.join(f'{w:.1%}' for w in by_set.values())}), RTF {busy_s / audio_s:.3f}",
            flush=True,
        )
        for (voice, ref, _), hyp in zip(group, texts, strict=True):
            if word_error_rate([ref], [hyp]) > 0:
                print(f"    {voice:6} {ref!r} -> {hyp!r}")
    if (
        options.denoise and not args.no_baseline
    ):  # the baseline, in the same run: the noisy clips as Whisper hears them unfiltered
        texts, _, _ = batch(engine, noisy, dataclasses.replace(options, denoise=False))
        results["wer_noisy_without_denoise"] = round(word_error_rate([t for _, t, _ in noisy], texts), 4)
        print(f"noisy  WER without noise suppression {results['wer_noisy_without_denoise']:.1%}", flush=True)
    results["stt_rtf"] = round(busy_total / audio_total, 4)
    results["stt_cpu_rtf"] = round((time.process_time() - started_cpu) / audio_total, 4)  # all threads summed

    if options.denoise:  # the suppressor's own cost, per utterance (CPU of all threads)
        costs = []
        for _, _, audio in noisy:
            started_cpu = time.process_time()
            denoised(audio, options.denoiser)
            costs.append((time.process_time() - started_cpu) * 1000)
        results["denoise_cpu_ms_p50"] = round(statistics.median(costs), 1)
        results["denoise_cpu_rtf"] = round(sum(costs) / 1000 / sum(a.size / SAMPLE_RATE_HZ for _, _, a in noisy), 4)
        print(f"suppressor: {results['denoise_cpu_ms_p50']} ms of CPU per utterance p50", flush=True)
    results.update(load_average_1min=round(load_average, 2), sentences=len(clips), cpus=os.cpu_count())
    if args.no_streaming:
        results["load_average_end"] = round(os.getloadavg()[0], 2)
        print(json.dumps(results))
        return

    first_set = [clip for clip in clips if SENTENCES.index(clip[1]) < SET_SIZE]  # as in earlier runs
    runs = [streamed(engine, audio, options) for _, _, audio in first_set]
    streamed_wer = word_error_rate([t for _, t, _ in first_set], [str(r["text"]) for r in runs])

    def p(key: str, q: float) -> float:
        values = sorted(float(r[key]) for r in runs)
        return round(values[min(len(values) - 1, int(q * len(values)))], 1)

    speech_s = sum(float(r["speech_s"]) for r in runs)
    results.update(
        final_ms_p50=p("final_ms", 0.5),
        final_ms_p95=p("final_ms", 0.95),
        final_cpu_ms_p50=p("final_cpu_ms", 0.5),
        vad_end_ms_p50=p("vad_end_ms", 0.5),
        end_to_final_ms_p50=p("end_to_final_ms", 0.5),
        end_to_final_ms_p95=p("end_to_final_ms", 0.95),
        partial_ms_p50=p("partial_ms", 0.5),
        partials_per_utterance=round(statistics.mean(float(r["partials"]) for r in runs), 2),
        partial_cpu_share=round(sum(float(r["partial_s"]) for r in runs) / speech_s, 3),
        utterance_s_p50=round(statistics.median(float(r["speech_s"]) for r in runs), 2),
        wer_streamed=round(streamed_wer, 4),
        vad_frame_ms=round(statistics.median(float(r["vad_frame_ms"]) for r in runs), 3),
        load_s=round(load_s, 2),
        load_average_end=round(os.getloadavg()[0], 2),
    )
    print(
        f"streaming: end of speech -> final transcript {results['end_to_final_ms_p50']} ms p50 / "
        f"{results['end_to_final_ms_p95']} ms p95 (VAD end +{results['vad_end_ms_p50']} ms; final decode "
        f"{results['final_ms_p50']} ms p50 / {results['final_ms_p95']} ms p95, "
        f"{results['final_cpu_ms_p50']} ms of CPU, all threads); "
        f"partials {results['partial_ms_p50']} ms each, "
        f"{results['partials_per_utterance']} per utterance, {results['partial_cpu_share']:.0%} of speech time; "
        f"VAD {results['vad_frame_ms']} ms per 32 ms frame; load {load_average:.2f}"
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
