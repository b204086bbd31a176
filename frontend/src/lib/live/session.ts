/**
 * A live avatar session from the browser: HTTP signalling through the web origin, then media and the
 * "neura" data channel straight between this browser and the gateway (WebRTC).
 *
 * Signalling: WHEP (RFC 9725) with trickle ICE when the gateway offers it — the offer is sent at
 * once, its answer comes back without waiting for ICE gathering, and each later candidate is PATCHed
 * to the WHEP resource — otherwise the older offer/answer exchange (the offer carries every gathered
 * candidate). Leaving the page ends the session: `pagehide` sends a keep-alive DELETE.
 */
import { csrfHeaders, request } from "@/api/client";
import { ApiError } from "@/api/errors";
import type { LiveClientMessage, LiveServerMessage } from "@/api/realtime";
import { gatewayHas } from "@/lib/features";

export type SessionOptions = { avatar_id?: string | null; voice?: string | null; persona?: string | null };

type Created = { id: string; ice_servers: RTCIceServer[]; data_channel?: string; voice_input?: boolean };

const GATHER_TIMEOUT_MS = 1500;
const WHEP_PATH = "/v1/live/sessions/{session_id}/whep";

export type SessionEvents = {
  onMessage: (message: LiveServerMessage) => void;
  onTrack: (stream: MediaStream) => void;
  onConnection: (state: RTCPeerConnectionState) => void;
  onChannelOpen: () => void;
};

export class LiveSession {
  readonly id: string;
  readonly voiceInput: boolean;
  readonly pc: RTCPeerConnection;
  private channel: RTCDataChannel | null = null;
  private whepUrl: string | null = null;
  private ended = false;
  private readonly stream = new MediaStream();
  private readonly onPageHide = () => this.endOnUnload();

  private constructor(created: Created, private readonly events: SessionEvents) {
    this.id = created.id;
    this.voiceInput = Boolean(created.voice_input);
    this.pc = new RTCPeerConnection({ iceServers: created.ice_servers ?? [] });
  }

  /** Create the session, connect, and return once signalling is done (media follows in ms). */
  static async open(
    options: SessionOptions,
    events: SessionEvents,
    microphone: () => Promise<MediaStreamTrack | null> = async () => null,
  ): Promise<LiveSession> {
    const answer = await request("/v1/live/sessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(options),
    });
    const session = new LiveSession((await answer.json()) as Created, events);
    window.addEventListener("pagehide", session.onPageHide);
    try {
      // The microphone is asked for only when the server takes voice input (and before the offer,
      // which must carry the track).
      await session.connect(session.voiceInput ? await microphone() : null);
    } catch (error) {
      await session.close();
      throw error;
    }
    return session;
  }

  private async connect(microphone: MediaStreamTrack | null): Promise<void> {
    const pc = this.pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    if (microphone) pc.addTransceiver(microphone, { direction: "sendrecv", streams: [this.stream] });
    else pc.addTransceiver("audio", { direction: "recvonly" });
    pc.ontrack = (event) => {
      this.stream.addTrack(event.track);
      this.events.onTrack(this.stream);
    };
    pc.onconnectionstatechange = () => this.events.onConnection(pc.connectionState);
    const channel = pc.createDataChannel("neura");
    channel.onopen = () => this.events.onChannelOpen();
    channel.onmessage = (event: MessageEvent<string>) => {
      try {
        this.events.onMessage(JSON.parse(event.data) as LiveServerMessage);
      } catch {
        // not JSON: nothing the page can show
      }
    };
    this.channel = channel;
    if (await gatewayHas(WHEP_PATH)) await this.signalWhep();
    else await this.signalOffer();
  }

  /** WHEP: offer now, answer without waiting for ICE gathering, candidates PATCHed as they come. */
  private async signalWhep(): Promise<void> {
    const pc = this.pc;
    const pending: RTCIceCandidate[] = [];
    let flushing: Promise<void> = Promise.resolve();
    pc.onicecandidate = (event) => {
      if (!event.candidate) return;
      pending.push(event.candidate);
      if (this.whepUrl) flushing = flushing.then(() => this.patchCandidates(pending.splice(0)));
    };
    await pc.setLocalDescription(await pc.createOffer());
    const answer = await request(`/v1/live/sessions/${this.id}/whep`, {
      method: "POST",
      headers: { "content-type": "application/sdp", accept: "application/sdp" },
      body: pc.localDescription?.sdp ?? "",
    });
    const location = answer.headers.get("location");
    this.whepUrl = location ? new URL(location, window.location.origin).pathname : null;
    await pc.setRemoteDescription({ type: "answer", sdp: await answer.text() });
    if (this.whepUrl && pending.length) flushing = flushing.then(() => this.patchCandidates(pending.splice(0)));
    await flushing;
  }

  private async patchCandidates(candidates: RTCIceCandidate[]): Promise<void> {
    if (!this.whepUrl || candidates.length === 0) return;
    const description = this.pc.localDescription?.sdp ?? "";
    const ufrag = /a=ice-ufrag:(\S+)/.exec(description)?.[1];
    const pwd = /a=ice-pwd:(\S+)/.exec(description)?.[1];
    const lines = [ufrag ? `a=ice-ufrag:${ufrag}` : "", pwd ? `a=ice-pwd:${pwd}` : "", "m=audio 9 RTP/AVP 0", "a=mid:0"];
    for (const candidate of candidates) lines.push(`a=${candidate.candidate}`);
    await request(this.whepUrl, {
      method: "PATCH",
      headers: { "content-type": "application/trickle-ice-sdpfrag" },
      body: `${lines.filter(Boolean).join("\r\n")}\r\n`,
    }).catch(() => undefined); // a candidate that does not arrive: ICE goes on with the others
  }

  /** The older exchange: gather (bounded), then one offer with every candidate, one answer. */
  private async signalOffer(): Promise<void> {
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
    const answer = await request(`/v1/live/sessions/${this.id}/offer`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sdp: pc.localDescription?.sdp ?? "", type: "offer" }),
    });
    const { sdp } = (await answer.json()) as { sdp: string };
    await pc.setRemoteDescription({ type: "answer", sdp });
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
    await request(`/v1/live/sessions/${this.id}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
    });
  }

  private deleteUrl(): string {
    return this.whepUrl ?? `/v1/live/sessions/${this.id}`;
  }

  /** End the session (DELETE) and close the peer connection. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    window.removeEventListener("pagehide", this.onPageHide);
    this.channel?.close();
    this.pc.close();
    try {
      await request(this.deleteUrl(), { method: "DELETE" });
    } catch (error) {
      // already ended by the server (idle, credits): nothing left to end
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  }

  /** The page is going away: a keep-alive DELETE outlives it; the server also ends dead peers. */
  private endOnUnload(): void {
    if (this.ended) return;
    this.ended = true;
    void fetch(this.deleteUrl(), {
      method: "DELETE",
      keepalive: true,
      credentials: "same-origin",
      headers: csrfHeaders(),
    }).catch(() => undefined);
    this.pc.close();
  }
}
