/**
 * Voice input on the live data channel (see docs/live.md, "Voice input"): the browser says how it
 * talks (hands-free: the server listens all the time and speaking over the avatar stops it;
 * push-to-talk: the server hears only while the button is held, and letting go ends the turn), and
 * the server says when it hears the user speak; the user's words come back as `transcript` messages
 * with role "user" (partial, then final).
 */
export type VoiceMode = "hands_free" | "push_to_talk";

export type VoiceClientMessage = { type: "voice_mode"; mode: VoiceMode } | { type: "talk"; pressed: boolean };

/** `ignored` (with speaking false): a noise, a back-channel or the avatar's own voice, not a turn. */
export type UserSpeech = { type: "user_speech"; speaking: boolean; turn_id: number; ignored?: boolean };
