/**
 * A shared client (a driver, a pool, a model) that assets receive by name, set up once per process.
 * Make one with {@link defineResource}, or with a ready constructor such as `neo4jResource()`.
 */
export interface ResourceDefinition<T> {
  /**
   * What the resource is (`"neo4j"`, `"staging"`, …), set by the ready constructors such as
   * `neo4jResource()`: an asset kind that needs a Neo4j driver finds it by this, under any name.
   */
  kind?: string;
  /**
   * Makes the instance, when the first asset that needs it runs in this process (never at load time).
   * A failure fails that materialisation (which retries by its policy), and the next use calls `setup`
   * again: a store that was down when a worker started does not fail it for good.
   */
  setup(): Promise<T> | T;
  /** Closes the instance when the worker (or command) stops; called only for resources that were set up. */
  teardown?(instance: T): Promise<void> | void;
}

/**
 * What an asset kind needs under one of its resource names: node assets need `{ kind: "neo4j",
 * name: "neo4j", make: "neo4jResource()" }`. It is found by `name` or, failing that, as the one
 * resource of its `kind`; a missing or wrongly typed one is a definition-time error naming both.
 */
export interface ResourceKind {
  /** The `kind` a resource must carry (or, without one, pass `is`) to meet the need. */
  kind: string;
  /** The name the asset receives it under (`ctx.resources.neo4j`). */
  name: string;
  /** How a user makes one, for the error: `neo4jResource()`. */
  make: string;
  /** What an instance of it is, for resources without a `kind`: checked when it is set up. */
  is?(instance: unknown): boolean;
}

/** A resource name an asset declares, or the kind of resource it needs under its `name`. */
export type ResourceNeed<N extends string = string> = N | (ResourceKind & { name: N });

/**
 * Declares a resource of your own: `setup` makes the instance when an asset first needs it in a
 * process, `teardown` closes it. Returns `definition` as given; the type parameter ties `setup`'s
 * result to what `teardown` and the assets receive.
 *
 * @example
 * ```ts
 * crm: defineResource({
 *   setup: () => {
 *     const { url, clientId, clientSecret } = settings().crm;
 *     if (!clientSecret) throw new Error("CRM_CLIENT_SECRET is not set");
 *     return new CrmClient({ baseUrl: url, clientId, clientSecret });
 *   },
 * }),
 * ```
 */
export function defineResource<T>(definition: ResourceDefinition<T>): ResourceDefinition<T> {
  return definition;
}

// deno-lint-ignore no-explicit-any -- resources of any type
type Resources = Record<string, ResourceDefinition<any>>;

/**
 * Which of the project's resources meets a need: the one of its name (when its kind, if it has one,
 * agrees), else the only one of the needed kind. Gives the project's name for it, or what is wrong.
 */
export function resolveResource(resources: Resources, need: ResourceNeed): { name: string } | { problem: string } {
  if (typeof need === "string") {
    return need in resources ? { name: need } : { problem: `uses unknown resource '${need}'` };
  }
  const named = resources[need.name];
  if (named && (named.kind === undefined || named.kind === need.kind)) return { name: need.name };
  const ofKind = Object.keys(resources).filter((name) => resources[name]!.kind === need.kind);
  if (ofKind.length === 1) return { name: ofKind[0]! };
  if (ofKind.length > 1) {
    return {
      problem: `needs a ${need.kind} resource and the project has ${ofKind.length} (${
        ofKind.join(", ")
      }): name the one it should use '${need.name}'`,
    };
  }
  if (named) {
    return {
      problem:
        `needs resource '${need.name}' to be a ${need.kind} resource (${need.make}), but it is a ${named.kind} resource`,
    };
  }
  return {
    problem: `needs a ${need.kind} resource: add \`${need.name}: ${need.make}\` to the resources of defineDefinitions`,
  };
}

/**
 * A project's resources, each set up on first use and torn down only if it was (`close`, or `await
 * using`): what a worker gives assets, and what a script that observes sources or reads staging needs.
 *
 * @example
 * ```ts
 * await using resources = new ResourcePool(definitions.resources);
 * const staging = (await resources.get(stagingKind)) as Staging;
 * ```
 */
export class ResourcePool implements AsyncDisposable {
  readonly #definitions: Resources;
  readonly #instances = new Map<string, Promise<unknown>>();

  /** Over the project's resource definitions (`defineDefinitions`' `resources`). */
  constructor(definitions: Record<string, ResourceDefinition<unknown>>) {
    this.#definitions = definitions;
  }

  /** The resource of this name, or the one meeting this need (as the asset graph resolved it). */
  get(need: ResourceNeed): Promise<unknown> {
    const resolved = resolveResource(this.#definitions, need);
    if ("problem" in resolved) {
      return Promise.reject(new Error(`this command ${resolved.problem}`));
    }
    const { name } = resolved;
    let instance = this.#instances.get(name);
    if (!instance) {
      // A failed setup is forgotten, so the next use tries again: a store that was down when the worker
      // started must not fail every later materialisation until the process restarts.
      const made = Promise.resolve().then(() => this.#definitions[name]!.setup());
      made.catch(() => {
        if (this.#instances.get(name) === made) this.#instances.delete(name);
      });
      instance = made;
      this.#instances.set(name, instance);
    }
    if (typeof need === "string" || !need.is) return instance;
    const { is, kind, make } = need;
    return instance.then((value) => {
      if (!is(value)) {
        throw new Error(`resource '${name}' is not a ${kind} resource: make it with ${make}`);
      }
      return value;
    });
  }

  /** The resources an asset needs as one object under the names it receives them by, setting up those not yet set up. */
  async pick(needs: readonly ResourceNeed[]): Promise<Record<string, unknown>> {
    const entries = await Promise.all(
      needs.map(async (need) => [typeof need === "string" ? need : need.name, await this.get(need)] as const),
    );
    return Object.fromEntries(entries);
  }

  /** What `await using` calls: {@link ResourcePool.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Tears down every resource that was set up (a failed setup needs none), then forgets them. */
  async close(): Promise<void> {
    for (const [name, instance] of this.#instances) {
      const value = await instance.catch(() => undefined);
      if (value !== undefined) await this.#definitions[name]?.teardown?.(value);
    }
    this.#instances.clear();
  }
}
