import { useEffect, useState } from "preact/hooks";
import { get } from "./api.ts";
import { href, shortId, time, version } from "./format.ts";
import type { AssetSummary, LineageNode, RecordLineage } from "./types.ts";

/** A materialisation and, under it, what it read: the data version it consumed of each. */
export function LineageTree({ node }: { node: LineageNode }) {
  return (
    <ul class="tree">
      <li>
        <a href={href("asset", node.assetKey)}>{node.assetKey}</a>
        {node.partitionKey && ` [${node.partitionKey}]`} data {version(node.dataVersion)} · code v{node.codeVersion} ·
        {" "}
        <a href={href("run", node.runId)}>run {shortId(node.runId)}</a> · {time(node.finishedAt)}
        {node.upstream.map((child) => <LineageTree key={child.materializationId} node={child} />)}
      </li>
    </ul>
  );
}

/** The source record and run behind a node (`Product:P-1`) or a document (`products:P-1`): `ingest lineage --node`. */
export function LineagePage({ query }: { query: URLSearchParams }) {
  const asked = query.get("q") ?? "";
  const [text, setText] = useState(asked);
  const [collections, setCollections] = useState<Set<string>>();
  const [result, setResult] = useState<{ record?: RecordLineage; lineage: LineageNode }>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    get<AssetSummary[]>("/assets").then((assets) =>
      setCollections(
        new Set(assets.filter((a) => a.kind === "chroma-collection").map((a) => a.writes.replace(/^collection /, ""))),
      )
    );
  }, []);
  useEffect(() => {
    setResult(undefined);
    setError(undefined);
    if (!asked || !collections) return;
    const prefix = asked.slice(0, asked.indexOf(":"));
    const params = collections.has(prefix)
      ? { document: asked }
      : asked.includes(":")
      ? { node: asked }
      : { asset: asked };
    get<{ record?: RecordLineage; lineage: LineageNode }>("/lineage", params).then(
      setResult,
      (e: Error) => setError(e.message),
    );
  }, [asked, collections]);
  return (
    <div class="page">
      <h1>Record lineage</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          location.hash = href("lineage", "", { q: text.trim() });
        }}
      >
        <input
          class="wide"
          value={text}
          placeholder="a node (Product:P-000002), a document (products:P-000002) or an asset (graph/Product)"
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
          aria-label="node, document or asset"
        />
        <button type="submit" class="primary">Trace</button>
      </form>
      {error && <p class="error">{error}</p>}
      {result?.record && (
        <div class="record" data-record={result.record.sourceKey}>
          <h2>Source record</h2>
          <table>
            <tbody>
              <tr>
                <th>source</th>
                <td>{result.record.source}</td>
              </tr>
              <tr>
                <th>source key</th>
                <td>{result.record.sourceKey}</td>
              </tr>
              <tr>
                <th>content hash</th>
                <td>
                  <code>{result.record.contentHash ?? "— (written from several records)"}</code>
                </td>
              </tr>
              <tr>
                <th>written by</th>
                <td>
                  <a href={href("asset", result.record.assetKey)}>{result.record.assetKey}</a> in{" "}
                  <a href={href("run", result.record.runId)}>run {result.record.runId}</a>
                </td>
              </tr>
            </tbody>
          </table>
        </div>
      )}
      {result && (
        <>
          <h2>Upstream chain</h2>
          <LineageTree node={result.lineage} />
        </>
      )}
    </div>
  );
}
