/** How numbers, times and names read on the pages (en-GB style: 6 Dec 2026, 14:05). */

const dateTime = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium" });
const integer = new Intl.NumberFormat("en-GB");

export function formatDateTime(iso: string): string {
  return dateTime.format(new Date(iso));
}

export function formatDate(iso: string): string {
  return dateOnly.format(new Date(iso));
}

export function formatInt(value: number): string {
  return integer.format(value);
}

export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  return `${m} min ${s.toString().padStart(2, "0")} s`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

export function relativeTime(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  return formatDate(iso);
}

/** A video's name: its script's "# Title" line, else the start of its prompt or script. */
export function videoTitle(video: { prompt: string | null; script: string | null }): string {
  const script = video.script?.trim();
  if (script) {
    const first = script.split("\n", 1)[0]?.trim() ?? "";
    if (first.startsWith("#")) return first.replace(/^#+\s*/, "") || "Untitled video";
    return shorten(script, 70);
  }
  if (video.prompt) return shorten(video.prompt, 70);
  return "Untitled video";
}

export function shorten(text: string, maxChars: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat.length <= maxChars) return flat;
  const cut = flat.slice(0, maxChars - 1);
  const space = cut.lastIndexOf(" ");
  return `${space > maxChars / 2 ? cut.slice(0, space) : cut}…`;
}

const STAGE_NAMES: Record<string, string> = {
  queued: "Waiting for a worker",
  starting: "Starting",
  script: "Writing the script",
  writing: "Writing the script",
  revising: "Revising the script",
  avatar: "Preparing the avatar",
  voice: "Speaking the script",
  render: "Rendering frames",
  finish: "Finishing the MP4",
  upload: "Saving the files",
  done: "Done",
};

export function stageName(stage: string | null | undefined): string {
  if (!stage) return "";
  return STAGE_NAMES[stage] ?? stage.replaceAll("_", " ");
}
