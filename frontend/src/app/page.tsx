import Link from "next/link";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";

import { BrandMark, Icon } from "@/components/Icon";

const FEATURES = [
  {
    icon: "video" as const,
    title: "Videos from a script or a prompt",
    text: "Write what to say, or ask for a topic and edit the draft. NEURA speaks it with a lip-synced presenter, captions included.",
  },
  {
    icon: "face" as const,
    title: "Your own avatar from one photo",
    text: "Upload a portrait. NEURA finds the face and animates it: blinks, breathing, head motion and speech.",
  },
  {
    icon: "live" as const,
    title: "Talk to a live avatar",
    text: "A conversation over WebRTC: the avatar answers out loud about a fifth of a second after you ask.",
  },
  {
    icon: "info" as const,
    title: "Nothing hidden",
    text: "Every video shows the script, how long each stage took, and the models and licences that made it.",
  },
];

export default async function Home() {
  const jar = await cookies();
  if (jar.has("neura_csrf") || jar.has("neura_access")) redirect("/dashboard");
  return (
    <main id="main">
      <section className="hero">
        <div className="row" style={{ justifyContent: "center", marginBottom: "1.5rem" }}>
          <span className="brand">
            <BrandMark /> NEURA
          </span>
        </div>
        <h1>Talking avatars that feel alive</h1>
        <p>Turn a script or an idea into a presenter video in a minute, or talk to an avatar live, from one photo.</p>
        <div className="btn-row" style={{ justifyContent: "center", marginTop: "1.5rem" }}>
          <Link className="btn btn-primary" href="/signup">
            Create a free account
          </Link>
          <Link className="btn" href="/login">
            Log in
          </Link>
        </div>
      </section>
      <section className="features" aria-label="What NEURA does">
        <div className="cards">
          {FEATURES.map((feature) => (
            <div key={feature.title} className="card">
              <Icon name={feature.icon} size={22} />
              <h2 style={{ marginTop: "0.6rem" }}>{feature.title}</h2>
              <p className="muted">{feature.text}</p>
            </div>
          ))}
        </div>
        <p className="small muted" style={{ textAlign: "center", marginTop: "2rem" }}>
          Developers: the API is documented at <a href="/docs">/docs</a>.
        </p>
      </section>
    </main>
  );
}
