"""The tracks' own encoders: VP8 on the render thread, Opus inline, handed to aiortc as packets.

aiortc encodes a track's frames itself, but in the default executor, one hop per frame (fifty a second
for audio alone), and with settings of its own. Encoding here instead puts a video frame's render and
encode in one executor job, keeps audio off the executor (20 ms of Opus costs about 0.1 ms), and lets
NEURA choose the VP8 settings. Measured on rendered avatar frames at 512x512 and 500 kbit/s, against
aiortc's settings (``cpu-used`` -6, denoiser on, no static threshold: 3.8 ms a frame, PSNR-Y 43.3 dB):
``cpu-used`` -12, no denoiser (rendered frames have no noise) and a static threshold of 500 take
2.0 ms a frame for 45.1 dB. aiortc sends the packets as they are (``RTCRtpSender`` packs an
``av.Packet`` without encoding it); keyframes come on the first frame and whenever the receiver asks
(PLI/FIR, see :func:`neura.live.peer.forward_keyframe_requests`). The bit rate is fixed: the
receiver's REMB estimates are not followed (fine on a LAN; a lossy network would want them).
"""

from __future__ import annotations

import fractions

import av
import numpy as np
import numpy.typing as npt
from av.video.frame import PictureType

AUDIO_RATE_HZ = 48_000
AUDIO_TIME_BASE = fractions.Fraction(1, AUDIO_RATE_HZ)
OPUS_BITRATE_BPS = 48_000  # mono speech
VP8_BITRATE_BPS = 500_000  # aiortc's default start rate; fixed (constant bit rate)
VP8_CPU_USED = -12
VP8_STATIC_THRESHOLD = 500  # skip blocks that barely change (the background, the shoulders)


class VideoEncoder:
    """VP8 for one track. Frames must come in order, from one thread at a time."""

    def __init__(self, *, bitrate_bps: int = VP8_BITRATE_BPS, cpu_used: int = VP8_CPU_USED) -> None:
        self.bitrate_bps = bitrate_bps
        self.cpu_used = cpu_used
        self._codec: av.VideoCodecContext | None = None

    def _open(self, width: int, height: int) -> av.VideoCodecContext:
        codec = av.CodecContext.create("libvpx", "w")
        assert isinstance(codec, av.VideoCodecContext)
        codec.width, codec.height = width, height
        codec.pix_fmt = "yuv420p"
        codec.bit_rate = self.bitrate_bps
        codec.gop_size = 3000  # keyframes on request, not on a timer
        codec.qmin, codec.qmax = 2, 56
        codec.thread_count = 1
        codec.options = {
            "bufsize": str(self.bitrate_bps),
            "cpu-used": str(self.cpu_used),
            "deadline": "realtime",
            "lag-in-frames": "0",
            "minrate": str(self.bitrate_bps),
            "maxrate": str(self.bitrate_bps),
            "noise-sensitivity": "0",  # rendered frames have no sensor noise: the denoiser only costs
            "overshoot-pct": "15",
            "partitions": "0",
            "static-thresh": str(VP8_STATIC_THRESHOLD),
            "undershoot-pct": "100",
        }
        return codec

    def encode(self, frame: av.VideoFrame, *, keyframe: bool) -> av.Packet | None:
        """The frame as one VP8 packet with the frame's pts and time base (None if the encoder held it)."""
        if self._codec is None or (self._codec.width, self._codec.height) != (frame.width, frame.height):
            self._codec = self._open(frame.width, frame.height)
            keyframe = True
        if keyframe:
            frame.pict_type = PictureType.I
        pts, time_base = frame.pts, frame.time_base  # the encoder rescales the frame's own
        data = b"".join(bytes(p) for p in self._codec.encode(frame))
        if not data:
            return None
        packet = av.Packet(data)
        packet.pts = pts
        if time_base is not None:
            packet.time_base = time_base
        return packet


class AudioEncoder:
    """Opus (mono, 48 kHz, 20 ms frames) for one track."""

    def __init__(self, *, bitrate_bps: int = OPUS_BITRATE_BPS) -> None:
        codec = av.CodecContext.create("libopus", "w")
        assert isinstance(codec, av.AudioCodecContext)
        codec.bit_rate = bitrate_bps
        codec.format = "s16"
        codec.layout = "mono"
        codec.sample_rate = AUDIO_RATE_HZ
        codec.time_base = AUDIO_TIME_BASE
        codec.options = {"application": "voip"}
        self._codec = codec

    def encode(self, pcm: npt.NDArray[np.int16], pts: int) -> av.Packet | None:
        """960 samples starting at timeline sample ``pts`` -> one Opus packet stamped ``pts``."""
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE_HZ
        frame.pts = pts
        frame.time_base = AUDIO_TIME_BASE
        packets = self._codec.encode(frame)
        if not packets:
            return None
        packet = packets[0]
        packet.pts = pts  # the encoder's look-ahead (6.5 ms) shifts its own stamps; the timeline's are the truth
        packet.time_base = AUDIO_TIME_BASE
        return packet
