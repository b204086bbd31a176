/** The JSON sidecar every render writes next to its MP4 (neura.pipeline.sidecar): the parts the video page shows. */
export type ModelLicence = {
  name: string;
  kind: string;
  license: string;
  package?: string;
  used_for?: string;
  notes?: string;
};

export type Sidecar = {
  neura_version?: string;
  license?: string;
  output?: { width: number; height: number; fps: number; n_frames: number; duration_s: number };
  script?: {
    source?: string;
    attempts?: number;
    title?: string | null;
    scenes?: { narration: string; caption?: string | null }[];
  };
  llm?: { provider?: string; model?: string; name?: string } | null;
  voice?: { id?: string; name?: string; engine?: string; license?: string; engine_license?: string } | null;
  avatar?: { source?: string; size_px?: number; cached_rig?: boolean };
  timings_s?: Record<string, number>;
  warnings?: string[];
  models?: ModelLicence[];
};

/** The sidecar's stages in the order they run, with names people read. */
export const STAGE_LABELS: Record<string, string> = {
  script: "Script",
  avatar: "Avatar",
  tts: "Voice",
  render: "Frames",
  encode: "Encoding",
  finish: "Finishing",
  sidecar: "Sidecar",
  upload: "Upload",
};

export function orderedStages(timings: Record<string, number>): { key: string; label: string; seconds: number }[] {
  const order = Object.keys(STAGE_LABELS);
  return Object.entries(timings)
    .map(([key, seconds]) => ({ key, label: STAGE_LABELS[key] ?? key, seconds }))
    .sort((a, b) => {
      const ia = order.indexOf(a.key);
      const ib = order.indexOf(b.key);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    });
}
