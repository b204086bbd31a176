"""Per-turn latency figures and the session's statistics over them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from neura.live.events import Stage

REPORTED_STAGES: tuple[Stage, ...] = (
    "llm_first_token",
    "first_clause",
    "first_audio",
    "first_audio_sent",
    "first_frame_sent",
)
KEPT_TURNS = 100  # a session reports its latest turns; older ones only count in the totals


@dataclass
class Turn:
    turn_id: int
    user_text: str
    started_s: float  # monotonic time the message arrived
    stages_ms: dict[Stage, float] = field(default_factory=dict)
    spoken: list[str] = field(default_factory=list)
    interrupted: bool = False
    error: str | None = None
    finished: bool = False

    def reach(self, stage: Stage, at_s: float) -> bool:
        """Record the first time ``stage`` was reached; False if it already was."""
        if stage in self.stages_ms:
            return False
        self.stages_ms[stage] = round((at_s - self.started_s) * 1000.0, 1)
        return True

    @property
    def spoken_text(self) -> str:
        return " ".join(part for part in self.spoken if part)

    def as_dict(self) -> dict[str, Any]:
        return {
            "turn_id": self.turn_id,
            "user_text": self.user_text,
            "avatar_text": self.spoken_text,
            "latency_ms": {stage: self.stages_ms.get(stage) for stage in REPORTED_STAGES},
            "interrupted": self.interrupted,
            "error": self.error,
            "finished": self.finished,
        }


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


class TurnLog:
    """The latest turns and every stage's latencies (for p50/p95 over the whole session)."""

    def __init__(self) -> None:
        self.turns: list[Turn] = []
        self.count = 0
        self._samples: dict[Stage, list[float]] = {stage: [] for stage in REPORTED_STAGES}

    def start(self, turn: Turn) -> None:
        self.turns.append(turn)
        self.count += 1
        del self.turns[:-KEPT_TURNS]

    def get(self, turn_id: int) -> Turn | None:
        for turn in reversed(self.turns):
            if turn.turn_id == turn_id:
                return turn
        return None

    @property
    def current(self) -> Turn | None:
        return self.turns[-1] if self.turns and not self.turns[-1].finished else None

    def record(self, stage: Stage, value_ms: float) -> None:
        samples = self._samples[stage]
        samples.append(value_ms)
        del samples[:-10_000]

    def summary(self) -> dict[str, dict[str, float | None]]:
        return {
            stage: {"p50": percentile(values, 50), "p95": percentile(values, 95), "count": float(len(values))}
            for stage, values in self._samples.items()
        }


class TurnCounter:
    """Turn ids of one session, shared by typed messages and the voice turn controller (which takes
    its id when the user starts speaking)."""

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        self.last += 1
        return self.last
