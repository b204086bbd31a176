"""Encoding: MP4 (H.264 + AAC, faststart), subtitles (SRT/VTT), thumbnails, and a probe to read back."""

from neura.encode.background import BackgroundMp4Writer
from neura.encode.floor import encode_floor
from neura.encode.mp4 import Mp4Writer
from neura.encode.probe import MediaInfo, decode_audio, decode_frames, probe
from neura.encode.subtitles import Cue, build_cues, cue_at, to_srt, to_vtt, write_srt, write_vtt
from neura.encode.thumbnail import save_poster, save_thumbnail
from neura.encode.yuv import i420_planes, i420_shape, i420_to_rgb, rgb_to_i420

__all__ = [
    "BackgroundMp4Writer",
    "Cue",
    "MediaInfo",
    "Mp4Writer",
    "build_cues",
    "cue_at",
    "decode_audio",
    "decode_frames",
    "encode_floor",
    "i420_planes",
    "i420_shape",
    "i420_to_rgb",
    "probe",
    "rgb_to_i420",
    "save_poster",
    "save_thumbnail",
    "to_srt",
    "to_vtt",
    "write_srt",
    "write_vtt",
]
