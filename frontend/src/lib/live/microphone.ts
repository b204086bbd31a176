/**
 * The microphone for voice input: asked for on a click (browsers only prompt on a user gesture, and a
 * person who only types is never asked), with the browser's own echo cancellation, noise suppression
 * and gain control (the avatar's voice from the speakers must not come back as the user's speech).
 * Failures become one sentence a person can act on; typing keeps working whatever happens here.
 */

export const MIC_CONSTRAINTS: MediaTrackConstraints = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: true,
  channelCount: 1,
};

export class MicrophoneError extends Error {
  constructor(
    readonly reason: "denied" | "no_device" | "busy" | "insecure" | "failed",
    message: string,
  ) {
    super(message);
    this.name = "MicrophoneError";
  }
}

const TYPE_INSTEAD = "You can still type your messages.";

/** What a getUserMedia failure means for the person at the page. */
export function microphoneError(error: unknown): MicrophoneError {
  if (error instanceof MicrophoneError) return error;
  const name = error instanceof DOMException || error instanceof Error ? error.name : "";
  switch (name) {
    case "NotAllowedError":
    case "SecurityError":
      return new MicrophoneError(
        "denied",
        `Microphone access is blocked. Allow it for this site (the icon at the left of the address bar), then press "Use microphone" again. ${TYPE_INSTEAD}`,
      );
    case "NotFoundError":
    case "OverconstrainedError":
      return new MicrophoneError("no_device", `No microphone was found. Connect one and try again. ${TYPE_INSTEAD}`);
    case "NotReadableError":
    case "AbortError":
      return new MicrophoneError(
        "busy",
        `The microphone could not be started (another app may be using it). ${TYPE_INSTEAD}`,
      );
    default:
      return new MicrophoneError("failed", `The microphone could not be opened. ${TYPE_INSTEAD}`);
  }
}

/** Ask for the microphone; throws a {@link MicrophoneError}. */
export async function openMicrophone(): Promise<MediaStreamTrack> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new MicrophoneError(
      "insecure",
      `This browser offers no microphone to this page (it needs https or localhost). ${TYPE_INSTEAD}`,
    );
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: MIC_CONSTRAINTS });
    const track = stream.getAudioTracks()[0];
    if (!track) throw new DOMException("no audio track", "NotFoundError");
    return track;
  } catch (error) {
    throw microphoneError(error);
  }
}
