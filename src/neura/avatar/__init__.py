"""The avatar from one photo: loading, face landmarks, the animation rig and idle motion.

    rgb = load_image(upload_bytes)                    # JPEG / PNG / WebP -> RGB, EXIF-rotated, guarded
    rig = build_avatar(rgb, size_px=512)              # ~0.3-1 s; cache it: rig.save(path) / AvatarRig.load(path)
    idle = IdleMotion(seed, size_px=rig.size_px)
    head = idle.head_pose(t_s, speaking=envelope)     # any t, any order: blinks, breath, head motion, brows

Frames come from :mod:`neura.render` (a renderer's ``stream(rig)``; see :mod:`neura.render.seam`).
"Left" and "right" (``HeadPose.blink_left``) are the subject's own: the left eye is on the image's right.
"""

from neura.avatar.face import FaceDetection, detect_faces
from neura.avatar.image import load_image
from neura.avatar.motion import IdleMotion, smooth_activity
from neura.avatar.rig import AvatarRig, RigLoadError, build_avatar, rig_cache_key

__all__ = [
    "AvatarRig",
    "FaceDetection",
    "IdleMotion",
    "RigLoadError",
    "build_avatar",
    "detect_faces",
    "load_image",
    "rig_cache_key",
    "smooth_activity",
]
