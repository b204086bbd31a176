"""The first words of an answer play before the model has written its first sentence, whatever the
sentence: the real gateway, a real aiortc client decoding what it receives, and the fake model writing
slowly (one word every half second) so that each step of the cut shows in the timing."""

from __future__ import annotations

from tests.fakes.openai_server import FakeOpenAIServer
from tests.live.peer_client import LivePeer

OPENER = "The main difference between these two approaches is cost."  # nine words before the full stop
TOKEN_S = 0.5
TTFT_S = 0.05


async def test_a_long_opener_is_heard_before_its_first_sentence_is_written(
    connected: tuple[LivePeer, str], openai_server: FakeOpenAIServer
) -> None:
    peer, _ = connected
    openai_server.behaviour.replies = [f"{OPENER} The cheaper one also needs less care."]
    openai_server.behaviour.ttft_ms = TTFT_S * 1000
    openai_server.behaviour.tokens_per_s = 1 / TOKEN_S
    mark = len(peer.messages)
    sent_s = peer.say("How do the two approaches differ?")
    await peer.wait_until(lambda: peer.speech_onset(sent_s) is not None, 10.0)
    heard_s = peer.speech_onset(sent_s)
    assert heard_s is not None

    # The model sends word k (from 0) TTFT_S + k * TOKEN_S after the request, which left after sent_s.
    sixth_word_complete_s = sent_s + TTFT_S + 6 * TOKEN_S  # " approaches" shows that "two" is whole
    sentence_written_s = sent_s + TTFT_S + 8 * TOKEN_S  # " cost."
    assert heard_s < sentence_written_s, "the first words waited for the whole first sentence"
    assert heard_s < sixth_word_complete_s, (
        f"first audio {heard_s - sent_s:.2f} s after the message: later than a six-word cut could give"
    )
    first = await peer.wait_for(lambda m: m["type"] == "transcript" and m["role"] == "avatar", after=mark)
    assert first["text"] == "The main difference"
    peer.send({"type": "interrupt"})
    await peer.wait_for(lambda m: m["type"] == "state" and m["state"] == "listening", after=mark)
