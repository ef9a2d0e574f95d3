// A set of names kept in sorted order, so "the first k names" costs O(k) instead of sorting the
// whole set on every request. Insert and delete are a binary search plus one array move
// (memmove-fast; 10,000 names move in microseconds).
export class SortedNames {
  private readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  has(name: string): boolean {
    const i = this.search(name);
    return this.names[i] === name;
  }

  add(name: string): boolean {
    const i = this.search(name);
    if (this.names[i] === name) return false;
    this.names.splice(i, 0, name);
    return true;
  }

  delete(name: string): boolean {
    const i = this.search(name);
    if (this.names[i] !== name) return false;
    this.names.splice(i, 1);
    return true;
  }

  /** The first `limit` names, sorted. */
  first(limit: number): string[] {
    return this.names.slice(0, limit);
  }

  /** The first index whose name is ≥ `name` (code-unit order, as Array.prototype.sort). */
  private search(name: string): number {
    let lo = 0;
    let hi = this.names.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.names[mid]! < name) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
