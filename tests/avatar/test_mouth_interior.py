"""The mouth interior: colours from the photo, and the fast atlas matching the reference painter."""

from __future__ import annotations

import numpy as np

from neura.avatar import AvatarRig
from neura.avatar.mouth_atlas import build_atlas, draw_interior
from neura.avatar.mouth_interior import coverage, draw_mouth_interior, interior_box

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def test_palette_is_dark_warm_with_bright_teeth(astronaut_rig: AvatarRig) -> None:
    palette = astronaut_rig.mouth_palette
    assert float(palette.cavity_dark @ LUMA) < 50 < float(palette.teeth @ LUMA)
    assert palette.cavity_dark[0] > palette.cavity_dark[2]  # warm, not grey or blue
    assert palette.tongue[0] > palette.tongue[1]


def test_atlas_matches_the_reference_painter(astronaut_rig: AvatarRig) -> None:
    rig = astronaut_rig
    atlas = build_atlas(rig.lip_points, rig.lip_motion, rig.teeth_points, rig.mouth_palette, rig.mouth_width_px)
    for opening in (0.3, 0.7, 1.0):
        coefs = np.array([1.0, opening, 0.0, 0.0, 0.0], np.float32)
        loop = (rig.lip_points + np.tensordot(coefs, rig.lip_motion, axes=1)).astype(np.float32)
        reference, fast = rig.image.copy(), rig.image.copy()
        draw_mouth_interior(reference, loop, rig.teeth_points, rig.mouth_palette, opening, rig.mouth_width_px)
        draw_interior(fast, loop, atlas, opening, 0.0)
        box = interior_box(loop, rig.image.shape)
        assert box is not None
        inside = coverage(loop, box) > 0.99
        x0, y0, x1, y1 = box
        diff = np.abs(reference[y0:y1, x0:x1].astype(int) - fast[y0:y1, x0:x1])[inside]
        assert diff.mean() < 10, opening
        assert np.array_equal(reference[:y0], rig.image[:y0]) and np.array_equal(fast[:y0], rig.image[:y0])
