#!/usr/bin/env bash
# Prepare what bench/gpu.py needs on a GPU machine that has torch but no PyAV, no ffmpeg and no network.
#
#   bench/gpu_wheels.sh            # here, with network: wheels into bench/.gpu/wheels (git-ignored)
#   then, on the GPU machine (the folder carried along with the working tree):
#   pip install --no-index --find-links bench/.gpu/wheels -r bench/.gpu/requirements.txt
#   PYTHONPATH=src python bench/gpu.py
#
# Wheels are for CPython 3.11 and 3.12 on x86_64 Linux (manylinux). Only what the benchmark imports
# is brought: PyAV (encoders, FFmpeg inside), pydantic and pydantic-settings (NEURA's settings),
# espeak-ng (a voice that needs no 63 MB model: the benchmark measures rendering and encoding, not
# the voice). NEURA itself runs from src/ (no install, none of its server dependencies).
# Everything together stays under the 64 MiB a device run may carry (about 50 MB of wheels, a few MB of
# assets, made with the CPU warp: the torch warp reads the same kind of asset).
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/.gpu
mkdir -p "$out/wheels"
requirements=(
  "av==18.1.0"
  "espeakng-loader==0.2.4"
  "pydantic>=2.7,<3"
  "pydantic-settings>=2.2,<3"
  "python-dotenv>=1"
)
printf '%s\n' "${requirements[@]}" > "$out/requirements.txt"
pip=${PIP:-.venv/bin/pip}
for python in 3.11 3.12; do
  "$pip" download --quiet --only-binary=:all: --dest "$out/wheels" \
    --python-version "$python" --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    "${requirements[@]}"
done
du -sh "$out/wheels"
# the avatar and its render assets (mediapipe finds the face here; the GPU machine has no mediapipe)
"${PYTHON:-.venv/bin/python}" bench/gpu.py --prepare --store "$out"
du -sh "$out"
