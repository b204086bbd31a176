import type { Avatar } from "@/lib/avatars";

const PREVIEW_PX = 512; // the preview is the avatar's 512 px rig crop

/**
 * The avatar's portrait with the face NEURA detected outlined, when the gateway reports where it is
 * (face_box / face_outline in preview pixels); otherwise the portrait alone.
 */
export function FacePreview({ avatar }: { avatar: Avatar }) {
  const { face_box: box, face_outline: outline } = avatar;
  return (
    <figure className="face-preview">
      <svg
        viewBox={`0 0 ${PREVIEW_PX} ${PREVIEW_PX}`}
        role="img"
        aria-label={`${avatar.name}: the face found is ${avatar.face_px} px tall in the photo`}
      >
        <image href={avatar.preview_url} width={PREVIEW_PX} height={PREVIEW_PX} />
        {outline?.length ? (
          <polygon
            points={outline.map((point) => point.join(",")).join(" ")}
            fill="none"
            stroke="#7cf0c0"
            strokeWidth={4}
            strokeLinejoin="round"
            data-testid="face-outline"
          />
        ) : box ? (
          <rect
            x={box.x}
            y={box.y}
            width={box.width}
            height={box.height}
            rx={18}
            fill="none"
            stroke="#7cf0c0"
            strokeWidth={4}
            data-testid="face-outline"
          />
        ) : null}
      </svg>
      <figcaption className="small muted">
        {outline?.length || box
          ? "The face NEURA found, outlined."
          : `Face found: ${avatar.face_px} px tall in the photo.`}
      </figcaption>
    </figure>
  );
}
