/**
 * A live avatar session from the browser: HTTP signalling through the web origin, then media and the
 * "neura" data channel straight between this browser and the gateway (WebRTC).
 *
 * Signalling, the fastest the gateway offers:
 * - WHEP (RFC 9725, `POST /v1/live/whep`): one request opens the session with the offer and answers
 *   at once (no wait for ICE gathering on either side); the browser's candidates follow as
 *   `PATCH <Location>` (application/trickle-ice-sdpfrag). Tried first, before anything else is read.
 * - JSON, on a gateway without WHEP (it answers 404/405 and its OpenAPI document lacks the route): `POST /v1/live/sessions`, then the offer, then trickled candidates
 *   (`POST .../candidates`), or, on a gateway without trickle, one offer carrying every gathered candidate.
 * Voice input: where the gateway takes it, the offer's audio is `sendrecv` with no track yet, so the
 * session connects at once and the microphone is asked for only when the user turns it on (its track
 * then replaces the empty one: no new offer). Whether this session hears is known once the data channel
 * is open: the answer's audio is `sendrecv`, and `voice_mode` followed by a ping is answered by the pong
 * alone (a server without voice input answers `voice_mode` with an `invalid_message` error first).
 * Leaving the page ends the session: `pagehide` sends a keep-alive DELETE (and the server ends peers
 * that stop answering within seconds).
 */
import { csrfHeaders, request } from "@/api/client";
import { ApiError } from "@/api/errors";
import type { LiveClientMessage, LiveServerMessage } from "@/api/realtime";
import { gatewayHas } from "@/lib/features";

export type SessionOptions = { avatar_id?: string | null; voice?: string | null; persona?: string | null };

type Created = { id: string; ice_servers: RTCIceServer[]; voice_input?: boolean };

const GATHER_TIMEOUT_MS = 1500;

export type SessionEvents = {
  onMessage: (message: LiveServerMessage) => void;
  onTrack: (stream: MediaStream) => void;
  onConnection: (state: RTCPeerConnectionState) => void;
  onChannelOpen: () => void;
  /** Known after the channel opens: does this session take the microphone? */
  onVoiceInput: (available: boolean) => void;
};

const VOICE_PROBE = "voice-input";

/** Send candidates as they are gathered; `send` gets each batch, `true` as `done` at the end. */
class Trickle {
  private queue: (RTCIceCandidate | null)[] = [];
  private ready = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    pc: RTCPeerConnection,
    private readonly send: (batch: RTCIceCandidate[], done: boolean) => Promise<void>,
  ) {
    pc.onicecandidate = (event) => {
      this.queue.push(event.candidate);
      this.flush();
    };
  }

  /** Signalling is done: the resource to send candidates to exists. */
  start(): void {
    this.ready = true;
    this.flush();
  }

  private flush(): void {
    if (!this.ready || this.queue.length === 0) return;
    const batch = this.queue.splice(0);
    const done = batch.includes(null);
    const candidates = batch.filter((c): c is RTCIceCandidate => c !== null && c.candidate !== "");
    if (!candidates.length && !done) return;
    // A batch that does not arrive: ICE goes on with the others (and with peer-reflexive candidates).
    this.chain = this.chain.then(() => this.send(candidates, done).catch(() => undefined));
  }
}

export class LiveSession {
  id = "";
  voiceInput = false;
  readonly pc: RTCPeerConnection;
  private channel: RTCDataChannel | null = null;
  private audio: RTCRtpTransceiver | null = null;
  private resource = ""; // the session's URL: DELETE ends it
  private ended = false;
  private readonly stream = new MediaStream();
  private readonly onPageHide = () => this.endOnUnload();

  private constructor(
    iceServers: RTCIceServer[],
    private readonly events: SessionEvents,
  ) {
    this.pc = new RTCPeerConnection({ iceServers });
  }

  /**
   * Open a session and connect; returns once signalling is done (media follows in milliseconds).
   * The offer always has room for the microphone; `events.onVoiceInput` says whether it will be heard.
   */
  static async open(options: SessionOptions, events: SessionEvents): Promise<LiveSession> {
    // WHEP first, without waiting for the gateway's feature list (a 250 kB document): only a gateway
    // that refuses the request and does not list the route gets the older flows.
    try {
      return await LiveSession.openWhep(options, events);
    } catch (error) {
      const missing = error instanceof ApiError && (error.status === 404 || error.status === 405);
      if (!missing || (await gatewayHas("/v1/live/whep"))) throw error;
    }
    const answer = await request("/v1/live/sessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(options),
    });
    const created = (await answer.json()) as Created;
    const session = new LiveSession(created.ice_servers ?? [], events);
    session.id = created.id;
    session.resource = `/v1/live/sessions/${created.id}`;
    window.addEventListener("pagehide", session.onPageHide);
    try {
      session.prepare(created.voice_input !== false);
      if (await gatewayHas("/v1/live/sessions/{session_id}/candidates")) await session.signalJsonTrickle();
      else await session.signalJsonGathered();
      session.readVoiceAnswer();
    } catch (error) {
      await session.close().catch(() => undefined);
      throw error;
    }
    return session;
  }

  private static async openWhep(options: SessionOptions, events: SessionEvents): Promise<LiveSession> {
    const session = new LiveSession([], events);
    const pc = session.pc;
    session.prepare(true);
    const trickle = new Trickle(pc, (batch, done) => session.patchCandidates(batch, done));
    await pc.setLocalDescription(await pc.createOffer());
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options)) if (value) query.set(key, value);
    let answer: Response;
    try {
      answer = await request(`/v1/live/whep${query.size ? `?${query}` : ""}`, {
        method: "POST",
        headers: { "content-type": "application/sdp", accept: "application/sdp" },
        body: pc.localDescription?.sdp ?? "",
      });
    } catch (error) {
      pc.close(); // no session was made: nothing to end
      throw error;
    }
    const location = answer.headers.get("location") ?? "";
    session.resource = new URL(location, window.location.origin).pathname;
    session.id = session.resource.split("/").pop() ?? "";
    window.addEventListener("pagehide", session.onPageHide);
    try {
      await pc.setRemoteDescription({ type: "answer", sdp: await answer.text() });
      session.readVoiceAnswer();
      trickle.start();
    } catch (error) {
      await session.close().catch(() => undefined);
      throw error;
    }
    return session;
  }

  /** Transceivers, tracks and the data channel, before the offer. */
  private prepare(voice: boolean): void {
    const pc = this.pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    this.audio = pc.addTransceiver("audio", { direction: voice ? "sendrecv" : "recvonly" });
    pc.ontrack = (event) => {
      this.stream.addTrack(event.track);
      this.events.onTrack(this.stream);
    };
    pc.onconnectionstatechange = () => this.events.onConnection(pc.connectionState);
    const channel = pc.createDataChannel("neura");
    let probing = false;
    channel.onopen = () => {
      this.events.onChannelOpen();
      probing = this.voiceInput && this.send({ type: "voice_mode", mode: "hands_free" });
      if (probing) this.send({ type: "ping", id: VOICE_PROBE });
      else this.events.onVoiceInput(false);
    };
    channel.onmessage = (event: MessageEvent<string>) => {
      let message: LiveServerMessage;
      try {
        message = JSON.parse(event.data) as LiveServerMessage;
      } catch {
        return; // not JSON: nothing the page can show
      }
      if (probing && message.type === "error" && message.code === "invalid_message") {
        this.voiceInput = false; // the answer to voice_mode: this server does not listen
        return;
      }
      if (probing && message.type === "pong" && message.id === VOICE_PROBE) {
        probing = false;
        this.events.onVoiceInput(this.voiceInput);
        return;
      }
      this.events.onMessage(message);
    };
    this.channel = channel;
  }

  /** RFC 8840 fragment of candidates for WHEP's PATCH. */
  private async patchCandidates(candidates: RTCIceCandidate[], done: boolean): Promise<void> {
    const description = this.pc.localDescription?.sdp ?? "";
    const lines = [/a=ice-ufrag:\S+/.exec(description)?.[0], /a=ice-pwd:\S+/.exec(description)?.[0]].filter(
      Boolean,
    ) as string[];
    const byMid = new Map<string, RTCIceCandidate[]>();
    for (const candidate of candidates) {
      const mid = candidate.sdpMid ?? "0";
      byMid.set(mid, [...(byMid.get(mid) ?? []), candidate]);
    }
    if (!byMid.size) byMid.set("0", []);
    for (const [mid, group] of byMid) {
      lines.push("m=audio 9 UDP/TLS/RTP/SAVPF 0", `a=mid:${mid}`, ...group.map((c) => `a=${c.candidate}`));
      if (done) lines.push("a=end-of-candidates");
    }
    await request(this.resource, {
      method: "PATCH",
      headers: { "content-type": "application/trickle-ice-sdpfrag" },
      body: `${lines.join("\r\n")}\r\n`,
    });
  }

  /** JSON with trickle: the offer at once, candidates after it as they come. */
  private async signalJsonTrickle(): Promise<void> {
    const pc = this.pc;
    const trickle = new Trickle(pc, async (batch, done) => {
      await request(`${this.resource}/candidates`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ candidates: batch.map((c) => c.toJSON()), done }),
      });
    });
    await pc.setLocalDescription(await pc.createOffer());
    await this.exchange();
    trickle.start();
  }

  /** JSON without trickle: gather (bounded), then one offer with every candidate. */
  private async signalJsonGathered(): Promise<void> {
    const pc = this.pc;
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      const timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await this.exchange();
  }

  private async exchange(): Promise<void> {
    const answer = await request(`${this.resource}/offer`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sdp: this.pc.localDescription?.sdp ?? "", type: "offer" }),
    });
    const { sdp } = (await answer.json()) as { sdp: string };
    await this.pc.setRemoteDescription({ type: "answer", sdp });
  }

  /** The answer is in: does the server take this browser's audio? (A text-only one answers `sendonly`.) */
  private readVoiceAnswer(): void {
    const direction = this.audio?.currentDirection;
    this.voiceInput = direction === "sendrecv" || direction === "sendonly";
  }

  /** Send this microphone track (null: send nothing); no new offer is needed. */
  async setMicrophone(track: MediaStreamTrack | null): Promise<void> {
    if (!this.voiceInput || !this.audio) throw new Error("this session takes no voice input");
    await this.audio.sender.replaceTrack(track);
  }

  get channelOpen(): boolean {
    return this.channel?.readyState === "open";
  }

  /** Send a typed message on the data channel; false when it is not open. */
  send(message: LiveClientMessage): boolean {
    if (!this.channel || this.channel.readyState !== "open") return false;
    this.channel.send(JSON.stringify(message));
    return true;
  }

  /** Say something over HTTP (when the data channel is not open yet). */
  async say(text: string): Promise<void> {
    await request(`${this.resource}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
    });
  }

  /**
   * End the session (DELETE) and close the peer connection. The DELETE is a keep-alive request: a tab
   * closed right after "End session" still ends the session (and its billing) instead of leaving it
   * to the server's dead-peer check.
   */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    window.removeEventListener("pagehide", this.onPageHide);
    this.channel?.close();
    this.pc.close();
    if (!this.resource) return;
    try {
      await request(this.resource, { method: "DELETE", keepalive: true });
    } catch (error) {
      // already ended by the server (idle, credits): nothing left to end
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }

  /** The page is going away: a keep-alive DELETE outlives it; the server also ends dead peers. */
  private endOnUnload(): void {
    if (this.ended) return;
    this.ended = true;
    void fetch(this.resource, {
      method: "DELETE",
      keepalive: true,
      credentials: "same-origin",
      headers: csrfHeaders(),
    }).catch(() => undefined);
    this.pc.close();
  }
}
