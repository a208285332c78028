/** A small string key–value store (a JSON file in Node, localStorage in a browser). */
export interface KeyValueStore {
  get(key: string): string | undefined | null;
  set(key: string, value: string): void;
}
