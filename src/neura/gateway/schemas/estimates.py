"""What a video would cost, before it is submitted."""

from __future__ import annotations

from pydantic import BaseModel, Field

from neura.billing import credits_for_video
from neura.jobs.videos import SCRIPT_WORDS_PER_S, VideoQuote


class VideoEstimate(BaseModel):
    target_duration_s: float = Field(
        description=f"the length the video is sized for: a script's words at {SCRIPT_WORDS_PER_S:g} a second, "
        "or a prompt's duration_s"
    )
    credits_reserved: int = Field(description="what submitting it takes from your balance now (X-Credits-Charged)")
    credits_expected: int = Field(
        description="what it costs if it lasts target_duration_s: one credit per started second; the rendered "
        "length decides, and the unused part of the reservation comes back"
    )
    words: int | None = Field(description="a script's spoken words; null for a prompt")
    voice: str = Field(description="the voice that would speak it, as 'engine:voice'")
    balance: int = Field(description="your credits now")
    enough_credits: bool = Field(description="whether the balance covers credits_reserved (else 402)")
    plan: str
    max_video_s: int = Field(description="the plan's longest video")

    @classmethod
    def of(cls, quote: VideoQuote, *, voice: str, balance: int) -> VideoEstimate:
        return cls(
            target_duration_s=round(quote.target_duration_s, 2),
            credits_reserved=quote.credits_reserved,
            credits_expected=credits_for_video(quote.target_duration_s),
            words=quote.words,
            voice=voice,
            balance=balance,
            enough_credits=balance >= quote.credits_reserved,
            plan=quote.plan.name,
            max_video_s=quote.plan.max_video_s,
        )
