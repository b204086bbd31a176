"""The hostile-input corpus: broken, huge, odd and malicious inputs for every way into NEURA.

Each case is kept as a file (``files/``: texts a person could paste) or a generator (``images.py``,
``audio.py``: media made at test time, so no large binaries live in the repository), and says what
NEURA must answer. ``cases.py`` lists them; ``tests/platform/test_corpus.py`` sends every API case to
the real gateway and ``tests/test_cli_corpus.py`` gives the CLI cases to ``neura``. Whatever is
refused must be a 4xx (or a CLI error exit) with NEURA's error body, and must store and charge nothing.
"""
