"""Rendering: avatar frames from a rig and poses (backends), and video frames from layouts.

    backend = get_backend("cpu")                                  # keep one; it is thread-safe
    layout = Layout.presenter_720p(background, avatar_size=rig.size_px, dynamic_roi=rig.roi)
    frame = backend.render(rig, mouth_pose, head_pose)            # RGB (size, size, 3), a new array
    i420 = layout.compose(frame, caption=subtitle, headline=scene_caption)  # (720 * 3 // 2, 1280)

Pass ``dynamic_roi=rig.roi`` so a layout converts only the part of the avatar that can change.
"""

from neura.render.backend import RenderBackend, available_backends, get_backend
from neura.render.cpu import CpuBackend
from neura.render.layout import Layout

__all__ = ["CpuBackend", "Layout", "RenderBackend", "available_backends", "get_backend"]
