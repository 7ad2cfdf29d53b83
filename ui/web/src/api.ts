/** An answer of the API that was not 2xx, with the server's message. */
export class ApiError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

async function answer<T>(response: Response): Promise<T> {
  if (response.status === 401) {
    location.href = "/login";
    throw new ApiError("log in first", 401);
  }
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new ApiError((body as { error?: string }).error ?? response.statusText, response.status);
  return body as T;
}

/** GET `/api<path>` with these query parameters (empty ones left out). */
export async function get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(name, String(value));
  }
  const search = params.toString();
  return answer<T>(
    await fetch(`/api${path}${search ? `?${search}` : ""}`, { headers: { accept: "application/json" } }),
  );
}

/** POST JSON to `/api<path>`; the browser sends this page's Origin, which the server checks. */
export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  return answer<T>(
    await fetch(`/api${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
    }),
  );
}
