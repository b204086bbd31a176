"""The offline video job: script -> avatar -> voice -> lip-synced frames -> MP4 (+ subtitles, sidecar).

The voice is synthesised sentence by sentence on a producer thread while this thread turns each finished
sentence into frames and hands them to the encoder, so TTS, rendering and x264 overlap. Each sentence
becomes one *segment*: its audio, then a pause, padded to a whole number of frames, so audio and video
stay aligned by construction however long the video is.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from neura import __version__
from neura.config import Settings
from neura.encode import build_cues, cue_at, save_thumbnail, write_srt, write_vtt
from neura.encode.plan import EncodePlan, VideoWriter, open_mp4_writer, plan_encoding
from neura.errors import OutputError
from neura.licenses import PROJECT_LICENSE, components_for
from neura.lipsync import mouth_track, stream_guard_s
from neura.media import PhonemeSpan, SpeechChunk, WordSpan
from neura.pipeline.control import CancelToken, ProgressCallback, StageTimer, no_progress
from neura.pipeline.request import RESOLUTIONS, RenderRequest, RenderResult
from neura.pipeline.sidecar import write_sidecar
from neura.pipeline.speech import SceneEnd, SpeechProducer
from neura.pipeline.stages import LoadedAvatar, prepare_avatar, prepare_layout, resolve_script
from neura.render.providers import create_renderer
from neura.render.seam import Renderer, SpeechTrack
from neura.script import Script
from neura.script.schema import Scene, first_sentence
from neura.tts import TTSEngine, create_tts

# Pauses, in seconds of video. Each sentence segment also opens with the lip-sync guard
# (lipsync.stream_guard_s, ~0.16 s at 25 fps) so the mouth can start to open before the first sound.
LEAD_IN_S = 0.3
SENTENCE_PAUSE_S = 0.12
SCENE_PAUSE_S = 0.55
TAIL_S = 0.5
# x264/AAC settings of every offline render (see encoder_options); bench/render.py's encode-only floor uses
# them with x264's automatic threading, the fastest encode.
ENCODER_OPTIONS: dict[str, Any] = {"crf": 23, "preset": "veryfast", "threads": 0, "audio_sample_rate_hz": 48000}
BATCH_FRAMES = 4  # avatar frames rendered per call of the renderer (a GPU backend batches them)
SINGLE_THREAD_MAX_PIXELS = 512 * 512
"""Frames this small are encoded on one x264 thread: one core keeps up with them (about 420 fps at
512x512), which leaves the other to the voice; frame threads only add overhead there (bench/render.py
at 512x512: 5.1-5.4 s in three runs against 5.6-6.0 s with automatic threads). 1280x720 needs x264's threads."""


def encoder_options(width: int, height: int) -> dict[str, Any]:
    """The x264/AAC settings a render of this size uses."""
    threads = 1 if width * height <= SINGLE_THREAD_MAX_PIXELS else ENCODER_OPTIONS["threads"]
    return {**ENCODER_OPTIONS, "threads": threads}


def encode_plan(settings: Settings, script: Script, tts: TTSEngine) -> EncodePlan:
    """How this render encodes (see :mod:`neura.encode.plan`); the script's length is estimated only
    where it matters (many cores)."""
    return plan_encoding(
        encoder=settings.video_encoder,
        segments=settings.encode_segments,
        workers=settings.encode_workers,
        segment_s=settings.encode_segment_s,
        expected_duration_s=lambda: script.word_count / tts.speaking_rate_wps(),
    )


BYTES_PER_VIDEO_S = 400_000  # generous upper bound for our x264 settings, used for the free-space check


def render_video(
    request: RenderRequest,
    settings: Settings,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
    tts: TTSEngine | None = None,
) -> RenderResult:
    """Render ``request`` to an MP4. Raises a :class:`neura.errors.NeuraError` on bad input; never
    leaves a partial file at ``request.output_path`` or beside it."""
    started = time.perf_counter()
    cancel = cancel or CancelToken()
    timer = StageTimer()
    output = request.output_path.expanduser().resolve()
    _check_output(output, request.duration_s)

    with timer.stage("script"):
        writing = request.prompt is not None and request.written_script is None and request.script_text is None
        progress("script", 0.0, "writing the script" if writing else "reading the script")
        tts = tts or create_tts(request.voice, settings)
        script_info = resolve_script(request, settings, tts)
        progress("script", 1.0, script_info.script.title)
    cancel.raise_if_cancelled()

    with timer.stage("avatar"):
        progress("avatar", 0.0, "finding the face")
        width, height = RESOLUTIONS[request.resolution]
        layout, avatar_px, layout_warnings = prepare_layout(request, width, height)
        renderer = create_renderer(settings)
        avatar = prepare_avatar(request, avatar_px, renderer, settings.cache_dir)
        progress("avatar", 1.0, f"{avatar_px} px avatar")
    cancel.raise_if_cancelled()

    created: list[Path] = []
    try:
        plan = encode_plan(settings, script_info.script, tts)
        result = _render_media(
            request, output, script_info.script, tts, renderer, avatar, layout, plan, timer, progress, cancel, created
        )
        result.warnings = script_info.warnings + layout_warnings + avatar.warnings
        if request.write_sidecar:
            with timer.stage("sidecar"):
                result.timings_s = dict(timer.seconds)
                result.sidecar_path = output.with_suffix(".json")
                result.sidecar = write_sidecar(
                    result.sidecar_path,
                    request=request,
                    result=result,
                    script_info=script_info,
                    voice=tts.voice,
                    avatar=avatar,
                    version=__version__,
                    project_license=PROJECT_LICENSE,
                    models=components_for(),
                )
                created.append(result.sidecar_path)
        result.timings_s = {**timer.seconds, "total": time.perf_counter() - started}
        progress("finish", 1.0, output.name)  # never the server's path: progress reaches API clients
        return result
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise


class _SegmentRenderer:
    """Turns segments (a sentence's audio and phonemes, then a pause) into frames and audio on the
    encoder, keeping video time, word timings and the mouth track for the subtitles and the sidecar."""

    def __init__(
        self,
        request: RenderRequest,
        renderer: Renderer,
        avatar: LoadedAvatar,
        layout: Any,
        writer: VideoWriter,
        sample_rate_hz: int,
        title: str | None = None,
    ) -> None:
        self.request = request
        self.title = title
        # the presenter layout shows the spoken sentence in its side column instead of the headline
        self.side_captions = request.burn_captions and getattr(layout, "caption_place", "bottom") == "side"
        self.sentence: str | None = None  # the sentence on screen (side captions), kept through pauses
        self.fps = request.fps
        self.renderer = renderer
        self.asset = avatar.asset
        self.stream = renderer.stream(self.asset, fps=self.fps, seed=request.seed, batch_frames=BATCH_FRAMES)
        self.layout = layout
        self.writer = writer
        self.sample_rate_hz = sample_rate_hz
        layout.dynamic_roi = self.asset.roi  # only the avatar's moving region is converted per frame
        self.n_frames = 0
        self.words: list[WordSpan] = []
        self.phonemes: list[PhonemeSpan] = []
        self.mouth: list[npt.NDArray[np.float32]] = []
        self.render_s = 0.0
        self.guard_s = stream_guard_s(self.fps)

    def pause(self, pause_s: float, headline: str | None, cancel: CancelToken) -> None:
        self.segment(SpeechChunk("", np.zeros(0, np.float32), self.sample_rate_hz), pause_s, headline, cancel)

    def segment(self, chunk: SpeechChunk, pause_s: float, headline: str | None, cancel: CancelToken) -> None:
        fps, rate = self.fps, self.sample_rate_hz
        start_frame = self.n_frames
        start_s = start_frame / fps
        lead_s = self.guard_s if len(chunk.samples) else 0.0
        lead = round(lead_s * rate)
        n_frames = max(1, math.ceil((lead / rate + chunk.duration_s + pause_s) * fps - 1e-9))
        n_samples = round((start_frame + n_frames) * rate / fps) - round(start_frame * rate / fps)
        audio = np.zeros(n_samples, dtype=np.float32)
        speech = chunk.samples[: max(0, n_samples - lead)]
        audio[lead : lead + len(speech)] = speech
        local_phonemes, _ = chunk.shifted(lead / rate)
        track = mouth_track(local_phonemes, chunk.alphabet, fps=fps, start_s=0.0, n_frames=n_frames)
        phonemes, words = chunk.shifted(start_s + lead / rate)
        words = _as_written(chunk.text, words)
        cues = build_cues(words) if self.request.burn_captions and not self.side_captions and words else []
        if self.side_captions and chunk.text.strip():
            self.sentence = chunk.text.strip()

        self.stream.push_speech(SpeechTrack(audio, rate, track.values), start_pts=start_frame)
        done = 0
        while done < n_frames:
            cancel.raise_if_cancelled()
            t0 = time.perf_counter()
            batch = self.stream.render_next(min(BATCH_FRAMES, n_frames - done))
            for frame in batch:
                t_s = frame.pts / fps
                cue = cue_at(cues, t_s) if cues else None
                caption = cue.text if cue is not None else self.sentence
                composed = self.layout.compose(
                    frame.image, caption=caption, headline=headline, title=self.title, copy=False
                )
                self.render_s += time.perf_counter() - t0
                self.writer.write_frame(composed)  # queued: x264 works on its own thread while we render on
                t0 = time.perf_counter()
            done += len(batch)
        self.writer.write_audio(audio, rate)
        self.n_frames += n_frames
        self.words.extend(words)
        self.phonemes.extend(phonemes)
        self.mouth.append(track.values)

    def still(self, headline: str | None = None) -> npt.NDArray[np.uint8]:
        """The thumbnail: the layout with the title and the headline, the face at rest (mouth closed
        and relaxed, eyes open, head upright)."""
        face = self.renderer.still(self.asset, seed=self.request.seed)
        return self.layout.compose_rgb(face, caption=None, headline=headline, title=self.title)


def _render_media(
    request: RenderRequest,
    output: Path,
    script: Script,
    tts: TTSEngine,
    renderer: Renderer,
    avatar: LoadedAvatar,
    layout: Any,
    plan: EncodePlan,
    timer: StageTimer,
    progress: ProgressCallback,
    cancel: CancelToken,
    created: list[Path],
) -> RenderResult:
    scenes = script.scenes
    total_words = max(1, script.word_count)
    words_done = 0
    options = encoder_options(layout.width, layout.height)
    writer = open_mp4_writer(output, plan, width=layout.width, height=layout.height, fps=request.fps, **options)
    with writer:  # from here on any failure discards the writer's temporary file
        segments = _SegmentRenderer(request, renderer, avatar, layout, writer, tts.sample_rate_hz, title=script.title)
        producer = SpeechProducer(tts, [scene.narration for scene in scenes], cancel)
        progress("render", 0.0, f"0/{len(scenes)} scenes")
        segments.pause(LEAD_IN_S, headline_of(scenes[0]), cancel)
        with producer:
            for item in producer:
                scene = scenes[item.scene_index]
                if isinstance(item, SceneEnd):
                    last = item.scene_index == len(scenes) - 1
                    segments.pause(TAIL_S if last else SCENE_PAUSE_S, headline_of(scene), cancel)
                else:
                    segments.segment(item.chunk, SENTENCE_PAUSE_S, headline_of(scene), cancel)
                    words_done += len(item.chunk.text.split())
                progress(
                    "render",
                    min(0.99, words_done / total_words),
                    f"{item.scene_index + 1}/{len(scenes)} scenes",
                )
    created.append(output)
    timer.add("encode", writer.busy_s)  # the encoder's busy time (over its processes), overlapping render and TTS
    timer.add("render", segments.render_s)
    timer.add("tts", producer.busy_s)
    progress("render", 1.0, f"{segments.n_frames} frames")

    result = RenderResult(
        output_path=output,
        duration_s=segments.n_frames / request.fps,
        n_frames=segments.n_frames,
        width=layout.width,
        height=layout.height,
        words=segments.words,
        phonemes=segments.phonemes,
        mouth=np.concatenate(segments.mouth),
    )
    with timer.stage("finish"):
        if request.write_subtitles and result.words:
            cues = build_cues(result.words)
            result.srt_path, result.vtt_path = output.with_suffix(".srt"), output.with_suffix(".vtt")
            write_srt(cues, result.srt_path)
            created.append(result.srt_path)
            write_vtt(cues, result.vtt_path)
            created.append(result.vtt_path)
        if request.write_thumbnail:
            result.thumbnail_path = output.with_suffix(".jpg")
            save_thumbnail(segments.still(headline_of(scenes[0])), result.thumbnail_path)
            created.append(result.thumbnail_path)
    return result


def headline_of(scene: Scene) -> str:
    """The scene's headline for the side column: its caption, or the whole first sentence when the
    caption is that sentence shortened (the column has room for it; the layout fits it)."""
    caption = scene.caption
    if caption.endswith("…"):
        first = first_sentence(scene.narration)
        if first.startswith(caption[:-1].rstrip()):
            return first
    return caption


def _as_written(text: str, spoken: list[WordSpan]) -> list[WordSpan]:
    """Subtitles read better as written ("It's 42%.") than as spoken ("its forty two percent"): when the
    sentence has as many written words as spoken ones, give each timing its written word."""
    written = text.split()
    if len(written) != len(spoken):
        return spoken
    return [WordSpan(word, w.start_s, w.end_s) for word, w in zip(written, spoken, strict=True)]


def _check_output(output: Path, duration_s: float) -> None:
    """Fail before any heavy work when the output cannot be written."""
    if output.suffix.lower() != ".mp4":
        raise OutputError(
            f"the output must be an .mp4 file, not '{output.name}'", fields={"output_path": output.stem + ".mp4"}
        )
    parent = output.parent
    if not parent.is_dir():
        raise OutputError(
            f"the output folder {parent} does not exist",
            hint="create it first, or choose another output path",
            fields={"output_path": None},
        )
    if output.is_dir():
        raise OutputError(f"{output} is a folder, not a file name")
    for sibling in (output.with_suffix(suffix) for suffix in (".json", ".srt", ".vtt", ".jpg")):
        if sibling.is_dir():
            raise OutputError(
                f"{sibling} is a folder: the render writes a file there",
                hint="choose another output path",
                fields={"output_path": None},
            )
    probe = parent / f".{output.name}.neura-write-test"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(
            f"cannot write to {parent}: {exc.strerror}", hint="choose another output path", fields={"output_path": None}
        ) from exc
    free_bytes = shutil.disk_usage(parent).free
    needed = int(max(duration_s, 30.0) * BYTES_PER_VIDEO_S)
    if free_bytes < needed:
        raise OutputError(
            f"not enough free space in {parent}: {free_bytes // 1_000_000} MB free, about "
            f"{needed // 1_000_000} MB needed",
            hint="free some space or write elsewhere",
        )
