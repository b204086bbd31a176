"""Plans and the credit ledger."""

from neura.billing.ledger import adjust, charge, give_back, grant, record_plan_change, refund, reserve, settle
from neura.billing.plans import (
    PLANS,
    Plan,
    credits_for_speech,
    credits_for_transcription,
    credits_for_video,
    credits_to_reserve,
    get_plan,
)

__all__ = [
    "PLANS",
    "Plan",
    "adjust",
    "charge",
    "credits_for_speech",
    "credits_for_transcription",
    "credits_for_video",
    "credits_to_reserve",
    "get_plan",
    "give_back",
    "grant",
    "record_plan_change",
    "refund",
    "reserve",
    "settle",
]
