"""Settings: the only module that reads the environment.

Values come from the process environment, then ``.env.local`` in the working directory, then the
defaults below (which are meant for a laptop: ``ENV=local``). Everything else receives a
:class:`Settings` (or the part of it that it needs) as an argument.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from neura.providers import ProviderTable, UnknownProviderError

Env = Literal["local", "test", "staging", "production"]


LOCAL_SECRET = "neura-local-development-secret-change-me"
METRICS_TOKEN_MIN_CHARS = 24


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "neura"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env.local", env_file_encoding="utf-8", extra="ignore")

    # --- the original spec's keys
    env: Env = Field("local", alias="ENV")
    postgres_db: str = Field("neura", alias="POSTGRES_DB")
    postgres_user: str = Field("neura", alias="POSTGRES_USER")
    postgres_password: str = Field("", alias="POSTGRES_PASSWORD")
    redis_url: str = Field("redis://127.0.0.1:6379/0", alias="REDIS_URL")
    llm_provider: str = Field("auto", alias="LLM_PROVIDER")  # "auto" or a name of neura.llm.providers.LLM
    lmstudio_base_url: str = Field("http://localhost:1234/v1", alias="LMSTUDIO_BASE_URL")
    tts_provider: str = Field("piper", alias="TTS_PROVIDER")  # a name of neura.tts.providers.TTS

    # --- added by NEURA
    postgres_host: str = Field("127.0.0.1", alias="POSTGRES_HOST")
    postgres_port: int = Field(5432, alias="POSTGRES_PORT")
    lmstudio_model: str = Field("qwen/qwen3-vl-4b", alias="LMSTUDIO_MODEL")
    lmstudio_api_key: str = Field("lm-studio", alias="LMSTUDIO_API_KEY")
    gemini_api_key: str = Field("", alias="GEMINI_API_KEY")
    gemini_model: str = Field("gemini-2.5-flash", alias="GEMINI_MODEL")
    gemini_base_url: str = Field("", alias="GEMINI_BASE_URL")  # empty: Google's endpoint
    llm_timeout_s: float = Field(60.0, alias="LLM_TIMEOUT_S")
    llm_connect_timeout_s: float = Field(3.0, alias="LLM_CONNECT_TIMEOUT_S")
    tts_voice: str = Field("", alias="TTS_VOICE")  # a voice ("espeak:en-gb"); empty: TTS_PROVIDER's default
    xtts_model_dir: Path | None = Field(None, alias="XTTS_MODEL_DIR")
    stt_provider: str = Field("whisper", alias="STT_PROVIDER")  # a name of neura.stt.providers.STT
    stt_model: str = Field("base", alias="STT_MODEL")  # a packaged model or a folder name in STT_MODEL_DIR
    stt_model_dir: Path | None = Field(None, alias="STT_MODEL_DIR")  # CTranslate2 Whisper models of your own
    stt_max_duration_s: float = Field(600.0, gt=0, alias="STT_MAX_DURATION_S")  # longest recording transcribed
    cache_dir: Path = Field(default_factory=_default_cache_dir, alias="NEURA_CACHE_DIR")
    # avatar rendering (neura.render.providers): "auto" is torch where torch sees a CUDA device, else cpu
    render_backend: str = Field("auto", alias="RENDER_BACKEND")  # "auto" or a name of RENDERERS
    render_device: str = Field("auto", alias="RENDER_DEVICE")  # auto | cpu | cuda | cuda:<n>

    # --- platform (gateway, workers, storage)
    database_url: str = Field("", alias="DATABASE_URL")  # empty: built from POSTGRES_*
    secret_key: str = Field(LOCAL_SECRET, alias="NEURA_SECRET_KEY")  # signs JWTs and download URLs
    access_token_ttl_s: int = Field(900, alias="ACCESS_TOKEN_TTL_S")
    refresh_token_ttl_s: int = Field(30 * 86400, alias="REFRESH_TOKEN_TTL_S")
    download_url_ttl_s: int = Field(900, alias="DOWNLOAD_URL_TTL_S")
    public_base_url: str = Field("http://127.0.0.1:8000", alias="PUBLIC_BASE_URL")
    storage_backend: Literal["local", "s3"] = Field("local", alias="STORAGE_BACKEND")
    storage_dir: Path = Field(Path("var/storage"), alias="STORAGE_DIR")
    s3_endpoint_url: str = Field("", alias="S3_ENDPOINT_URL")
    s3_bucket: str = Field("neura", alias="S3_BUCKET")
    s3_access_key_id: str = Field("", alias="S3_ACCESS_KEY_ID")
    s3_secret_access_key: str = Field("", alias="S3_SECRET_ACCESS_KEY")
    s3_region: str = Field("us-east-1", alias="S3_REGION")
    max_upload_bytes: int = Field(10_000_000, alias="MAX_UPLOAD_BYTES")
    max_body_bytes: int = Field(1_000_000, alias="MAX_BODY_BYTES")
    rate_limit_per_minute: int = Field(120, alias="RATE_LIMIT_PER_MINUTE")
    script_drafts_per_minute: int = Field(10, alias="SCRIPT_DRAFTS_PER_MINUTE")  # POST /v1/scripts, per user
    login_max_failures: int = Field(20, alias="LOGIN_MAX_FAILURES")  # wrong passwords per account, any IP ...
    login_failure_window_s: int = Field(900, alias="LOGIN_FAILURE_WINDOW_S")  # ... in this window: then 429
    live_messages_per_minute: int = Field(20, alias="LIVE_MESSAGES_PER_MINUTE")  # per user: HTTP + data channel
    live_sessions_per_minute: int = Field(6, alias="LIVE_SESSIONS_PER_MINUTE")  # sessions opened, per user
    speech_per_minute: int = Field(30, alias="SPEECH_PER_MINUTE")  # tts, speech, transcriptions, align, streams
    tts_stream_messages_per_minute: int = Field(1200, alias="TTS_STREAM_MESSAGES_PER_MINUTE")  # per user
    files_per_minute: int = Field(300, alias="FILES_PER_MINUTE")  # signed downloads (Range requests) per client IP
    max_header_bytes: int = Field(32_768, alias="MAX_HEADER_BYTES")  # request line and headers together
    # an idle kept-alive connection is closed after this long: longer than any proxy's or client pool's own
    # idle timeout (Node's agents 5 s, load balancers 60 s), so the client closes first and never sends a
    # request on a connection the gateway is closing at that moment (a "socket hang up" 500 in the web app)
    http_keep_alive_s: float = Field(75.0, gt=0, alias="HTTP_KEEP_ALIVE_S")
    max_header_value_bytes: int = Field(8192, alias="MAX_HEADER_VALUE_BYTES")  # one header, name and value
    max_header_count: int = Field(100, alias="MAX_HEADER_COUNT")
    webhook_allow_loopback: bool = Field(False, alias="WEBHOOK_ALLOW_LOOPBACK")  # local development only
    metrics_token: str = Field("", alias="METRICS_TOKEN")  # set: /metrics answers this bearer token
    metrics_port: int = Field(0, alias="METRICS_PORT")  # set: neura serve exports metrics on this port only
    metrics_host: str = Field("127.0.0.1", alias="METRICS_HOST")  # ... bound to this interface
    signup_credits: int = Field(300, alias="SIGNUP_CREDITS")
    job_time_limit_s: int = Field(1800, alias="JOB_TIME_LIMIT_S")
    job_max_tries: int = Field(3, alias="JOB_MAX_TRIES")
    worker_concurrency: int = Field(1, alias="WORKER_CONCURRENCY")
    worker_heartbeat_s: float = Field(5.0, alias="WORKER_HEARTBEAT_S")
    script_concurrency: int = Field(16, ge=1, alias="SCRIPT_CONCURRENCY")  # prompt videos' scripts written at once
    # offline video encoding (neura.encode.plan): the H.264 encoder, and parallel segments on many cores
    video_encoder: Literal["auto", "libx264", "h264_nvenc"] = Field(
        "auto", alias="VIDEO_ENCODER"
    )  # auto: NVENC where it opens
    encode_segments: Literal["auto", "on", "off"] = Field("auto", alias="ENCODE_SEGMENTS")  # auto: many cores + long
    encode_workers: int = Field(0, ge=0, alias="ENCODE_WORKERS")  # segment encoder processes; 0: one per core but one
    encode_segment_s: float = Field(2.0, gt=0, alias="ENCODE_SEGMENT_S")  # rounded to whole keyframe intervals (2 s)
    worker_capabilities: str = Field("", alias="WORKER_CAPABILITIES")  # comma list of TTS engines; empty: all here
    role: Literal["api", "media", "all"] = Field("all", alias="NEURA_ROLE")  # what `neura serve` runs
    drain_timeout_s: float = Field(30.0, ge=0, alias="DRAIN_TIMEOUT_S")  # SIGTERM: finish work for this long
    drain_unready_s: float = Field(1.0, ge=0, alias="DRAIN_UNREADY_S")  # SIGTERM: /readyz false this long first
    capability_ttl_s: float = Field(15.0, gt=0, alias="CAPABILITY_TTL_S")  # advertised capabilities expire
    no_capacity_retry_after_s: int = Field(10, ge=1, alias="NO_CAPACITY_RETRY_AFTER_S")  # Retry-After of 503s
    webrtc_ice_servers: str = Field("", alias="WEBRTC_ICE_SERVERS")  # JSON list of RTCIceServer; empty: none

    # --- browsers (neura.gateway.browser)
    cors_origins: str = Field("", alias="CORS_ORIGINS")  # comma list of other origins' pages allowed; empty: none
    cookie_secure: bool = Field(True, alias="COOKIE_SECURE")  # false only with ENV=local (plain http on a LAN IP)

    # --- live avatar sessions (neura.live)
    webrtc_host_addresses: str = Field("", alias="WEBRTC_HOST_ADDRESSES")  # comma list; empty: all but loopback
    live_instance_id: str = Field("", alias="LIVE_INSTANCE_ID")  # empty: host name and process id
    live_internal_url: str = Field("", alias="LIVE_INTERNAL_URL")  # how other gateways reach this one
    live_max_sessions: int = Field(4, alias="LIVE_MAX_SESSIONS")  # per gateway instance
    live_idle_timeout_s: float = Field(300.0, alias="LIVE_IDLE_TIMEOUT_S")  # no message for this long: end
    live_peer_timeout_s: float = Field(5.0, alias="LIVE_PEER_TIMEOUT_S")  # a peer silent this long: end
    live_connect_timeout_s: float = Field(20.0, alias="LIVE_CONNECT_TIMEOUT_S")  # never connected: end
    live_billing_period_s: float = Field(60.0, alias="LIVE_BILLING_PERIOD_S")  # credits charged per started period
    live_context_tokens: int = Field(3000, alias="LIVE_CONTEXT_TOKENS")  # history budget (chars / 4)
    live_timezone: str = Field("UTC", alias="LIVE_TIMEZONE")  # the date and time the avatar knows
    live_heartbeat_s: float = Field(5.0, alias="LIVE_HEARTBEAT_S")
    live_first_clause_tts_threads: int = Field(2, alias="LIVE_FIRST_CLAUSE_TTS_THREADS")  # later clauses: 1
    # glibc malloc arenas of a gateway or worker process (neura.memory); 0: the C library's default
    malloc_arenas: int = Field(2, ge=0, alias="MALLOC_ARENAS")
    # the live avatar hears the user (docs/live.md, "Voice"); the speech recognition model is STT_MODEL
    live_voice: bool = Field(True, alias="LIVE_VOICE")  # false: sessions take text only (no model loaded)
    # CPU threads of one live decode. One: the decode shares the cores with the avatar's rendering and the
    # peer connections, and two threads that wait on each other lose more than they gain (bench/live_voice.py,
    # 2 cores: a final decode took 180-240 ms with one, 360 with two; end of speech -> first frame p50 582
    # against 703 ms)
    live_stt_threads: int = Field(1, ge=1, alias="LIVE_STT_THREADS")
    live_stt_beam_size: int = Field(5, ge=1, le=10, alias="LIVE_STT_BEAM_SIZE")  # of finals; 1: greedy, faster
    live_stt_partial_ms: int = Field(800, ge=200, alias="LIVE_STT_PARTIAL_MS")  # new speech between partials
    live_vad_threshold: float = Field(0.5, gt=0, lt=1, alias="LIVE_VAD_THRESHOLD")  # speech probability
    live_vad_min_speech_ms: int = Field(250, ge=0, alias="LIVE_VAD_MIN_SPEECH_MS")  # shorter sounds are ignored
    # voice this long holds the avatar (0: off): two of Silero's 32 ms frames. Three or four (100) held it
    # 64 ms later on every barge-in (bench/live_voice.py: 340 -> 261 ms p50); a sound that short and no longer
    # pauses the avatar for a moment (it plays on once the sound is not speech), it never cuts it
    live_vad_hold_ms: int = Field(64, ge=0, alias="LIVE_VAD_HOLD_MS")
    # silence after which the final is decoded early (kept when the pause lasts); 0: only at the end of the stretch
    live_stt_early_final_ms: int = Field(100, ge=0, alias="LIVE_STT_EARLY_FINAL_MS")
    live_vad_pause_ms: int = Field(200, ge=64, alias="LIVE_VAD_PAUSE_MS")  # silence that ends a stretch of speech
    live_turn_silence_ms: int = Field(500, ge=0, alias="LIVE_TURN_SILENCE_MS")  # a complete sentence, then this
    live_turn_incomplete_silence_ms: int = Field(1200, ge=0, alias="LIVE_TURN_INCOMPLETE_SILENCE_MS")  # "and ..."
    live_turn_complete_silence_ms: int = Field(300, ge=0, alias="LIVE_TURN_COMPLETE_SILENCE_MS")  # "...?" "...."
    live_turn_speculate: bool = Field(True, alias="LIVE_TURN_SPECULATE")  # reply during the silence, held back
    live_barge_in_ms: int = Field(1000, ge=0, alias="LIVE_BARGE_IN_MS")  # words this long over the avatar: cut it
    live_echo_correlation: float = Field(0.9, gt=0, le=1, alias="LIVE_ECHO_CORRELATION")  # input like the output

    # Provider names come from each family's table (neura/<family>/providers.py), imported here only
    # when a value is checked: those modules hold names and factories, and import no engine.
    @field_validator("llm_provider")
    @classmethod
    def _llm_provider_known(cls, value: str) -> str:
        from neura.llm.providers import AUTO, LLM

        return AUTO if value.strip().lower() == AUTO else _provider_name(LLM, value)

    @field_validator("tts_provider")
    @classmethod
    def _tts_provider_known(cls, value: str) -> str:
        from neura.tts.providers import TTS

        return _provider_name(TTS, value)

    @field_validator("stt_provider")
    @classmethod
    def _stt_provider_known(cls, value: str) -> str:
        from neura.stt.providers import STT

        return _provider_name(STT, value)

    @field_validator("render_backend")
    @classmethod
    def _render_backend_known(cls, value: str) -> str:
        from neura.render.providers import AUTO, RENDERERS

        return AUTO if value.strip().lower() == AUTO else _provider_name(RENDERERS, value)

    @field_validator("render_device")
    @classmethod
    def _render_device_known(cls, value: str) -> str:
        device = value.strip().lower()
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", device):
            raise ValueError(f"RENDER_DEVICE must be auto, cpu, cuda or cuda:<index>, not {value!r}")
        return device

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        auth = self.postgres_user + (f":{self.postgres_password}" if self.postgres_password else "")
        return f"postgresql+asyncpg://{auth}@{self.postgres_host}:{self.postgres_port}/{self.postgres_db}"

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip()]

    def check_production_secrets(self) -> None:
        """Refuse to serve outside ENV=local/test with a default or weak secret, and anywhere but
        ENV=local with cookies that travel over plain HTTP or CORS open to any origin."""
        if not self.cookie_secure and self.env != "local":
            raise ValueError(
                f"refusing to start with ENV={self.env}: COOKIE_SECURE=false is only allowed with ENV=local"
            )
        if "*" in self.cors_origin_list:
            raise ValueError("CORS_ORIGINS cannot be '*' (browser sessions send credentials): list the origins")
        if self.env in ("local", "test"):
            return
        problems = []
        if self.secret_key == LOCAL_SECRET or len(self.secret_key) < 32:
            problems.append("NEURA_SECRET_KEY must be set to a random value of at least 32 characters")
        if not self.postgres_password and not self.database_url:
            problems.append("POSTGRES_PASSWORD must be set")
        if self.storage_backend == "s3" and not self.s3_secret_access_key:
            problems.append("S3_SECRET_ACCESS_KEY must be set")
        if self.webhook_allow_loopback:
            problems.append("WEBHOOK_ALLOW_LOOPBACK is for local development only")
        if self.metrics_token and len(self.metrics_token) < METRICS_TOKEN_MIN_CHARS:
            problems.append(f"METRICS_TOKEN must be at least {METRICS_TOKEN_MIN_CHARS} characters")
        if problems:
            raise ValueError(f"refusing to start with ENV={self.env}: " + "; ".join(problems))

    @property
    def llm_chain(self) -> list[str]:
        """Providers to try in order: production prefers Gemini and falls back to LM Studio; elsewhere LM
        Studio comes first, then Gemini when GEMINI_API_KEY is set."""
        if self.llm_provider != "auto":
            return [self.llm_provider]
        if self.env == "production":
            return ["gemini", "lmstudio"]
        return ["lmstudio", "gemini"] if self.gemini_api_key.strip() else ["lmstudio"]


def _provider_name(table: ProviderTable[Any], value: str) -> str:
    """``value`` as a name of ``table`` (lower case), or the ValueError pydantic reports, with the choices."""
    try:
        return table.get(value).name
    except UnknownProviderError as exc:
        raise ValueError(f"{exc.message}: {exc.hint}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
