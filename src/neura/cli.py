"""The ``neura`` command line: a thin layer over the library.

Exit codes: 0 success, 1 unexpected failure, 2 bad usage, 65 bad input data (script, image, LLM
output, a recording without speech), 69 a service or engine is unavailable (LLM server, voice, speech
recognition model), 73 the output cannot be written,
130 cancelled (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from neura import __version__, limits
from neura.config import Settings, get_settings
from neura.errors import NeuraError
from neura.llm.providers import LLM
from neura.tts.providers import TTS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

app = typer.Typer(
    name="neura",
    help="NEURA: lifelike talking avatars. Render a lip-synced avatar video from a prompt or a script.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: no boxes, no "<bool>" type labels on flags
)
out = Console()
err = Console(stderr=True, soft_wrap=True)  # an error stays on one line, however narrow the terminal

STAGE_LABELS = {
    "script": "Script",
    "avatar": "Avatar",
    "render": "Voice + video",
    "finish": "Finishing",
}


def _show_version(value: bool) -> None:
    if value:
        out.print(f"neura {__version__}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", help="Print NEURA's version and exit.", is_eager=True, callback=_show_version),
    ] = False,
) -> None:
    """NEURA: lifelike talking avatars. Render a lip-synced avatar video from a prompt or a script."""


#: The flag for each request field an error can name (``NeuraError.fields``): hints are written for the
#: API and the command line alike, and only here do they become flags.
FIELD_FLAGS = {
    "script": ("--script", "FILE"),
    "duration_s": ("--duration", "SECONDS"),
    "llm": ("--llm", "PROVIDER"),
    "background": ("--background", "COLOUR"),
    "avatar": ("--avatar", "PHOTO"),
    "url": ("--url", "URL"),
    "output_path": ("-o", "FILE.mp4"),
}


def _flags(fields: dict[str, str | None]) -> str:
    """``--script FILE, --duration 60`` for the fields this command line has flags for."""
    shown = []
    for field, value in fields.items():
        if field in FIELD_FLAGS:
            flag, placeholder = FIELD_FLAGS[field]
            shown.append(f"{flag} {shlex.quote(value) if value is not None else placeholder}")
    return ", ".join(shown)


def _fail(exc: NeuraError) -> typer.Exit:
    """The one place where an error becomes what the user reads and the exit code."""
    err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
    flags = _flags(exc.fields)
    if exc.hint or flags:
        hint = f"{exc.hint} ({flags})" if exc.hint and flags else exc.hint or f"use {flags}"
        err.print(f"  [yellow]hint:[/] {hint}", highlight=False)
    return typer.Exit(exc.exit_code)


@app.command()
def render(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the MP4.")] = Path("neura.mp4"),
    prompt: Annotated[
        str | None,
        typer.Option(
            "--prompt",
            "-p",
            help=f"What the video should explain (at most {limits.PROMPT_MAX_CHARS:,} characters); an LLM writes "
            "the script.",
        ),
    ] = None,
    script: Annotated[
        Path | None,
        typer.Option(
            "--script",
            "-s",
            help="A text file to speak as is (no LLM). Blank lines separate scenes; '# Title' first. At most "
            f"{limits.SCRIPT_MAX_CHARS:,} characters of narration in {limits.SCRIPT_MAX_SCENES} scenes.",
        ),
    ] = None,
    duration: Annotated[
        float,
        typer.Option(
            "--duration",
            "-d",
            help="Target length in seconds (with --prompt; a script sets its own).",
            min=limits.DURATION_MIN_S,
            max=limits.DURATION_MAX_S,
        ),
    ] = limits.DURATION_DEFAULT_S,
    avatar: Annotated[
        Path | None,
        typer.Option(
            "--avatar",
            "-a",
            help=f"A front-facing photo (JPEG, PNG or WebP; at most {limits.megabytes(limits.PHOTO_MAX_BYTES)} and "
            f"{limits.PHOTO_MAX_PIXELS // 1_000_000} megapixels).",
        ),
    ] = None,
    resolution: Annotated[
        str, typer.Option("--resolution", "-r", help="720p (1280x720 presenter layout) or 512 (512x512).")
    ] = "720p",
    captions: Annotated[bool, typer.Option("--captions", help="Burn subtitles into the picture.")] = False,
    background: Annotated[
        str | None,
        typer.Option("--background", help="Background colour (#1e293b) or image, behind the 720p layout (not 512)."),
    ] = None,
    voice: Annotated[
        str | None,
        typer.Option(
            "--voice",
            "--tts",
            help=f"A voice id (neura voices) or an engine ({', '.join(TTS.names())}); default: TTS_VOICE.",
        ),
    ] = None,
    llm: Annotated[str | None, typer.Option("--llm", help=f"LLM provider: {', '.join(LLM.names())}.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for blinks and head motion.", min=0)] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Render a talking-avatar MP4 (plus .srt, .vtt, .jpg thumbnail and a .json sidecar).

    With neither --prompt nor --script, renders a short built-in demo with the built-in portrait.
    """
    from neura.pipeline import CancelToken, RenderRequest, render_video
    from neura.tts.voices import VoiceRef

    if prompt is not None and script is not None:
        err.print("[bold red]error:[/] give --prompt or --script, not both")
        raise typer.Exit(2)
    if resolution not in ("720p", "512"):
        err.print(f"[bold red]error:[/] unknown resolution '{resolution}': use 720p or 512")
        raise typer.Exit(2)
    settings = get_settings()
    try:
        script_text = _read_script(script) if script is not None else None
        request = RenderRequest(
            output_path=output,
            prompt=prompt,
            script_text=script_text,
            duration_s=duration,
            avatar=avatar,
            resolution=resolution,  # type: ignore[arg-type]
            burn_captions=captions,
            background=background,
            voice=VoiceRef.parse(voice) if voice is not None else None,
            llm_provider=llm,
            seed=seed,
        )
        cancel = CancelToken()
        with _progress(quiet) as report, _terminate_as_interrupt():
            try:
                result = render_video(request, settings, progress=report, cancel=cancel)
            except KeyboardInterrupt as stop:
                cancel.cancel()
                err.print("[yellow]cancelled[/]: no video was written")
                raise typer.Exit(143 if isinstance(stop, _Terminated) else 130) from None
    except NeuraError as exc:
        raise _fail(exc) from None
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    out.print(
        f"[bold green]✓[/] {result.output_path}  "
        f"({result.duration_s:.1f} s, {result.width}x{result.height}, "
        f"made in {result.timings_s['total']:.1f} s)",
        highlight=False,
    )
    for path in result.files[1:]:
        out.print(f"  {path}", highlight=False)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (kill, timeout, docker stop): stopped like Ctrl-C, so nothing partial is left behind."""


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    def stop(signum: int, frame: object) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _progress:
    """A rich progress bar with one row per pipeline stage, or nothing with ``--quiet``."""

    def __init__(self, quiet: bool) -> None:
        self._bar = Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[message]}"),
            TimeElapsedColumn(),
            console=err,
            disable=quiet,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _progress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)  # type: ignore[arg-type]

    def __call__(self, stage: str, fraction: float, message: str = "") -> None:
        if stage not in self._tasks:
            label = STAGE_LABELS.get(stage, stage)
            self._tasks[stage] = self._bar.add_task(label, total=1.0, message="")
        self._bar.update(self._tasks[stage], completed=max(0.0, min(1.0, fraction)), message=message[:48])


def _read_script(path: Path) -> str:
    from neura.errors import ScriptError

    try:
        return path.expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScriptError(f"script file not found: {path}") from None
    except UnicodeDecodeError:
        raise ScriptError(f"{path} is not a UTF-8 text file", hint="save the script as plain UTF-8 text") from None
    except OSError as exc:
        raise ScriptError(f"cannot read script {path}: {exc.strerror}") from None


@app.command()
def voices() -> None:
    """List the voices installed here (give an id to render --voice), with their licences."""
    from neura.tts import list_voices

    table = Table(box=None, pad_edge=False)
    table.add_column("id", no_wrap=True, style="bold")  # whole ids at any width: they are what you type
    table.add_column("engine", no_wrap=True)
    table.add_column("language", no_wrap=True)
    table.add_column("gender", no_wrap=True)
    table.add_column("licence (voice; engine)", overflow="fold")
    for voice in list_voices(get_settings()):
        licence = f"{voice.license}; engine {voice.engine_license}"
        table.add_row(voice.id, voice.engine, voice.language, voice.gender or "?", licence)
    out.print(table)


@app.command()
def licenses() -> None:
    """Every model and engine NEURA ships or loads, with its licence."""
    from neura.licenses import COMPONENTS, PROJECT_LICENSE

    out.print(f"NEURA itself: [bold]{PROJECT_LICENSE}[/]\n")
    table = Table("component", "kind", "licence", "package", "used for")
    for c in COMPONENTS:
        table.add_row(c.name, c.kind, c.license, c.package, c.used_for)
    out.print(table)


@app.command()
def transcribe(
    file: Annotated[Path, typer.Argument(help="A recording (WAV, MP3, Ogg/Opus, WebM, M4A, FLAC) or a video.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON: text, segments and every word's timing.", metavar="")
    ] = False,
    language: Annotated[
        str | None,
        typer.Option("--language", "-l", help="ISO 639-1 code of the speech (en, de); default: detected."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", "-m", help="Whisper model: base (default), tiny.en, or in STT_MODEL_DIR."),
    ] = None,
) -> None:
    """Transcribe a recording: the transcript on stdout (exit 65 when it holds no speech)."""
    import json

    from neura.stt import create_stt
    from neura.stt.base import TranscribeOptions, check_language
    from neura.stt.recordings import read_file, read_recording, transcribe_recording
    from neura.stt.registry import check_model_name

    settings = get_settings()
    try:
        engine = create_stt(settings, check_model_name(settings, model))
        options = TranscribeOptions(language=check_language(engine.model, language), word_timestamps=as_json)
        data = read_file(file)
        try:
            recording = read_recording(data, max_duration_s=settings.stt_max_duration_s)
        except NeuraError as exc:
            exc.message = f"{file}: {exc.message}"  # the file it is about, as image errors name theirs
            raise
        transcript = transcribe_recording(engine, recording, options)
    except NeuraError as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps(transcript.as_dict(), ensure_ascii=False) if as_json else transcript.text)


db_app = typer.Typer(help="Database migrations (PostgreSQL, Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from neura.db.migrate import upgrade

    url = _reachable_database(get_settings(), schema=False)
    try:
        upgrade(url, revision)
    except NeuraError as exc:
        raise _fail(exc) from None
    out.print(f"database at revision {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target revision ('base' empties it).")]) -> None:
    """Revert migrations down to REVISION."""
    from neura.db.migrate import downgrade

    url = _reachable_database(get_settings(), schema=False)
    try:
        downgrade(url, revision)
    except NeuraError as exc:
        raise _fail(exc) from None
    out.print(f"database at revision {revision}")


def _reachable_database(settings: Settings, *, schema: bool) -> str:
    """The database URL, once one connection to it worked (with ``schema``: and NEURA's tables are
    there); otherwise one line saying what is missing and how to fix it, exit 69."""
    import asyncio

    from neura.db.check import check_database

    url = settings.sqlalchemy_url
    try:
        asyncio.run(check_database(url, schema=schema))
    except NeuraError as exc:
        raise _fail(exc) from None
    return url


users_app = typer.Typer(
    help="Accounts without SQL: list them, change a plan, grant or take credits (each change is a ledger entry).",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")


def _with_database(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction on the configured database (checked first)."""
    import asyncio

    from neura.db.session import make_engine, make_sessionmaker, transaction

    url = _reachable_database(get_settings(), schema=True)

    async def run() -> T:
        engine = make_engine(url, pool_size=1)
        try:
            async with transaction(make_sessionmaker(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except NeuraError as exc:
        raise _fail(exc) from None


@users_app.command("list")
def users_list(
    limit: Annotated[int, typer.Option(help="Show at most this many, newest first.", min=1)] = 100,
) -> None:
    """Accounts, newest first: email, plan, credits, created."""
    from neura.accounts.admin import list_accounts

    accounts = _with_database(lambda session: list_accounts(session, limit=limit))
    table = Table("email", "plan", "credits", "created (UTC)")
    for account in accounts:
        created = account.created_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
        table.add_row(
            account.email + ("" if account.is_active else " (disabled)"), account.plan, str(account.credits), created
        )
    out.print(table)
    out.print(f"{len(accounts)} account(s)", highlight=False)


@users_app.command("set-plan")
def users_set_plan(
    email: Annotated[str, typer.Argument(help="The account's email.", metavar="EMAIL")],
    plan: Annotated[str, typer.Argument(help="; ".join(p.summary() for p in limits.PLANS.values()), metavar="PLAN")],
    reason: Annotated[str, typer.Option(help="Why: kept in the credit ledger.")],
) -> None:
    """Move an account to another plan."""
    from neura.accounts.admin import set_plan

    change = _with_database(lambda session: set_plan(session, email, plan, reason=reason))
    out.print(f"{change.email}: plan {change.before} -> {change.after} ({change.credits} credits)", highlight=False)


@users_app.command("grant-credits", context_settings={"ignore_unknown_options": True})
def users_grant_credits(
    email: Annotated[str, typer.Argument(help="The account's email.", metavar="EMAIL")],
    amount: Annotated[
        int, typer.Argument(help="Credits to give; negative to take some back (never below zero).", metavar="AMOUNT")
    ],
    reason: Annotated[str, typer.Option(help="Why: kept in the credit ledger.")],
) -> None:
    """Give credits to an account, or take some back."""
    from neura.accounts.admin import grant_credits

    change = _with_database(lambda session: grant_credits(session, email, amount, reason=reason))
    out.print(f"{change.email}: {change.delta:+d} credits, balance {change.balance}", highlight=False)


def _service_settings() -> Settings:
    """Settings for a long-running service; outside ENV=local/test, default secrets stop it (exit 78)."""
    settings = get_settings()
    try:
        settings.check_production_secrets()
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(78) from None  # EX_CONFIG
    return settings


class Role(str, Enum):
    api = "api"
    media = "media"
    all = "all"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Gateway processes on this port (live sessions: each opens a port of its own).", min=1)
    ] = 1,
    role: Annotated[
        Role | None,
        typer.Option(
            help="api: accounts, videos, events, files; forwards speech, avatars and live sessions to media "
            "processes (loads no engine). media: speech, avatars, live sessions. all: everything in one "
            "process. Default: NEURA_ROLE, else all.",
        ),
    ] = None,
) -> None:
    """Run the HTTP API gateway (OpenAPI docs at /docs). SIGTERM drains it: /readyz turns false, live
    sessions are told and finish their turn, requests in flight finish (DRAIN_TIMEOUT_S), then it exits."""
    import uvicorn

    from neura.gateway.listener import wants_own_port
    from neura.gateway.server import uvicorn_options

    settings = _service_settings()  # refuse early, before uvicorn starts its processes
    if role is not None:
        settings = settings.model_copy(update={"role": role.value})
        os.environ["NEURA_ROLE"] = role.value  # for the processes of --workers, which read the environment
    if workers > 1 and settings.live_max_sessions > 0 and settings.role != "api":
        # A live session lives in one process; the others forward its requests to that process's own
        # listener (a free port of LIVE_INTERNAL_URL's host), which the shared port cannot address.
        if not settings.live_internal_url:
            os.environ["LIVE_INTERNAL_URL"] = "http://127.0.0.1:0"
        elif not wants_own_port(settings.live_internal_url):
            err.print(
                f"[bold red]error:[/] with --workers {workers}, LIVE_INTERNAL_URL must end in port 0 "
                f"(each process opens its own port on that host), not {settings.live_internal_url}"
            )
            raise typer.Exit(78)  # EX_CONFIG
    if settings.metrics_port and workers > 1:
        err.print(
            f"[bold red]error:[/] METRICS_PORT exports one process's metrics; with --workers {workers} set "
            "METRICS_TOKEN instead (each scrape of /metrics then reads the process that answers it)"
        )
        raise typer.Exit(78)  # EX_CONFIG
    _reachable_database(settings, schema=True)  # configuration first (78), then the services it names (69)
    if settings.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port, addr=settings.metrics_host)
    options = {
        "host": host,
        "port": port,
        "log_level": "info",
        "timeout_graceful_shutdown": max(1, round(settings.drain_timeout_s)),
        **uvicorn_options(settings),
    }
    if workers > 1:  # uvicorn's supervisor: each process stops on SIGTERM after its requests in flight
        uvicorn.run("neura.gateway.app:app_from_environment", factory=True, workers=workers, **options)
        return
    from neura.gateway.app import create_app
    from neura.gateway.drain import DrainingServer

    gateway = create_app(settings, owns_process=True)
    server = DrainingServer(uvicorn.Config(gateway, **options), gateway)
    server.run()
    if not server.started:
        raise typer.Exit(3)  # uvicorn's own code for a server that could not start


@app.command()
def up(
    data_dir: Annotated[
        Path, typer.Option(help="Where the embedded PostgreSQL and Redis, stored files and logs live.")
    ] = Path("var/up"),
    host: Annotated[str, typer.Option(help="Interface the API and the web app listen on.")] = "127.0.0.1",
    api_port: Annotated[int, typer.Option(help="The API gateway's port.", min=1, max=65535)] = 8000,
    web_port: Annotated[int, typer.Option(help="The web app's port.", min=1, max=65535)] = 3000,
    web_dir: Annotated[
        Path | None, typer.Option(help="The web app (default: frontend/ here or in the NEURA checkout).")
    ] = None,
    web: Annotated[bool, typer.Option("--web/--no-web", help="Run the web app.")] = True,
) -> None:
    """Run the whole platform on this machine: PostgreSQL and Redis (embedded in --data-dir unless
    DATABASE_URL/POSTGRES_* and REDIS_URL are set), migrations, the API, a worker and the web app.
    Prints the URL to open; Ctrl-C stops everything."""
    from neura.up import UpOptions, run

    settings = _service_settings()
    options = UpOptions(
        data_dir=data_dir,
        host=host,
        api_port=api_port,
        web_port=web_port,
        web_dir=(web_dir or _default_web_dir()) if web else None,
    )
    try:
        run(settings, options, lambda line: out.print(line, highlight=False, soft_wrap=True))
    except NeuraError as exc:
        raise _fail(exc) from None


def _default_web_dir() -> Path:
    here = Path("frontend")
    if (here / "package.json").is_file():
        return here
    return Path(__file__).resolve().parents[2] / "frontend"  # a source checkout: <repo>/src/neura/cli.py


@app.command()
def worker(
    concurrency: Annotated[
        int | None, typer.Option(help="Renders at a time (default: WORKER_CONCURRENCY).", min=1)
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="Serve Prometheus metrics on this port of METRICS_HOST (default METRICS_PORT; 0: off).",
            min=0,
            max=65535,
        ),
    ] = None,
    capability: Annotated[
        list[str] | None,
        typer.Option(
            "--capability",
            help="A TTS engine whose renders this worker takes (repeat it; default: WORKER_CAPABILITIES, "
            "else every engine installed here). Each engine has its own queue.",
        ),
    ] = None,
) -> None:
    """Run a job worker: renders queued videos, delivers webhooks, recovers lost jobs.
    SIGTERM drains it: no new job, those running finish for up to DRAIN_TIMEOUT_S, the rest go back to the queue."""
    import asyncio

    from neura.cluster.local import parse_engines
    from neura.jobs.worker import run_worker

    settings = _service_settings()
    try:
        engines = parse_engines(capability or settings.worker_capabilities)
    except NeuraError as exc:
        _fail(exc)
        raise typer.Exit(2) from None  # bad usage: a flag or WORKER_CAPABILITIES
    _reachable_database(settings, schema=True)
    logging.getLogger("neura").setLevel(logging.INFO)
    port = settings.metrics_port if metrics_port is None else metrics_port
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, addr=settings.metrics_host)

    def ready(worker_id: str) -> None:
        err.print(f"neura worker {worker_id} ready (concurrency {concurrency or settings.worker_concurrency})")

    asyncio.run(run_worker(settings, concurrency or settings.worker_concurrency, engines=engines, on_ready=ready))


@app.command()
def live(
    say: Annotated[str | None, typer.Option("--say", help="What to say to the avatar (typed).")] = None,
    wav: Annotated[
        Path | None,
        typer.Option("--wav", help="Ask by voice: a recording (WAV, MP3...) sent as the microphone, in real time."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Save what the avatar answered (video + voice) as an MP4.")
    ] = None,
    url: Annotated[str, typer.Option(help="The NEURA gateway.")] = "http://127.0.0.1:8000",
    api_key: Annotated[
        str, typer.Option(envvar="NEURA_API_KEY", help="An API key (POST /v1/api-keys); or set NEURA_API_KEY.")
    ] = "",
    persona: Annotated[str | None, typer.Option(help="Who the avatar is (a system prompt).")] = None,
    voice: Annotated[str | None, typer.Option(help="Voice engine or id (GET /v1/voices).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the whole answer.", min=1)] = 60.0,
    host_address: Annotated[
        list[str] | None,
        typer.Option(help="This machine's WebRTC address (repeatable); 127.0.0.1 for a gateway on this machine."),
    ] = None,
) -> None:
    """Talk to a live avatar once over WebRTC, as a browser would: print its answer and latency figures,
    optionally save the answer as an MP4, then end the session. Ask by text (--say) or by voice (--wav)."""
    import asyncio

    from neura.live.client import FPS, ask, read_question

    if (say is None) == (wav is None):
        err.print("[bold red]error:[/] give either --say TEXT or --wav RECORDING")
        raise typer.Exit(2)

    if not api_key:
        err.print(
            "[bold red]error:[/] an API key is needed: --api-key or NEURA_API_KEY (create one: POST /v1/api-keys)"
        )
        raise typer.Exit(2)  # bad usage, like every other command

    def show(message: dict[str, object]) -> None:
        if message.get("type") == "state":
            err.print(f"[dim]{message.get('state')}[/]", highlight=False)
        elif message.get("type") == "error":
            err.print(f"[yellow]{message.get('code')}:[/] {message.get('message')}", highlight=False)

    try:
        speech = read_question(wav) if wav is not None else None
        reply = asyncio.run(
            ask(
                url,
                api_key,
                say,
                speech=speech,
                output=output,
                persona=persona,
                voice=voice,
                timeout_s=timeout,
                host_addresses=host_address,
                on_message=show,
            )
        )
    except NeuraError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if reply.heard:
        out.print(f"[bold]heard:[/] {reply.heard}", highlight=False)
    out.print(f"[bold]avatar:[/] {reply.transcript or '(nothing said)'}", highlight=False)
    stages = ("llm_first_token_ms", "first_audio_ms", "first_frame_sent_ms")
    figures = ", ".join(
        f"{k.removesuffix('_ms').replace('_', ' ')} {reply.latency_ms[k]:.0f} ms"
        for k in stages
        if k in reply.latency_ms
    )
    if figures:
        out.print(f"[dim]server: {figures}[/]", highlight=False)
    if reply.output is not None:
        out.print(f"[green]✓[/] {reply.output}  ({reply.video_frames / FPS:.1f} s)", highlight=False)


@app.command()
def openapi() -> None:
    """Print the gateway's OpenAPI schema (JSON), with no server, database or settings needed."""
    from neura.gateway.app import openapi_document

    _print_json(openapi_document())


@app.command()
def schemas() -> None:
    """Print the JSON Schema of the realtime messages (live data channel, TTS stream, video events)."""
    from neura.gateway.schemas.realtime import realtime_json_schema

    _print_json(realtime_json_schema())


def _print_json(document: object) -> None:
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


@app.command()
def version() -> None:
    """Print NEURA's version."""
    out.print(f"neura {__version__}", highlight=False)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
