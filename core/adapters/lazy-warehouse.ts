import type { Row, Warehouse, WarehouseTransaction } from '../ports/warehouse.js';

/**
 * A `Warehouse` whose adapter is made on first use: a driver that is not needed (tedious when the
 * warehouse is PostgreSQL) is then never loaded, which keeps a small box's processes small.
 */
export class LazyWarehouse implements Warehouse {
  private opened: Promise<Warehouse> | undefined;

  constructor(
    readonly description: string,
    private readonly open: () => Promise<Warehouse>,
  ) {}

  private warehouse(): Promise<Warehouse> {
    return (this.opened ??= this.open());
  }

  async transaction<T>(fn: (tx: WarehouseTransaction) => Promise<T>): Promise<T> {
    return (await this.warehouse()).transaction(fn);
  }

  async query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    return (await this.warehouse()).query<R>(sql, params);
  }

  async close(): Promise<void> {
    if (this.opened) await (await this.opened).close();
  }
}
