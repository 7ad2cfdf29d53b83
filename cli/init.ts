import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { packageRoot, packageVersion } from "../resources/settings.ts";
import { output } from "./context.ts";
import { type DraftedProject, draftProject, readSchemas, sourceUrlVariable } from "./draft-postgres.ts";

/** The project `ingest init` writes: `templates/project` of this package. */
export const templateDir = join(packageRoot, "templates", "project");

/** npm leaves `.gitignore` out of a package's tarball, so the template holds it as `gitignore`. */
const renamed: Record<string, string> = { gitignore: ".gitignore" };

const projectName = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

export interface InitOptions {
  /** The package name in package.json (default: the folder's name). */
  name?: string;
  /** The dependency on this package as package.json states it (default `^<this version>`). */
  ingestGraph?: string;
  /** Draft assets from these tables of a Postgres database (`--from-postgres <url> --tables a,b`). */
  fromPostgres?: string;
  tables?: string[];
}

function versionOf(dependency: string): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const version = manifest.dependencies[dependency] ?? manifest.devDependencies[dependency];
  if (!version) throw new Error(`package.json of ingest-graph names no ${dependency}`);
  return version;
}

/**
 * Writes a new project into `dir` (created, or empty): definitions, an example asset chain (a CSV
 * staged, loaded as nodes and embedded into a collection), resources, a schedule, a file sensor, a
 * test and a README. A `draft` (from {@link draftProject}) takes the example's place: the assets
 * drafted from a database, and the files that name them. Gives the files written, relative to `dir`.
 */
export function initProject(dir: string, options: InitOptions = {}, draft?: DraftedProject): string[] {
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new Error(`${target} is not empty: give a new folder, or an empty one`);
  }
  const name = options.name ?? basename(target).toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[._-]+/, "");
  if (!projectName.test(name)) {
    throw new Error(`'${name}' cannot be an npm package name: give one with --name (lower case, digits, . _ -)`);
  }
  const values: Record<string, string> = {
    name,
    ingestGraph: options.ingestGraph ?? `^${packageVersion}`,
    zod: versionOf("zod"),
    typescript: versionOf("typescript"),
    about:
      "a CSV of products, validated and staged, loaded into Neo4j as `(:Product)` nodes and into Chroma as the `products` collection.",
    assetList: "`shop/products` (staged from `data/products.csv`), `graph/Product`, `search/products`",
    sensorList: "a file sensor on `data/products.csv`, run by `ingest daemon`",
    exampleSelection: "shop/products+",
    exampleNode: "Product:P-1001",
    ...draft?.values,
  };
  const left = new Set([...draft?.files.keys() ?? [], ...draft?.replaces ?? []]);
  const written: string[] = [];
  const copy = (from: string, to: string) => {
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      const source = join(from, entry.name);
      const destination = join(to, renamed[entry.name] ?? entry.name);
      if (left.has(relative(target, destination))) continue;
      if (entry.isDirectory()) {
        copy(source, destination);
      } else if (/\.(json|md)$/.test(entry.name)) {
        const text = readFileSync(source, "utf8").replace(
          /\{\{(\w+)\}\}/g,
          (whole, key: string) => values[key] ?? whole,
        );
        writeFileSync(destination, text);
        written.push(relative(target, destination));
      } else {
        copyFileSync(source, destination);
        written.push(relative(target, destination));
      }
    }
  };
  copy(templateDir, target);
  for (const [file, text] of draft?.files ?? []) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    writeFileSync(join(target, file), text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole));
    written.push(file);
  }
  return written.sort();
}

/** `ingest init <dir>`. */
export async function init(dir: string, options: InitOptions, command: Command): Promise<void> {
  if ((options.fromPostgres === undefined) !== (options.tables === undefined)) {
    throw new Error("--from-postgres <url> and --tables <a,b> go together");
  }
  // The schema is read first: a wrong URL or table leaves no half-written project behind.
  const draft = options.fromPostgres
    ? draftProject(await readSchemas(options.fromPostgres, options.tables!))
    : undefined;
  const files = initProject(dir, options, draft);
  const where = relative(process.cwd(), resolve(dir)) || ".";
  output(command, { dir: resolve(dir), files }, () =>
    [
      `wrote ${files.length} files into ${where}:`,
      ...files.map((f) => `  ${f}`),
      "",
      "next:",
      `  cd ${where}`,
      "  npm install",
      ...(draft ? [`  export ${sourceUrlVariable}=…   # the database the drafted assets read`] : []),
      "  npm run demo    # starts the local stack, materialises everything, shows the status",
      "  npm test",
    ].join("\n"));
}
