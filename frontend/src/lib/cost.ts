/**
 * What a video will cost, shown before it is submitted. The same rule as the gateway's reservation
 * (neura.billing.plans.credits_to_reserve, neura.jobs.videos.SCRIPT_WORDS_PER_S): a script is sized at
 * 2.5 words a second, a prompt at its target length; 1.25 times that is reserved, the real length is
 * charged (1 credit a second) and the rest given back.
 */
export const SCRIPT_WORDS_PER_S = 2.5;
export const RESERVE_MARGIN = 1.25;

/** Spoken words: whitespace-separated tokens holding a letter or digit (the gateway's count_words). */
export function countWords(text: string): number {
  return text.split(/\s+/).filter((token) => /[\p{L}\p{N}]/u.test(token)).length;
}

export function scriptStats(script: string): { words: number; scenes: number } {
  const body = script
    .split("\n")
    .filter((line, i) => !(i === 0 && line.trim().startsWith("#")))
    .join("\n");
  const scenes = body.split(/\n\s*\n/).filter((scene) => countWords(scene) > 0).length;
  return { words: countWords(body), scenes };
}

/**
 * targetS: the length the gateway sizes the video at (every word of a script, its title line too);
 * reserve: the credits it reserves; expected: the credits the finished video should cost (a script's
 * spoken words at 2.5 a second, or a prompt's target length).
 */
export function estimateCost(source: { script: string } | { durationS: number }): {
  targetS: number;
  reserve: number;
  expected: number;
  expectedS: number;
} {
  const targetS = "script" in source ? Math.max(1, countWords(source.script) / SCRIPT_WORDS_PER_S) : source.durationS;
  const expectedS =
    "script" in source ? Math.max(1, scriptStats(source.script).words / SCRIPT_WORDS_PER_S) : source.durationS;
  return {
    targetS,
    reserve: Math.max(1, Math.ceil(targetS * RESERVE_MARGIN)),
    expected: Math.max(1, Math.ceil(expectedS)),
    expectedS,
  };
}
