"use client";

import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";

import { Icon } from "../Icon";

export type Line = { role: "user" | "avatar" | "system"; turnId: number; text: string; final: boolean };

/** The conversation: what was said (the avatar's words as they are spoken) and the message box. */
export function LiveChat({
  lines,
  onSend,
  onInterrupt,
  busy,
  ready,
}: {
  lines: Line[];
  onSend: (text: string) => void;
  onInterrupt: () => void;
  busy: boolean;
  ready: boolean;
}) {
  const [text, setText] = useState("");
  const log = useRef<HTMLOListElement | null>(null);
  useEffect(() => {
    log.current?.lastElementChild?.scrollIntoView({ block: "nearest" });
  }, [lines]);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const message = text.trim();
    if (!message) return;
    onSend(message);
    setText("");
  };

  const onKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey) submit(event);
    if (event.key === "Escape" && busy) onInterrupt();
  };

  return (
    <div className="live-chat">
      <h2>Conversation</h2>
      <ol ref={log} className="transcript" aria-live="polite" aria-label="Transcript" data-testid="transcript">
        {lines.length === 0 ? <li className="muted small">Say hello, or ask the avatar anything.</li> : null}
        {lines.map((line, i) => (
          <li key={i} className={`bubble bubble-${line.role}`} data-role={line.role} data-final={line.final}>
            <span className="visually-hidden">
              {line.role === "user" ? "You: " : line.role === "avatar" ? "Avatar: " : "Notice: "}
            </span>
            {line.text}
          </li>
        ))}
      </ol>
      <form onSubmit={submit} className="composer">
        <label htmlFor="live-message" className="visually-hidden">
          Message
        </label>
        <textarea
          id="live-message"
          rows={2}
          maxLength={4000}
          placeholder={ready ? "Type a message — Enter to send, Esc to interrupt" : "Connecting…"}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKey}
        />
        <button type="submit" className="btn btn-primary" disabled={!text.trim()} aria-label="Send">
          <Icon name="send" />
        </button>
      </form>
    </div>
  );
}
