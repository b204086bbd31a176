"""``neura users``: an operator manages accounts without SQL, and every change is a ledger entry.

Runs the real command line against the session's PostgreSQL; the accounts are made through the real API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from tests.platform.db import fetchval
from tests.platform.users import signup
from tests.platform.videos import balance

NEURA = [sys.executable, "-m", "neura.cli"]


def users(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "ENV": "test", "COLUMNS": "200"}
    return subprocess.run([*NEURA, "users", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def ledger_of(database_url: str, user_id: str) -> list[tuple[str, int, int, str]]:
    """(reason, delta, balance_after, note) of every ledger row of a user, oldest first."""
    rows = fetchval(
        database_url,
        "SELECT coalesce(json_agg(json_build_array(reason, delta, balance_after, note) ORDER BY id), '[]')"
        " FROM credit_ledger WHERE user_id = $1",
        uuid.UUID(user_id),
    )
    return [tuple(row) for row in json.loads(rows)]


def test_list_shows_email_plan_credits_and_created(client: httpx.Client, database_url: str, tmp_path: Path) -> None:
    user = signup(client)
    done = users(database_url, "list", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if user.email in line)
    assert " free " in line and " 300 " in line
    created = fetchval(
        database_url,
        "SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM users WHERE email = $1",
        user.email,
    )
    assert created in line
    assert "email" in done.stdout and "plan" in done.stdout and "credits" in done.stdout and "created" in done.stdout


def test_set_plan_changes_it_and_leaves_a_ledger_entry(client: httpx.Client, database_url: str, tmp_path: Path) -> None:
    user = signup(client)
    done = users(database_url, "set-plan", user.email.upper(), "pro", "--reason", "bench account", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"{user.email}: plan free -> pro" in done.stdout
    assert client.get("/v1/me", headers=user.headers).json()["plan"] == "pro"
    assert ledger_of(database_url, user.user_id)[-1] == ("plan", 0, 300, "free -> pro: bench account")


def test_grant_and_take_credits_each_with_a_ledger_entry(
    client: httpx.Client, database_url: str, tmp_path: Path
) -> None:
    user = signup(client)
    given = users(database_url, "grant-credits", user.email, "700", "--reason", "support ticket 12", cwd=tmp_path)
    assert given.returncode == 0, given.stderr
    assert "+700 credits, balance 1000" in given.stdout
    taken = users(database_url, "grant-credits", user.email, "-400", "--reason", "granted twice", cwd=tmp_path)
    assert taken.returncode == 0, taken.stderr
    assert "-400 credits, balance 600" in taken.stdout
    assert balance(database_url, user) == 600
    assert ledger_of(database_url, user.user_id)[-2:] == [
        ("operator", 700, 1000, "support ticket 12"),
        ("operator", -400, 600, "granted twice"),
    ]


def test_taking_more_than_the_balance_is_refused_and_changes_nothing(
    client: httpx.Client, database_url: str, tmp_path: Path
) -> None:
    user = signup(client)
    done = users(database_url, "grant-credits", user.email, "-301", "--reason", "too much", cwd=tmp_path)
    assert done.returncode == 65, done.stderr
    assert "below zero" in done.stderr and "take at most 300" in done.stderr
    assert balance(database_url, user) == 300
    assert [row[0] for row in ledger_of(database_url, user.user_id)] == ["grant"]  # the signup grant only


def test_mistakes_are_clear_and_change_nothing(client: httpx.Client, database_url: str, tmp_path: Path) -> None:
    user = signup(client)
    cases = [
        (["set-plan", user.email, "gold", "--reason", "x"], 65, "there is no plan 'gold'"),
        (["set-plan", "nobody-here@example.com", "pro", "--reason", "x"], 66, "no account with the email"),
        (["grant-credits", user.email, "0", "--reason", "x"], 65, "changes nothing"),
        (["grant-credits", user.email, "10", "--reason", "   "], 65, "a reason is recorded"),
        (["grant-credits", user.email, "10"], 2, "Missing option '--reason'"),
        (["grant-credits", "not-an-email", "10", "--reason", "x"], 65, "is not an email address"),
    ]
    for args, code, needle in cases:
        done = users(database_url, *args, cwd=tmp_path)
        assert done.returncode == code, (args, done.stderr)
        assert needle in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert client.get("/v1/me", headers=user.headers).json()["plan"] == "free"
    assert balance(database_url, user) == 300
