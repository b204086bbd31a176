/**
 * Sound level of a MediaStream from WebAudio (an AnalyserNode's RMS, in dBFS), read on demand.
 * getStats() audio levels lag about 60 ms at the onset of speech and about 450 ms at its end; this
 * follows the samples themselves, so a meter and the "heard the avatar" time are immediate.
 */
export class AudioLevel {
  private readonly analyser: AnalyserNode;
  private readonly source: MediaStreamAudioSourceNode;
  private readonly samples: Float32Array<ArrayBuffer>;

  constructor(context: AudioContext, stream: MediaStream) {
    this.source = context.createMediaStreamSource(stream);
    this.analyser = context.createAnalyser();
    this.analyser.fftSize = 512;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.analyser); // not to the destination: the media element plays the sound
  }

  /** The level now, -100 (silence) to 0 dBFS. */
  dbfs(): number {
    this.analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const value of this.samples) sum += value * value;
    const rms = Math.sqrt(sum / this.samples.length);
    return rms > 1e-5 ? Math.max(-100, 20 * Math.log10(rms)) : -100;
  }

  /** 0..1 for a meter: -60 dBFS and below is empty, -10 and above full. */
  meter(): number {
    return Math.max(0, Math.min(1, (this.dbfs() + 60) / 50));
  }

  close(): void {
    this.source.disconnect();
  }
}
