"""The voice input side without WebRTC: what counts as a turn, an echo or a back-channel; the avatar's
voice held and played on; the turn controller's decisions on a scripted stream of input frames."""

from __future__ import annotations

import numpy as np
import pytest

from neura.live.events import LiveEvent, SpeculativeReply, UserSpeech, VoiceBargeIn, VoiceTurn
from neura.live.frames import (
    Frame,
    HoldSpeech,
    HoldTurn,
    Interrupt,
    PlayTurn,
    ResumeSpeech,
    TimedSpeech,
    Transcript,
    TurnEnd,
    UserAudio,
    UserOnsetDropped,
    UserSpeechOnset,
    UserStartedSpeaking,
    UserStoppedSpeaking,
    UserText,
)
from neura.live.hearing import EchoGuard
from neura.live.processor import Processor
from neura.live.timeline import SAMPLES_PER_VIDEO_FRAME, SpeechOutput, SpeechTimeline
from neura.live.turn_taking import (
    TurnController,
    VoiceConfig,
    clearly_complete,
    is_backchannel,
    is_echo_of,
    is_speech,
    looks_complete,
)
from neura.live.turns import TurnCounter
from neura.render.seam import CLOSE_FRAMES
from tests.live.test_timeline import opening, video


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mm-hm.", True),
        ("Uh-huh, okay.", True),
        ("I see", True),
        ("Okay", True),
        ("Okay, but why?", False),
        ("Stop.", False),
        ("What about the whales?", False),
        ("", False),
    ],
)
def test_backchannels(text: str, expected: bool) -> None:
    assert is_backchannel(text) is expected


def test_what_is_speech_and_what_looks_finished() -> None:
    assert not is_speech("[coughs]") and not is_speech("(laughs) ...") and not is_speech(" . ")
    assert is_speech("Hello there")
    assert looks_complete("What is the weather in Paris?")
    assert not looks_complete("I would like to know about the") and not looks_complete("Tell me,")
    assert not looks_complete("apples and")


def test_the_avatars_own_words_are_an_echo() -> None:
    said = "Let me tell you about the sea. The ocean covers most of our planet."
    assert is_echo_of("the ocean covers most", said)
    assert not is_echo_of("what about the whales in the deep", said)
    assert not is_echo_of("the sea", said)  # too short to tell
    assert is_echo_of("Let me tell you about the scene.", said)  # misheard, still the avatar's words
    assert not is_echo_of("Tell me about the whales.", said)  # a question about the answer


def _envelope(samples: np.ndarray, start_s: float) -> list[tuple[float, float]]:
    pieces = samples[: samples.size // 960 * 960].reshape(-1, 960)
    return [(start_s + i * 0.02, float(np.sqrt(np.mean(p * p)))) for i, p in enumerate(pieces)]


def _speechlike(seed: int, seconds: float = 2.0) -> np.ndarray:
    """Noise shaped by a syllable-rate envelope (4-6 Hz), as speech's loudness moves."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 48_000)) / 48_000
    envelope = np.clip(np.sin(2 * np.pi * rng.uniform(3, 6) * t + rng.uniform(0, 6)), 0, None) ** 2
    envelope *= np.interp(t, np.linspace(0, seconds, 12), rng.uniform(0.2, 1.0, 12))
    return (0.2 * envelope * rng.normal(0, 1, t.size)).astype(np.float32)


def test_the_echo_guard_tells_the_avatars_voice_from_the_users() -> None:
    avatar = _speechlike(1)
    output = _envelope(avatar, 100.0)
    echo = EchoGuard(lambda: output)
    for t, level in _envelope(0.5 * avatar + np.random.default_rng(9).normal(0, 0.002, avatar.size), 100.3):
        echo.observe(t, level)
    assert echo.is_echo(100.8, 101.2)  # the avatar's voice, 300 ms later, at half the level

    user = EchoGuard(lambda: output)
    for t, level in _envelope(_speechlike(2), 100.3):
        user.observe(t, level)
    assert not user.is_echo(100.8, 101.2)

    quiet = EchoGuard(lambda: [(t, 0.0) for t, _ in output])  # the avatar silent: nothing is its echo
    for t, level in _envelope(avatar, 100.3):
        quiet.observe(t, level)
    assert not quiet.is_echo(100.8, 101.2)


def test_a_voice_after_a_silent_microphone_is_not_the_avatars_echo_whatever_its_envelope() -> None:
    """An echo path carries the avatar's voice whenever it is audible: a microphone that stayed silent
    while the avatar spoke has none, even when the user's words happen to follow its loudness (0.91
    was seen over a quarter of a second: "Wait," taken for an echo, the avatar spoke on)."""
    avatar = _speechlike(1, 3.0)
    output = _envelope(avatar, 99.0)  # the avatar has been speaking for 1.8 s when the user speaks
    user = EchoGuard(lambda: output)
    for t, level in _envelope(0.5 * avatar, 99.3):  # a voice whose loudness follows the avatar's, by chance
        user.observe(t, level if t >= 100.8 else 0.0005)  # before it, the microphone was silent
    assert not user.is_echo(100.8, 101.2)

    echo = EchoGuard(lambda: output)
    for t, level in _envelope(0.5 * avatar, 99.3):  # the same voice, heard all along: an echo
        echo.observe(t, level)
    assert echo.is_echo(100.8, 101.2)


def _speech(turn_id: int, seconds: float) -> TimedSpeech:
    frames = int(seconds * 25)
    return TimedSpeech(
        turn_id,
        "hello",
        0,
        np.full(frames * SAMPLES_PER_VIDEO_FRAME, 0.5, np.float32),
        np.full((frames, 5), 0.5, np.float32),
    )


def test_a_held_voice_plays_on_from_where_it_stopped() -> None:
    events: list[LiveEvent] = []
    stream = video()
    timeline = SpeechTimeline(events.append, stream)
    timeline.schedule(_speech(1, 1.0))
    timeline.end_turn(1)
    first = timeline.read_audio(0, 960 * 10)  # 200 ms played
    assert np.all(first == 0.5)
    timeline.hold()
    assert timeline.busy and timeline.held
    held = timeline.read_audio(960 * 10, 960 * 25)  # 500 ms on hold: silence, and the turn is not over
    assert np.all(held == 0) and not any(type(e).__name__ == "TurnPlayed" for e in events)
    assert [opening(stream) for _ in range(CLOSE_FRAMES + 2)][-1] == 0  # the mouth closed with the voice
    timeline.release()
    assert max(opening(stream) for _ in range(30)) == 0.5  # and speaks again with it
    rest = timeline.read_audio(960 * 35, 960 * 60)
    assert np.count_nonzero(rest) == 48_000 - 960 * 10  # the 800 ms left, nothing heard twice
    assert any(type(e).__name__ == "TurnPlayed" for e in events)


def test_a_cut_while_held_drops_what_was_held() -> None:
    timeline = SpeechTimeline(lambda event: None, video())
    timeline.schedule(_speech(1, 1.0))
    timeline.read_audio(0, 960 * 10)
    timeline.hold()
    timeline.cut()
    assert not timeline.held
    after = timeline.read_audio(960 * 10, 960 * 50)
    assert not np.any(after[120:]) and not timeline.busy  # a 2.5 ms fade, then nothing


class _Sink(Processor):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[Frame] = []

    async def queue_frame(self, frame: Frame) -> None:
        self.frames.append(frame)


def _controller(avatar_speaking: bool) -> tuple[TurnController, _Sink, list[LiveEvent]]:
    """Without speculation (the tests of it follow): the frames are the turn's decisions alone."""
    events: list[LiveEvent] = []
    config = VoiceConfig(speculate=False)
    controller = TurnController(TurnCounter(), lambda: avatar_speaking, config, avatar_text=lambda: "")
    sink = _Sink()
    controller.link(sink, events.append)
    return controller, sink, events


async def _silence(controller: TurnController, from_sample: int, seconds: float) -> None:
    for i in range(int(seconds * 50)):
        await controller.process(UserAudio(np.zeros(320, np.float32), from_sample + i * 320, 0.0, 0.0))


async def test_a_finished_sentence_ends_the_turn_after_the_silence() -> None:
    controller, sink, events = _controller(avatar_speaking=False)
    await controller.process(UserStartedSpeaking(0, 1.0))
    await controller.process(UserStoppedSpeaking(32_000, 3.0))
    await controller.process(Transcript("What is the weather today", True, 32_000, -0.2))  # no "?": 500 ms
    await _silence(controller, 32_000, 0.3)
    assert not [f for f in sink.frames if isinstance(f, UserText)]  # 300 ms: not yet
    await _silence(controller, 32_000 + 0.3 * 16_000, 0.3)
    assert [f for f in sink.frames if isinstance(f, UserText)] == [UserText(1, "What is the weather today")]
    turn = next(e for e in events if isinstance(e, VoiceTurn))
    assert turn.at_s == 3.0  # timed from the end of the speech


async def test_an_unfinished_sentence_waits_longer() -> None:
    controller, sink, _ = _controller(avatar_speaking=False)
    await controller.process(UserStartedSpeaking(0, 1.0))
    await controller.process(UserStoppedSpeaking(32_000, 3.0))
    await controller.process(Transcript("I would like to know about the", True, 32_000, -0.2))
    await _silence(controller, 32_000, 0.8)
    assert not [f for f in sink.frames if isinstance(f, UserText)]
    await controller.process(UserStartedSpeaking(48_000, 4.0))  # and goes on
    await controller.process(UserStoppedSpeaking(64_000, 5.0))
    await controller.process(Transcript("weather in Paris.", True, 64_000, -0.2))
    await _silence(controller, 64_000, 0.6)
    said = [f for f in sink.frames if isinstance(f, UserText)]
    assert said == [UserText(1, "I would like to know about the weather in Paris.")]


async def test_over_the_avatar_a_backchannel_is_held_then_resumed_and_a_question_cuts_in() -> None:
    controller, sink, events = _controller(avatar_speaking=True)
    await controller.process(UserStartedSpeaking(0, 1.0))
    assert isinstance(sink.frames[-1], HoldSpeech)  # silent at once
    await controller.process(UserStoppedSpeaking(9_000, 1.6))
    await controller.process(Transcript("Mm-hmm.", True, 9_000, -0.3))
    await _silence(controller, 9_000, 0.4)
    assert isinstance(sink.frames[-1], HoldSpeech)  # the user may go on: decided after a turn's silence
    await _silence(controller, 9_000 + 20 * 320, 0.2)
    assert isinstance(sink.frames[-1], ResumeSpeech)
    assert (1, False, True) in [(e.turn_id, e.speaking, e.ignored) for e in events if isinstance(e, UserSpeech)]

    await controller.process(UserStartedSpeaking(32_000, 3.0))
    await controller.process(UserStoppedSpeaking(64_000, 5.0))
    await controller.process(Transcript("Wait, how deep is it?", True, 64_000, -0.3))
    await _silence(controller, 64_000, 0.6)
    kinds = [type(f).__name__ for f in sink.frames]
    assert kinds[-3:] == ["HoldSpeech", "Interrupt", "UserText"]
    assert sink.frames[-2] == Interrupt("barge_in", 1) and sink.frames[-1] == UserText(2, "Wait, how deep is it?")
    assert [e.turn_id for e in events if isinstance(e, VoiceBargeIn)] == [2]


async def test_over_the_avatar_a_short_unsure_sound_is_not_a_turn() -> None:
    controller, sink, _ = _controller(avatar_speaking=True)
    await controller.process(UserStartedSpeaking(0, 1.0))
    await controller.process(UserStoppedSpeaking(14_000, 1.9))
    await controller.process(Transcript("and the macem.", True, 14_000, -0.9))  # Whisper spelling an "mm-hm"
    await _silence(controller, 14_000, 0.5)
    assert isinstance(sink.frames[-1], ResumeSpeech)
    assert not [f for f in sink.frames if isinstance(f, UserText | Interrupt)]


async def test_over_the_avatar_an_unsure_first_word_then_more_words_is_one_turn_without_a_resume() -> None:
    """ "Wait, tell me more...": the decoder is unsure of "Wait." (about -0.76) and its final comes back
    in the comma's pause, before the voice goes on; the avatar must not speak on in that moment."""
    controller, sink, _ = _controller(avatar_speaking=True)
    await controller.process(UserStartedSpeaking(0, 1.0))
    await controller.process(UserStoppedSpeaking(5_000, 1.3))
    await controller.process(Transcript("So.", True, 5_000, -0.8))
    await _silence(controller, 5_000, 0.3)
    await controller.process(UserStartedSpeaking(10_000, 1.6))
    await controller.process(UserStoppedSpeaking(40_000, 3.5))
    await controller.process(Transcript("tell me more about the squid.", True, 40_000, -0.3))
    await _silence(controller, 40_000, 0.6)
    assert not [f for f in sink.frames if isinstance(f, ResumeSpeech)]
    assert sink.frames[-2:] == [Interrupt("barge_in", 0), UserText(1, "So. tell me more about the squid.")]


def test_over_the_avatar_its_own_words_with_a_stopping_word_are_still_an_echo() -> None:
    said = "The deep ocean is dark, but most of it has never been explored."
    controller = TurnController(TurnCounter(), lambda: True, VoiceConfig(), avatar_text=lambda: said)
    assert controller._overheard_stretch("but most of it has never been explored", 48_000, -0.2)
    assert not controller._overheard_stretch("but what about the whales", 48_000, -0.2)


@pytest.mark.parametrize("said", ["Wait.", "Stop.", "Sorry?", "No, no."])
async def test_over_the_avatar_a_word_asking_it_to_stop_is_a_turn_however_unsure(said: str) -> None:
    controller, sink, _ = _controller(avatar_speaking=True)
    await controller.process(UserStartedSpeaking(0, 1.0))
    await controller.process(UserStoppedSpeaking(6_000, 1.4))
    await controller.process(Transcript(said, True, 6_000, -0.9))
    await _silence(controller, 6_000, 0.6)
    assert not [f for f in sink.frames if isinstance(f, ResumeSpeech)]
    assert sink.frames[-2:] == [Interrupt("barge_in", 0), UserText(1, said)]


def _speculating_controller(admitted: list[int]) -> tuple[TurnController, _Sink, list[LiveEvent]]:
    events: list[LiveEvent] = []

    async def admit() -> None:
        admitted.append(1)

    controller = TurnController(TurnCounter(), lambda: False, VoiceConfig(), avatar_text=lambda: "", admit=admit)
    sink = _Sink()
    controller.link(sink, events.append)
    return controller, sink, events


async def test_the_reply_starts_during_the_silence_and_plays_once_the_turn_is_confirmed() -> None:
    admitted: list[int] = []
    controller, sink, events = _speculating_controller(admitted)
    await controller.process(UserStartedSpeaking(0, 1.0))
    await controller.process(UserStoppedSpeaking(32_000, 3.0))
    await controller.process(Transcript("Tell me about whales", True, 32_000, -0.2))  # no full stop: 500 ms
    await _silence(controller, 32_000, 0.1)
    assert sink.frames == [HoldTurn(1), UserText(1, "Tell me about whales")]  # started, its speech held back
    assert not admitted and not [e for e in events if isinstance(e, VoiceTurn)]  # not a turn yet
    await _silence(controller, 32_000 + 1600, 0.5)
    assert sink.frames[2:] == [PlayTurn(1)]  # confirmed: heard, not asked twice
    assert admitted == [1]
    assert [e.text for e in events if isinstance(e, VoiceTurn)] == ["Tell me about whales"]


async def test_speaking_on_cancels_the_speculative_reply() -> None:
    admitted: list[int] = []
    controller, sink, events = _speculating_controller(admitted)
    await controller.process(UserStartedSpeaking(0, 1.0))
    await controller.process(UserStoppedSpeaking(32_000, 3.0))
    await controller.process(Transcript("I would like to know about the", True, 32_000, -0.2))
    await _silence(controller, 32_000, 0.2)
    assert sink.frames == [HoldTurn(1), UserText(1, "I would like to know about the")]
    await controller.process(UserStartedSpeaking(40_000, 3.5))  # the user goes on
    assert sink.frames[2] == Interrupt("speculation", 0)  # everything of the reply dropped, turn 1 still open
    assert [(e.turn_id, e.cancelled) for e in events if isinstance(e, SpeculativeReply)] == [(1, False), (1, True)]
    await controller.process(UserStoppedSpeaking(56_000, 4.5))
    await controller.process(Transcript("weather in Paris.", True, 56_000, -0.2))
    await _silence(controller, 56_000, 0.4)
    whole = "I would like to know about the weather in Paris."
    assert sink.frames[3:] == [HoldTurn(1), UserText(1, whole), PlayTurn(1)]
    assert admitted == [1]  # one turn charged: the cancelled reply was never admitted
    assert [e.text for e in events if isinstance(e, VoiceTurn)] == [whole]


async def test_a_clearly_finished_sentence_needs_a_shorter_silence() -> None:
    assert clearly_complete("What is the weather in Paris?") and clearly_complete("Stop!")
    assert clearly_complete("Tell me more.") and not clearly_complete("Wait.")  # "Wait, what about..."
    assert not clearly_complete("What is the weather in Paris") and not clearly_complete("Tell me about the.")
    assert not clearly_complete("Well...")
    config = VoiceConfig(complete_silence_ms=300, turn_silence_ms=500, speculate=False)
    controller = TurnController(TurnCounter(), lambda: False, config, avatar_text=lambda: "")
    sink = _Sink()
    controller.link(sink, lambda event: None)
    await controller.process(UserStartedSpeaking(0, 1.0))
    await controller.process(UserStoppedSpeaking(32_000, 3.0))
    await controller.process(Transcript("What is the weather in Paris?", True, 32_000, -0.2))
    await _silence(controller, 32_000, 0.26)
    assert not sink.frames  # no speculation when it is off
    await _silence(controller, 32_000 + 0.26 * 16_000, 0.06)
    assert sink.frames == [UserText(1, "What is the weather in Paris?")]


async def test_the_sink_keeps_a_speculative_turn_until_it_is_confirmed() -> None:
    events: list[LiveEvent] = []
    timeline = SpeechTimeline(events.append, video())
    output = SpeechOutput(timeline)
    await output.process(HoldTurn(1))
    await output.process(_speech(1, 0.5))
    await output.process(TurnEnd(1))
    assert output.kept == 2 and not timeline.busy
    assert not np.any(timeline.read_audio(0, 960 * 10))  # nothing heard before the confirmation
    await output.process(PlayTurn(1))
    assert timeline.busy and np.any(timeline.read_audio(960 * 10, 960 * 40))

    await output.process(HoldTurn(2))
    await output.process(_speech(2, 0.5))
    await output.process(Interrupt("speculation", 1))  # the user spoke on
    await output.process(PlayTurn(2))  # a stale confirmation places nothing
    assert output.kept == 0 and not np.any(timeline.read_audio(960 * 50, 960 * 40))
    await output.process(_speech(2, 0.5))  # the turn itself may still answer
    assert timeline.busy


async def test_voice_over_the_avatar_holds_it_before_it_is_confirmed_and_a_short_sound_plays_on() -> None:
    controller, sink, events = _controller(avatar_speaking=True)
    await controller.process(UserSpeechOnset(1.0))
    assert sink.frames == [HoldSpeech()]  # silent at once, 100 ms into the sound
    await controller.process(UserOnsetDropped(1.3))  # a cough: never speech
    assert sink.frames == [HoldSpeech(), ResumeSpeech()] and not events  # no turn, nothing said to the client

    await controller.process(UserSpeechOnset(2.0))
    await controller.process(UserStartedSpeaking(32_000, 2.0))  # confirmed: still held, not held twice
    assert sink.frames[2:] == [HoldSpeech()]
    await controller.process(UserStoppedSpeaking(64_000, 4.0))
    await controller.process(Transcript("Wait, how deep is it?", True, 64_000, -0.3))
    await _silence(controller, 64_000, 0.6)
    assert [type(f).__name__ for f in sink.frames[3:]] == ["Interrupt", "UserText"]


async def test_an_onset_while_the_avatar_is_silent_changes_nothing() -> None:
    controller, sink, _ = _controller(avatar_speaking=False)
    await controller.process(UserSpeechOnset(1.0))
    await controller.process(UserOnsetDropped(1.3))
    assert not sink.frames


async def test_voice_that_began_before_the_final_transcript_keeps_the_turn_open() -> None:
    """ "Wait, what about the whales?": the final decode of "Wait" comes back after the user spoke on,
    while that voice is not yet confirmed as speech; the audio since it began is not silence."""
    controller, sink, _ = _controller(avatar_speaking=False)
    await controller.process(UserStartedSpeaking(0, 1.0))
    await controller.process(UserStoppedSpeaking(8_000, 1.5))
    await _silence(controller, 8_000, 0.3)  # the comma's pause
    await controller.process(UserSpeechOnset(1.9))  # "what about..." begins
    await _silence(controller, 8_000 + 0.3 * 16_000, 0.4)  # (the decoder's view: past the 500 ms)
    await controller.process(Transcript("Wait", True, 8_000, -0.5))
    assert not [f for f in sink.frames if isinstance(f, UserText)]
    await controller.process(UserStartedSpeaking(12_800, 1.8))
    await controller.process(UserStoppedSpeaking(40_000, 3.5))
    await controller.process(Transcript("what about the whales?", True, 40_000, -0.3))
    await _silence(controller, 40_000, 0.4)
    assert [f for f in sink.frames if isinstance(f, UserText)] == [UserText(1, "Wait what about the whales?")]


async def test_a_sound_that_was_not_speech_lets_the_silence_end_the_turn() -> None:
    controller, sink, _ = _controller(avatar_speaking=False)
    await controller.process(UserStartedSpeaking(0, 1.0))
    await controller.process(UserStoppedSpeaking(32_000, 3.0))
    await controller.process(Transcript("What is the weather today", True, 32_000, -0.2))
    await controller.process(UserSpeechOnset(3.2))  # a click
    await _silence(controller, 32_000, 0.6)
    assert not [f for f in sink.frames if isinstance(f, UserText)]
    await controller.process(UserOnsetDropped(3.7))
    assert [f for f in sink.frames if isinstance(f, UserText)] == [UserText(1, "What is the weather today")]
