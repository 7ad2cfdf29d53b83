import {
  type Authorization,
  HttpClient,
  type HttpClientOptions,
  type HttpClientStats,
  paginate,
} from "../http/index.ts";

/** How a {@link ChatClient} reaches a Zendesk-shaped API (the rest as every API client: `HttpClientOptions`). */
export interface ChatClientOptions extends HttpClientOptions {
  /** Where the API lives, e.g. `https://acme.zendesk.com`: `/api/v2/…` is resolved against it. */
  baseUrl: string;
  /** The API (OAuth) token, sent as `Authorization: Bearer <token>`; never logged, scrubbed from errors. */
  token: string;
}

/** A user as the API side-loads it: a requester (`role: "end-user"`) or an agent. */
export interface ChatUser {
  /** The user's id in the chat platform. */
  id: number;
  /** `end-user`, `agent` or `admin`. */
  role?: string;
  /** The name shown. */
  name?: string | null;
  /** As the user typed it. */
  email?: string | null;
  /** The id another system knows the user by (the agent id of the roster). */
  external_id?: string | null;
  /** Whatever else the platform sends. */
  [field: string]: unknown;
}

/** A ticket (a conversation) as the incremental export returns it, its users attached. */
export interface ChatTicket {
  /** The ticket's number. */
  id: number;
  /** The id another system knows the conversation by. */
  external_id?: string | null;
  /** When the ticket was opened (ISO 8601, as the platform wrote it). */
  created_at?: unknown;
  /** When it last changed. */
  updated_at?: unknown;
  /** Unix seconds of the change that put it in the export: the export's order. */
  generated_timestamp?: number;
  /** The requester's user id. */
  requester_id?: number | null;
  /** The agent's user id. */
  assignee_id?: number | null;
  /** The requester, side-loaded (`include=users`); absent when the ticket has none. */
  requester?: ChatUser;
  /** The assigned agent, side-loaded; absent when unassigned. */
  assignee?: ChatUser;
  /** Whatever else the platform sends (`via`, `custom_fields`, `status`…). */
  [field: string]: unknown;
}

/** A comment (a message) of a ticket. */
export interface ChatComment {
  /** The comment's id. */
  id: number;
  /** The author's user id. */
  author_id?: number | null;
  /** The text. */
  body?: string | null;
  /** When it was written. */
  created_at?: unknown;
  /** Whatever else the platform sends. */
  [field: string]: unknown;
}

/** What the client did, for an asset's metadata (and tests). */
export interface ChatClientStats extends HttpClientStats {
  /** Export pages read. */
  pages: number;
}

/** Where an incremental export stands: give it to the next run's `tickets` to read only what changed since. */
export interface ChatExportPosition {
  /** The `after_cursor` of the last page read whole. */
  cursor: string;
  /** Whether the last page said `end_of_stream`. */
  endOfStream: boolean;
}

/** Where an export starts: a time (the first run), or where a previous run stopped. */
export type ChatExportStart =
  | {
    /** Unix seconds: tickets changed at or after it. */
    startTime: number;
    cursor?: undefined;
  }
  | {
    /** A previous run's {@link ChatExportPosition.cursor}. */
    cursor: string;
    startTime?: undefined;
  };

/**
 * An incremental ticket export in progress: iterate it for the tickets (each with its side-loaded
 * `requester` and `assignee`), then read {@link TicketExport.position} to resume from there next time.
 *
 * @example
 * ```ts
 * const run = chat.tickets({ startTime: 1767225600 });
 * for await (const ticket of run) console.log(ticket.id);
 * await saveCursor(run.position?.cursor); // the next run: chat.tickets({ cursor })
 * ```
 */
export class TicketExport implements AsyncIterable<ChatTicket> {
  /** After each page read whole: where the next run starts. Undefined until the first page is read. */
  position: ChatExportPosition | undefined;
  readonly #pages: (position: (p: ChatExportPosition) => void) => AsyncGenerator<ChatTicket>;

  /** Made by {@link ChatClient.tickets}. */
  constructor(pages: (position: (p: ChatExportPosition) => void) => AsyncGenerator<ChatTicket>) {
    this.#pages = pages;
  }

  /** The tickets, page by page, in the export's order (a ticket changed while paging comes again, later). */
  [Symbol.asyncIterator](): AsyncIterator<ChatTicket> {
    return this.#pages((p) => (this.position = p));
  }
}

interface ExportPage {
  tickets?: unknown;
  users?: unknown;
  after_cursor?: unknown;
  end_of_stream?: unknown;
}

/**
 * A client for a Zendesk-shaped support API (see samples/SOURCES.md): the cursor-based incremental ticket
 * export from a `start_time` or a saved cursor, with the users each page names side-loaded onto its tickets,
 * and ticket comments; on the package's HTTP core (`HttpClient`): rate limit, 429s after their
 * `Retry-After`, 5xx retried with backoff and jitter, errors naming the API and never the token. A page is
 * read whole before its tickets are yielded, so each is yielded once whatever was retried.
 *
 * @example An incremental run: from a time the first time, from the saved cursor after
 * ```ts
 * const chat = new ChatClient({ baseUrl: "https://acme.zendesk.com", token });
 * const run = chat.tickets(saved ? { cursor: saved } : { startTime: 0 });
 * for await (const ticket of run) console.log(ticket.id, ticket.requester?.email);
 * saved = run.position?.cursor;
 * ```
 */
export class ChatClient {
  readonly #base: string;
  readonly #http: HttpClient;
  readonly #auth: Authorization;
  #pages = 0;

  /** Nothing is sent until the first page is read. */
  constructor(options: ChatClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, "");
    this.#http = new HttpClient("chat API", options, [options.token]);
    this.#auth = { headers: () => ({ authorization: `Bearer ${options.token}` }), hint: " (check the API token)" };
  }

  /** What the client did so far. */
  get stats(): ChatClientStats {
    return { ...this.#http.stats, pages: this.#pages };
  }

  /**
   * The incremental ticket export (`/api/v2/incremental/tickets/cursor.json`) from `start`, up to its end of
   * stream. A page without a `tickets` array, or one that is not the end and gives no cursor, throws.
   */
  tickets(
    start: ChatExportStart,
    { perPage = 1000, signal }: {
      /** Tickets a page (default 1,000, the most Zendesk gives). */
      perPage?: number;
      /** Aborts the request in flight and any backoff wait. */
      signal?: AbortSignal;
    } = {},
  ): TicketExport {
    return new TicketExport((report) => this.#export(start, perPage, signal, report));
  }

  async *#export(
    start: ChatExportStart,
    perPage: number,
    signal: AbortSignal | undefined,
    report: (position: ChatExportPosition) => void,
  ): AsyncGenerator<ChatTicket> {
    const url = (cursor: string | undefined) => {
      const url = new URL(`${this.#base}/api/v2/incremental/tickets/cursor.json`);
      url.searchParams.set("per_page", String(perPage));
      url.searchParams.set("include", "users");
      if (cursor !== undefined) url.searchParams.set("cursor", cursor);
      else url.searchParams.set("start_time", String(start.startTime ?? 0));
      return url;
    };
    let cursor = start.cursor;
    for (;;) {
      const at = url(cursor);
      const page = (await this.#http.json(at, this.#auth, { signal })) as ExportPage;
      if (!Array.isArray(page?.tickets)) {
        throw this.#http.error(`GET ${at.href}: unexpected response: no "tickets" array`, at, 200);
      }
      const end = page.end_of_stream === true;
      const next = page.after_cursor;
      if (typeof next !== "string" || (!end && next === cursor)) {
        throw this.#http.error(
          `GET ${at.href}: the export's after_cursor ${JSON.stringify(next)} does not advance`,
          at,
          200,
        );
      }
      this.#pages += 1;
      const users = new Map(
        (Array.isArray(page.users) ? page.users as (ChatUser | null)[] : [])
          .filter((user): user is ChatUser => typeof user === "object" && user !== null)
          .map((user) => [user.id, user]),
      );
      for (const ticket of page.tickets as (ChatTicket | null)[]) {
        // not a ticket at all: yielded as it came, for the model to refuse (and the asset to dead-letter)
        if (ticket === null || typeof ticket !== "object" || Array.isArray(ticket)) {
          yield ticket as unknown as ChatTicket;
          continue;
        }
        const requester = users.get(ticket.requester_id ?? Number.NaN);
        const assignee = users.get(ticket.assignee_id ?? Number.NaN);
        yield { ...ticket, ...(requester ? { requester } : {}), ...(assignee ? { assignee } : {}) };
      }
      report({ cursor: next, endOfStream: end });
      if (end) return;
      cursor = next;
    }
  }

  /** Every comment of a ticket, oldest first, through `page[after]` cursors. */
  comments(
    ticketId: number,
    { pageSize = 100, signal }: {
      /** Comments a page (default 100, Zendesk's most). */
      pageSize?: number;
      /** Aborts the request in flight and any backoff wait. */
      signal?: AbortSignal;
    } = {},
  ): AsyncGenerator<ChatComment> {
    const url = (after: string | undefined) => {
      const url = new URL(`${this.#base}/api/v2/tickets/${ticketId}/comments.json`);
      url.searchParams.set("page[size]", String(pageSize));
      if (after !== undefined) url.searchParams.set("page[after]", after);
      return url;
    };
    return paginate<ChatComment, string>(undefined, async (after) => {
      const at = url(after);
      const page = (await this.#http.json(at, this.#auth, { signal })) as {
        comments?: unknown;
        meta?: { has_more?: unknown; after_cursor?: unknown };
      };
      if (!Array.isArray(page?.comments)) {
        throw this.#http.error(`GET ${at.href}: unexpected response: no "comments" array`, at, 200);
      }
      const next = page.meta?.has_more === true ? page.meta.after_cursor : undefined;
      if (page.meta?.has_more === true && typeof next !== "string") {
        throw this.#http.error(`GET ${at.href}: has_more without an after_cursor`, at, 200);
      }
      return { records: page.comments as ChatComment[], next: next as string | undefined };
    }, (next) => this.#http.error(`GET ${url(next).href}: the next page's cursor does not advance`, url(next), 200));
  }
}
