/** One page of a paged list: its records, and the cursor of the next page (undefined on the last). */
export interface Page<T, C> {
  /** The page's records, in the API's order. */
  records: T[];
  /** Where the next page starts, as the API says; undefined when this is the last page. */
  next: C | undefined;
}

/**
 * Yields the records of every page, fetching the next only when the previous one has been consumed. A
 * page is fetched whole (retried whole by the client) before any of its records is yielded, so each record
 * is yielded once whatever was retried. A `next` cursor equal to the one just used would page forever: it
 * throws the error `stuck` makes.
 *
 * @example
 * ```ts
 * yield* paginate(undefined, async (after) => {
 *   const page = await getPage(after);
 *   return { records: page.results, next: page.paging?.next?.after };
 * }, (cursor) => new Error(`cursor ${cursor} does not advance`));
 * ```
 */
export async function* paginate<T, C>(
  first: C | undefined,
  fetchPage: (cursor: C | undefined) => Promise<Page<T, C>>,
  stuck: (cursor: C) => Error,
): AsyncGenerator<T> {
  let cursor = first;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.records;
    if (page.next === undefined) return;
    if (cursor !== undefined && JSON.stringify(page.next) === JSON.stringify(cursor)) throw stuck(page.next);
    cursor = page.next;
  }
}
