"""``UserText`` -> the model's answer as ``LLMText`` pieces, then ``LLMEnd``.

Cancelling this stage's task (what an interrupt does) closes the model's HTTP stream at once. A model
that fails is handled in the session: the error is reported and the avatar says a short sentence
instead, so the conversation goes on.
"""

from __future__ import annotations

import logging

from neura.errors import LLMError
from neura.live.conversation import Conversation
from neura.live.events import ErrorRaised, StageReached
from neura.live.frames import Frame, LLMEnd, LLMText, SpeakText, UserText
from neura.live.processor import Processor
from neura.llm import LLMProvider, closing_stream

log = logging.getLogger(__name__)

FALLBACK_SENTENCE = "Sorry, I can't answer that right now. Please try again in a moment."
MAX_TOKENS = 400  # a spoken answer; the persona asks for a few sentences


class LLMStage(Processor):
    def __init__(self, llm: LLMProvider, conversation: Conversation, *, temperature: float = 0.7) -> None:
        super().__init__()
        self.llm = llm
        self.conversation = conversation
        self.temperature = temperature

    async def process(self, frame: Frame) -> None:
        if not isinstance(frame, UserText):
            await self.push(frame)
            return
        await self.push(frame)
        messages = self.conversation.messages(frame.text)
        first = True
        try:
            stream = self.llm.stream_chat(messages, temperature=self.temperature, max_tokens=MAX_TOKENS)
            async with closing_stream(stream) as pieces:
                async for piece in pieces:
                    if first:
                        self.emit(StageReached(frame.turn_id, "llm_first_token"))
                        first = False
                    await self.push(LLMText(frame.turn_id, piece))
        except LLMError as error:
            log.warning("live turn %d: the language model failed: %s", frame.turn_id, error.message)
            self.emit(ErrorRaised(frame.turn_id, error))
            if first:  # nothing said yet: say why there is no answer
                await self.push(SpeakText(frame.turn_id, FALLBACK_SENTENCE, 0))
        await self.push(LLMEnd(frame.turn_id))
