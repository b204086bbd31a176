"""The mouth interior on rendered frames of two portraits: colours from the photo, teeth textured like
the photo's skin and drawn tooth by tooth, upper teeth fixed to the skull, lower teeth and tongue
carried by the jaw, the tongue tip raised for l/th."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from neura.avatar import AvatarRig, build_avatar
from neura.avatar import landmarks as lm
from neura.avatar.mouth_interior import LUMA, coverage, interior_box, photo_teeth_mask
from neura.media import HeadPose, MouthPose
from neura.render import CpuBackend
from neura.render.cpu import mouth_coefficients
from tests.portraits import PORTRAITS

CHEEKS = ((50, 101, 36, 205), (280, 330, 266, 425))
Mask = npt.NDArray[np.bool_]


@pytest.fixture(scope="module", params=sorted(PORTRAITS))
def portrait(request: pytest.FixtureRequest) -> tuple[str, AvatarRig]:
    return request.param, build_avatar(PORTRAITS[request.param](), size_px=512)


def _loop(rig: AvatarRig, mouth: MouthPose) -> npt.NDArray[np.float32]:
    coefs = np.array(mouth_coefficients(mouth), np.float32)
    return (rig.lip_points + np.tensordot(coefs, rig.lip_motion, axes=1)).astype(np.float32)


def _inside(rig: AvatarRig, mouth: MouthPose) -> Mask:
    """Frame pixels well inside the drawn lips (head at rest)."""
    loop = _loop(rig, mouth)
    box = interior_box(loop, rig.image.shape)
    assert box is not None
    x0, y0, x1, y1 = box
    mask = np.zeros(rig.image.shape[:2], bool)
    mask[y0:y1, x0:x1] = coverage(loop, box) > 0.99
    return cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def _upper_teeth(rig: AvatarRig, mouth: MouthPose) -> Mask:
    """Pixels of the upper teeth layer (opaque, head at rest) that show between the lips."""
    x0, y0, x1, y1 = rig.mouth_layer_box
    layer = np.zeros(rig.image.shape[:2], bool)
    layer[y0:y1, x0:x1] = rig.mouth_layers[3, ..., 3] == 255
    layer = cv2.erode(layer.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return layer & _inside(rig, mouth)


def _detail(frame: npt.NDArray[np.uint8], mask: Mask) -> float:
    """Fine texture: the spread of luminance around its local (σ 1.6 px) mean."""
    luma = (frame.astype(np.float32) @ LUMA).astype(np.float32)
    return float(np.std((luma - cv2.GaussianBlur(luma, (0, 0), 1.6))[mask]))


def _cheeks(rig: AvatarRig) -> Mask:
    mask = np.zeros(rig.image.shape[:2], np.uint8)
    for ring in CHEEKS:
        cv2.fillPoly(mask, [np.round(rig.landmarks[list(ring)]).astype(np.int32)], (1,))
    return mask.astype(bool)


def test_colours_come_from_the_photo(portrait: tuple[str, AvatarRig]) -> None:
    _, rig = portrait
    p = rig.mouth_palette
    assert float(p.cavity @ LUMA) < 50 < float(p.teeth @ LUMA)
    assert p.cavity[0] > p.cavity[2] and p.tongue[0] > p.tongue[1] and p.gum[0] > p.gum[1]  # warm, not grey
    skin = float(np.median(rig.image[_cheeks(rig)].astype(np.float32) @ LUMA))
    assert float(p.teeth @ LUMA) > 0.85 * skin  # lit like the face, not a painted grey


def test_teeth_are_textured_like_the_photo(portrait: tuple[str, AvatarRig]) -> None:
    name, rig = portrait
    aa = MouthPose(open=1.0)
    frame = CpuBackend().render(rig, aa, HeadPose())
    teeth = _upper_teeth(rig, aa)
    assert teeth.sum() > 150, name
    teeth_detail, skin_detail = _detail(frame, teeth), _detail(frame, _cheeks(rig))
    reference = skin_detail  # and where the photo shows its own teeth, their texture too
    own = cv2.erode(photo_teeth_mask(rig.image, rig.landmarks).astype(np.uint8), np.ones((3, 3), np.uint8))
    if own.sum() > 50:
        reference = max(reference, _detail(rig.image, own.astype(bool)))
    print(f"\n{name}: fine detail of teeth {teeth_detail:.2f}, of skin {skin_detail:.2f}, reference {reference:.2f}")
    assert 0.5 * skin_detail < teeth_detail < 2.5 * reference
    # tooth by tooth: the brightness across the teeth rises and falls (contacts, convex crowns)
    luma = frame.astype(np.float32) @ LUMA
    columns = [float(luma[teeth[:, x], x].mean()) for x in range(frame.shape[1]) if teeth[:, x].sum() >= 2]
    profile = np.asarray(columns) - cv2.GaussianBlur(np.asarray(columns, np.float32)[None], (0, 0), 4)[0]
    dips = int(np.sum((profile[1:-1] < profile[:-2]) & (profile[1:-1] < profile[2:]) & (profile[1:-1] < -1.0)))
    assert dips >= 4, (name, dips)


def _best_shift(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8], mask: Mask) -> tuple[int, int]:
    """The whole-pixel shift (dx, dy) that best lays ``b``'s masked texture over ``a``'s (each with its
    own brightness taken out): (0, 0) when nothing slid."""
    la, lb = (x.astype(np.float32) @ LUMA for x in (a, b))
    la, lb = la - cv2.GaussianBlur(la, (0, 0), 3), lb - cv2.GaussianBlur(lb, (0, 0), 3)
    ys, xs = np.nonzero(mask)
    scores = {
        (dx, dy): float(np.abs(la[ys, xs] - lb[ys + dy, xs + dx]).mean()) for dx in range(-3, 4) for dy in range(-3, 4)
    }
    return min(scores, key=lambda k: scores[k])


def test_upper_teeth_stay_with_the_skull_as_the_jaw_opens(portrait: tuple[str, AvatarRig]) -> None:
    name, rig = portrait
    backend = CpuBackend()
    frames = {o: backend.render(rig, MouthPose(open=o), HeadPose()) for o in (0.6, 0.8, 1.0)}
    both = _upper_teeth(rig, MouthPose(open=0.6)) & _upper_teeth(rig, MouthPose(open=1.0))
    assert both.sum() > 80
    for opening in (0.8, 1.0):  # only the lip's shadow and light change over them: nothing slides
        assert _best_shift(frames[0.6], frames[opening], both) == (0, 0), (name, opening)
        diff = np.abs(frames[opening].astype(int) - frames[0.6])[both]
        assert float(diff.mean()) < 25, (name, opening, float(diff.mean()))


def test_the_interior_moves_with_the_head(portrait: tuple[str, AvatarRig]) -> None:
    name, rig = portrait
    backend = CpuBackend()
    rest = backend.render(rig, MouthPose(open=1.0), HeadPose())
    moved = backend.render(rig, MouthPose(open=1.0), HeadPose(dx_px=3.0, dy_px=-2.0))
    inside = _inside(rig, MouthPose(open=1.0))
    ys, xs = np.nonzero(inside)
    shifted = moved[ys - 2, xs + 3].astype(int)
    assert float(np.abs(shifted - rest[ys, xs]).mean()) < 6, name
    assert float(np.abs(moved[ys, xs].astype(int) - rest[ys, xs]).mean()) > 2 * float(
        np.abs(shifted - rest[ys, xs]).mean()
    )


def test_lower_teeth_and_tongue_come_with_the_jaw(portrait: tuple[str, AvatarRig]) -> None:
    name, rig = portrait
    backend = CpuBackend()
    cavity = float(rig.mouth_palette.cavity @ LUMA)

    def lower_middle(opening: float) -> float:
        """Mean luminance of the lower third of the opening, in its middle."""
        frame = backend.render(rig, MouthPose(open=opening), HeadPose())
        inside = _inside(rig, MouthPose(open=opening))
        loop = _loop(rig, MouthPose(open=opening))
        centre_x = float(loop[:, 0].mean())
        ys, xs = np.nonzero(inside)
        top, bottom = ys.min(), ys.max()
        keep = (np.abs(xs - centre_x) < 0.25 * rig.mouth_width_px) & (ys > top + 0.6 * (bottom - top))
        return float((frame[ys[keep], xs[keep]].astype(np.float32) @ LUMA).mean())

    wide, narrow = lower_middle(1.0), lower_middle(0.5)
    print(f"\n{name}: lower middle of the opening {narrow:.0f} at open 0.5, {wide:.0f} at 1.0 (cavity {cavity:.0f})")
    assert wide > cavity + 25  # tongue and lower teeth fill the bottom of a wide-open mouth


def test_tongue_tip_rises_for_th(portrait: tuple[str, AvatarRig]) -> None:
    name, rig = portrait
    backend = CpuBackend()
    th = MouthPose(open=0.5, spread=0.1, tongue=1.0)
    down = backend.render(rig, MouthPose(open=0.5, spread=0.1), HeadPose())
    up = backend.render(rig, th, HeadPose())
    inside = _inside(rig, th)
    changed = np.abs(up.astype(int) - down)[inside].max(axis=1) > 20
    assert changed.sum() > 15, name
    redness = up[inside][changed].astype(np.float32)
    assert float((redness[:, 0] - redness[:, 1]).mean()) > 15  # the tongue is red, not teeth or cavity
    assert np.array_equal(backend.render(rig, MouthPose(close=1.0, tongue=1.0), HeadPose()),
                          backend.render(rig, MouthPose(close=1.0), HeadPose()))  # fmt: skip


def test_lip_landmarks_index_the_loop() -> None:
    assert lm.INNER_LIP_LOOP[5] == lm.UPPER_LIP_INNER_MID and lm.INNER_LIP_LOOP[15] == lm.LOWER_LIP_INNER_MID
