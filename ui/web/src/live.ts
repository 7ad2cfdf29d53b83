import { useEffect, useRef, useState } from "preact/hooks";

type Listener = (tables: string[]) => void;

const listeners = new Set<Listener>();
const everything = ["runs", "run_steps", "materializations", "dead_letters", "ticks", "incidents", "workers"];
let source: EventSource | undefined;
let polling: ReturnType<typeof setInterval> | undefined;
/** `live` while server-sent events arrive, `polling` while they cannot (every 3 s). */
export let feedState: "live" | "polling" | "connecting" = "connecting";
const stateListeners = new Set<(state: typeof feedState) => void>();

function setState(state: typeof feedState) {
  feedState = state;
  for (const l of stateListeners) l(state);
}

function emit(tables: string[]) {
  for (const l of listeners) l(tables);
}

function startPolling() {
  if (polling) return;
  setState("polling");
  polling = setInterval(() => emit(everything), 3_000);
}

function stopPolling() {
  clearInterval(polling);
  polling = undefined;
}

/** One EventSource for the page: the server's change feed (Postgres LISTEN/NOTIFY), polling when it is down. */
function connect() {
  if (source) return;
  source = new EventSource("/api/events");
  source.addEventListener("hello", (event) => {
    const { live } = JSON.parse((event as MessageEvent).data) as { live: boolean };
    if (live) {
      stopPolling();
      setState("live");
      emit(everything); // whatever changed while the stream was down
    } else startPolling();
  });
  source.addEventListener("change", (event) => {
    emit((JSON.parse((event as MessageEvent).data) as { tables: string[] }).tables);
  });
  source.onerror = () => startPolling();
}

/** Calls `reload` when one of `tables` changes (at most every `minIntervalMs`), and once a minute regardless. */
export function useLive(tables: string[], reload: () => void, minIntervalMs = 250): void {
  const latest = useRef(reload);
  latest.current = reload;
  useEffect(() => {
    connect();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = 0;
    const listener: Listener = (changed) => {
      if (!changed.some((t) => tables.includes(t))) return;
      const wait = Math.max(0, minIntervalMs - (Date.now() - last));
      timer ??= setTimeout(() => {
        timer = undefined;
        last = Date.now();
        latest.current();
      }, wait);
    };
    listeners.add(listener);
    const minute = setInterval(() => latest.current(), 60_000);
    return () => {
      listeners.delete(listener);
      clearTimeout(timer);
      clearInterval(minute);
    };
  }, [tables.join(","), minIntervalMs]);
}

/** The feed's state, for the header's indicator. */
export function useFeedState(): typeof feedState {
  const [state, set] = useState(feedState);
  useEffect(() => {
    connect();
    stateListeners.add(set);
    return () => void stateListeners.delete(set);
  }, []);
  return state;
}

/** Loads with `load` now, and again whenever `tables` change; `[data, error, reload]`. */
export function useLiveData<T>(
  load: () => Promise<T>,
  tables: string[],
  deps: unknown[] = [],
  minIntervalMs = 250,
): [T | undefined, string | undefined, () => void] {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const generation = useRef(0);
  const reload = () => {
    const mine = ++generation.current;
    load().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(undefined);
      },
      (e: Error) => mine === generation.current && setError(e.message),
    );
  };
  useEffect(() => {
    setData(undefined);
    reload();
  }, deps);
  useLive(tables, reload, minIntervalMs);
  return [data, error, reload];
}
