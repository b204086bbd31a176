"""Join H.264 segments and one AAC track into one MP4 without re-encoding.

Each segment is a video-only MP4 that starts with a keyframe, encoded with the same settings as the
others (so one ``avcC`` describes them all); its packets keep their order and are shifted by the
segment's start time. The audio was encoded once for the whole video, so it has no seams. Packets of
the two streams are merged by decoding time, as a muxer that wrote them live would have interleaved
them, and the index goes first (faststart) as in every other MP4 NEURA writes.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
from av.container import InputContainer, OutputContainer
from av.packet import Packet
from av.stream import Stream

from neura.errors import EncoderError


def join_segments(segments: list[tuple[Path, int]], audio: Path | None, output: Path, fps: Fraction) -> None:
    """Write ``output`` from ``segments`` (each a video-only MP4 and its first frame's index) and the
    AAC track in ``audio`` (or none)."""
    inputs = [av.open(str(path)) for path, _ in segments]
    audio_input = av.open(str(audio)) if audio is not None else None
    try:
        _check_same_parameters(inputs, segments)
        with av.open(str(output), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            video = out.add_stream_from_template(inputs[0].streams.video[0])
            streams: list[Iterator[tuple[Fraction, int, Packet]]] = [
                _video_packets(inputs, [start for _, start in segments], fps, video)
            ]
            if audio_input is not None:
                sound = out.add_stream_from_template(audio_input.streams.audio[0])
                streams.append(_packets(audio_input, audio_input.streams.audio[0], sound, 1, 0))
            _mux_in_order(out, streams)
    finally:
        for container in [*inputs, *([audio_input] if audio_input is not None else [])]:
            container.close()


def _check_same_parameters(inputs: list[InputContainer], segments: list[tuple[Path, int]]) -> None:
    first = inputs[0].streams.video[0].codec_context
    for container, (path, _) in zip(inputs[1:], segments[1:], strict=True):
        ctx = container.streams.video[0].codec_context
        if (ctx.extradata, ctx.width, ctx.height) != (first.extradata, first.width, first.height):
            raise EncoderError(f"the video segment {path.name} was encoded with other parameters than the first")


def _video_packets(
    inputs: list[InputContainer], starts: list[int], fps: Fraction, target: Stream
) -> Iterator[tuple[Fraction, int, Packet]]:
    for container, start_frame in zip(inputs, starts, strict=True):
        stream = container.streams.video[0]
        assert stream.time_base is not None
        offset = round(start_frame / fps / stream.time_base)
        yield from _packets(container, stream, target, 0, offset)


def _packets(
    container: InputContainer, stream: Stream, target: Stream, order: int, offset: int
) -> Iterator[tuple[Fraction, int, Packet]]:
    """``(decoding time, stream order, packet)`` for each packet of ``stream``, shifted by ``offset``
    (in the stream's time base) and addressed to ``target``."""
    for packet in container.demux(stream):
        if packet.dts is None or packet.pts is None:  # the demuxer's empty end-of-stream packet
            continue
        packet.dts += offset
        packet.pts += offset
        assert packet.time_base is not None
        time_s = packet.dts * packet.time_base
        packet.stream = target
        yield time_s, order, packet


def _mux_in_order(out: OutputContainer, streams: list[Iterator[tuple[Fraction, int, Packet]]]) -> None:
    for _, _, packet in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
        out.mux(packet)
