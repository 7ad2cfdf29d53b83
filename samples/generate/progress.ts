import type { Entity } from "./defects.ts";

/** Reported while generating: records of `entity` so far, and once more when it is complete. */
export interface GenerationProgress {
  entity: Entity;
  generated: number;
  done: boolean;
}

export type OnProgress = (progress: GenerationProgress) => void;

/** Calls `onProgress` every `every` records and at the end. */
export function progressOf(entity: Entity, onProgress: OnProgress | undefined, every = 100_000) {
  return {
    tick(generated: number) {
      if (onProgress && generated % every === 0 && generated > 0) onProgress({ entity, generated, done: false });
    },
    done(generated: number) {
      onProgress?.({ entity, generated, done: true });
    },
  };
}
