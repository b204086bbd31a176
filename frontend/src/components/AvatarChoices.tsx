"use client";

import type { Avatar } from "@/lib/avatars";

/** Pick an avatar: the built-in portrait or one of yours, as picture cards (a radio group). */
export function AvatarChoices({
  name,
  avatars,
  value,
  onChange,
}: {
  name: string;
  avatars: Avatar[];
  value: string;
  onChange: (id: string) => void;
}) {
  return (
    <div className="choices" role="radiogroup" aria-label="Avatar">
      <label className="choice">
        <input type="radio" name={name} value="" checked={value === ""} onChange={() => onChange("")} />
        {/* eslint-disable-next-line @next/next/no-img-element -- a small static picture */}
        <img src="/builtin-avatar.jpg" alt="" width={96} height={96} />
        <span>Built-in presenter</span>
      </label>
      {avatars.map((avatar) => (
        <label key={avatar.id} className="choice">
          <input
            type="radio"
            name={name}
            value={avatar.id}
            checked={value === avatar.id}
            onChange={() => onChange(avatar.id)}
          />
          {/* eslint-disable-next-line @next/next/no-img-element -- served by the API with the session cookie */}
          <img src={avatar.preview_url} alt="" width={96} height={96} loading="lazy" />
          <span title={avatar.name}>{avatar.name}</span>
        </label>
      ))}
    </div>
  );
}
