import type { Metadata } from "next";
import { Suspense } from "react";

import { Loading } from "@/components/ui";
import { NewVideoForm } from "@/components/video/NewVideoForm";

export const metadata: Metadata = { title: "New video" };

export default function NewVideoPage() {
  return (
    <>
      <div className="page-head">
        <div>
          <h1>New video</h1>
          <p>A presenter video from your script or a topic, with subtitles, in about a minute.</p>
        </div>
      </div>
      <Suspense fallback={<Loading label="Loading the editor" />}>
        <NewVideoForm />
      </Suspense>
    </>
  );
}
