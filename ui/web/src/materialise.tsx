import { useState } from "preact/hooks";
import { post } from "./api.ts";
import { href, shortId } from "./format.ts";

/** A run the UI asked for. */
export interface Requested {
  runId?: string;
  assets?: string[];
  liveWorkers?: number;
  error?: string;
}

/** A button that requests a run of `selection` (only what is stale, with `stale`). */
export function Materialise(
  { label, selection, stale, disabled, onRequested }: {
    label: string;
    selection: string;
    stale?: boolean;
    disabled?: boolean;
    onRequested: (r: Requested) => void;
  },
) {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      class="primary"
      disabled={disabled || busy}
      onClick={async () => {
        setBusy(true);
        try {
          onRequested(await post<Requested>("/runs", { selection, stale }));
        } catch (e) {
          onRequested({ error: (e as Error).message });
        } finally {
          setBusy(false);
        }
      }}
    >
      {label}
    </button>
  );
}

/** What became of a request: the run (with a link) and whether any worker will run it. */
export function RunRequested({ requested, onClose }: { requested: Requested; onClose: () => void }) {
  return (
    <div class={`notice ${requested.error ? "error" : ""}`} role="status">
      {requested.error ? requested.error : (
        <>
          <a href={href("run", requested.runId)}>run {shortId(requested.runId!)}</a> requested:{" "}
          {requested.assets!.length} asset{requested.assets!.length === 1 ? "" : "s"} selected
          {requested.liveWorkers === 0 &&
            " — no worker is running: start `ingest worker` (or `ingest ui --worker`) to execute it"}
        </>
      )}
      <button type="button" class="close" onClick={onClose} aria-label="dismiss">×</button>
    </div>
  );
}
