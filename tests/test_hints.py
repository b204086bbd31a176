"""Hints reach API clients as well as the command line: no hint outside the CLI names a CLI flag. The
CLI turns the fields an error names into its flags, in one place."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import neura
from neura.errors import InputError, LLMUnavailableError, NeuraError

SRC = Path(neura.__file__).parent
FLAG = re.compile(r"(?:^|[\s(`'\"])-{1,2}[a-z][a-z-]*\b")  # --script, -o, `--duration`


def _strings(node: ast.AST, constants: dict[str, ast.AST]) -> list[str]:
    """Every string a hint expression can be made of (module constants it names included)."""
    found: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.append(sub.value)
        elif isinstance(sub, ast.Name) and sub.id in constants and constants[sub.id] is not node:
            found += _strings(constants[sub.id], {})
    return found


def _hints(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = {
        target.id: statement.value
        for statement in tree.body
        if isinstance(statement, ast.Assign)
        for target in statement.targets
        if isinstance(target, ast.Name)
    }
    hints: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg == "hint":
                    hints += [(node.lineno, text) for text in _strings(keyword.value, constants)]
    return hints


def test_no_hint_outside_the_cli_names_a_command_line_flag() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{line}: {text!r}"
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "cli.py"
        for line, text in _hints(path)
        if FLAG.search(text) and "pip install" not in text  # pip's own flags are an install command
    ]
    assert offenders == []


def test_the_checker_finds_a_flag_in_a_hint(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('HINT = "or pass --script"\nraise Error("x", hint=f"try {HINT}")\n')
    assert any(FLAG.search(text) for _, text in _hints(module))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            LLMUnavailableError("LM Studio is down", hint="give the script yourself", fields={"script": None}),
            "  hint: give the script yourself (--script FILE)",
        ),
        (
            InputError("the duration must be between 5 and 600", fields={"duration_s": "60"}),
            "  hint: use --duration 60",
        ),
        (InputError("bad background", fields={"background": "#1e293b"}), "  hint: use --background '#1e293b'"),
        (NeuraError("no hint at all"), None),
    ],
)
def test_the_cli_shows_its_flags_for_the_fields_an_error_names(
    error: NeuraError, expected: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    from neura.cli import _fail

    exit_ = _fail(error)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"error: {error.message}"
    assert lines[1:] == ([expected] if expected else [])
    assert exit_.exit_code == error.exit_code


def test_the_gateway_shows_the_hint_without_flags() -> None:
    """The same error through the HTTP error mapping: the hint as written, no flag."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from neura.gateway.errors import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)

    @app.post("/v1/videos")
    async def fail() -> None:
        raise LLMUnavailableError("LM Studio is down", hint="give the script yourself", fields={"script": None})

    with TestClient(app) as client:
        response = client.post("/v1/videos")
    assert response.status_code == 503
    assert response.json()["error"]["hint"] == "give the script yourself"
    assert "--" not in response.text
