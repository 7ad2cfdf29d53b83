/** A shared client (a driver, a pool, a model) that assets receive by name, set up once per process. */
export interface ResourceDefinition<T> {
  setup(): Promise<T> | T;
  teardown?(instance: T): Promise<void> | void;
}

/**
 * @example
 * export const neo4j = defineResource({
 *   setup: () => connectNeo4j(),
 *   teardown: (driver) => driver.close(),
 * });
 */
export function defineResource<T>(definition: ResourceDefinition<T>): ResourceDefinition<T> {
  return definition;
}

/** Sets resources up on first use and tears down only those that were (`close`, or `await using`). */
export class ResourcePool implements AsyncDisposable {
  readonly #definitions: Record<string, ResourceDefinition<unknown>>;
  readonly #instances = new Map<string, Promise<unknown>>();

  constructor(definitions: Record<string, ResourceDefinition<unknown>>) {
    this.#definitions = definitions;
  }

  get(name: string): Promise<unknown> {
    let instance = this.#instances.get(name);
    if (!instance) {
      const definition = this.#definitions[name];
      if (!definition) throw new Error(`unknown resource '${name}'`);
      instance = Promise.resolve(definition.setup());
      this.#instances.set(name, instance);
    }
    return instance;
  }

  /** The named resources as one object, setting up those not yet set up. */
  async pick(names: readonly string[]): Promise<Record<string, unknown>> {
    const entries = await Promise.all(names.map(async (name) => [name, await this.get(name)] as const));
    return Object.fromEntries(entries);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    for (const [name, instance] of this.#instances) {
      const value = await instance.catch(() => undefined);
      if (value !== undefined) await this.#definitions[name]?.teardown?.(value);
    }
    this.#instances.clear();
  }
}
