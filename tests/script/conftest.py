"""The fake LLM servers (see tests/fakes/fixtures.py)."""

from tests.fakes.fixtures import *  # noqa: F403
