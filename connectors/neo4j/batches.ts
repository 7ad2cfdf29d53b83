import neo4jDriver, { type Driver, type Record as Neo4jRecord } from "neo4j-driver";

/** What a batched write statement returned: each numeric column summed over its batches. */
export type BatchTotals = Record<string, number>;

/** Adds the numeric columns of a batch's first row to the totals. */
function addTotals(totals: BatchTotals, records: Neo4jRecord[]): void {
  const first = records[0];
  if (!first) return;
  for (const key of first.keys) {
    const value = first.get(key);
    const n = neo4jDriver.isInt(value) ? value.toNumber() : typeof value === "number" ? value : undefined;
    if (n !== undefined) totals[key as string] = (totals[key as string] ?? 0) + n;
  }
}

/** Batches made one at a time, as a writer takes them: preparing the next overlaps the one in flight. */
export function* sliced<R, P>(rows: R[], batchSize: number, prepare: (row: R) => P): Generator<P[]> {
  for (let offset = 0; offset < rows.length; offset += batchSize) {
    yield rows.slice(offset, offset + batchSize).map(prepare);
  }
}

/**
 * Runs a write statement over `$rows` in batches on one session, each batch one managed transaction
 * (retried by the driver on transient errors); sums the numeric columns the statement returns.
 */
export async function writeInBatches(
  driver: Driver,
  statement: string,
  rows: unknown[],
  batchSize: number,
  params: Record<string, unknown> = {},
  collect?: (records: Neo4jRecord[]) => void,
): Promise<BatchTotals> {
  return writeLanes(driver, statement, [sliced(rows, batchSize, (row) => row)], params, collect);
}

/**
 * Runs a write statement over `$rows`, one managed transaction per batch (retried by the driver on
 * transient errors, deadlocks included). Each lane runs on its own session, its batches one after
 * another, the next one taken from its iterator while the one before is in flight; lanes run side
 * by side (lanes may share one iterator, to take batches as they free up).
 * Sums the numeric columns of each batch's first row; `collect` sees every batch's rows, once its
 * transaction committed.
 */
export async function writeLanes(
  driver: Driver,
  statement: string,
  lanes: Iterable<unknown[]>[],
  params: Record<string, unknown> = {},
  collect?: (records: Neo4jRecord[]) => void,
): Promise<BatchTotals> {
  const totals: BatchTotals = {};
  let failed = false;
  const runLane = async (lane: Iterable<unknown[]>) => {
    const session = driver.session();
    const batches = lane[Symbol.iterator]();
    try {
      for (let next = batches.next(); !next.done && !failed;) {
        const rows = next.value;
        let upcoming: Promise<IteratorResult<unknown[]>> | undefined;
        // Taken in a setImmediate once the batch's RUN is written (the driver's sending is promise
        // callbacks, which run first): the next batch is built while the server works on this one.
        const takeNext = () => {
          upcoming ??= new Promise((resolve, reject) =>
            setImmediate(() => {
              try {
                resolve(batches.next());
              } catch (error) {
                reject(error);
              }
            })
          );
          upcoming.catch(() => {}); // awaited below unless the batch in flight fails first
        };
        const result = await session.executeWrite((tx) => {
          const run = tx.run(statement, { ...params, rows });
          takeNext();
          return run;
        });
        addTotals(totals, result.records);
        collect?.(result.records);
        takeNext();
        next = await upcoming!;
      }
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      await session.close();
    }
  };
  const outcomes = await Promise.allSettled(lanes.map(runLane));
  const rejected = outcomes.find((o) => o.status === "rejected");
  if (rejected) throw rejected.reason;
  return totals;
}
