import {
  sql,
  type ColumnMetadata,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  type Dialect,
  type Kysely,
  type SchemaMetadata,
  type TableMetadata,
} from 'kysely';

/**
 * Wraps a PostgreSQL dialect so that introspection (which kysely's `Migrator` uses to see
 * whether its tables exist) looks at one schema only.
 *
 * Why: kysely's own introspector reads every table of every schema and calls
 * `has_schema_privilege(name)` on each; when another schema is dropped meanwhile, that fails
 * with `schema "…" does not exist` and the migration with it. It is also slow on a database
 * with many tables. This one filters on the schema name and looks nothing up by name.
 *
 * @example
 * new Kysely({ dialect: schemaScoped(new PostgresDialect({ pool }), 'tollgate') });
 */
export function schemaScoped(inner: Dialect, schema: string): Dialect {
  return {
    createDriver: () => inner.createDriver(),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db: Kysely<unknown>) => new SchemaIntrospector(db, schema),
  };
}

interface ColumnRow {
  table: string;
  kind: string;
  column: string | null;
  type: string | null;
  typeSchema: string | null;
  notNull: boolean | null;
  hasDefault: boolean | null;
  autoIncrementing: boolean | null;
}

class SchemaIntrospector implements DatabaseIntrospector {
  constructor(
    private readonly db: Kysely<unknown>,
    private readonly schema: string,
  ) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<SchemaMetadata>`
      select nspname as name from pg_catalog.pg_namespace where nspname = ${this.schema}`.execute(this.db);
    return rows;
  }

  async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    // Aliases are plain lower-case words: a CamelCasePlugin on `db` must not change them.
    const { rows } = await sql<ColumnRow>`
      select c.relname as "table", c.relkind as kind, a.attname as "column", t.typname as type,
             tn.nspname as "typeSchema", a.attnotnull as "notNull", a.atthasdef as "hasDefault",
             (a.attidentity <> '' or pg_get_expr(d.adbin, d.adrelid) like 'nextval(%') as "autoIncrementing"
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      left join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      left join pg_catalog.pg_type t on t.oid = a.atttypid
      left join pg_catalog.pg_namespace tn on tn.oid = t.typnamespace
      left join pg_catalog.pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
      where n.nspname = ${this.schema} and c.relkind in ('r', 'v', 'p')
      order by c.relname, a.attnum`.execute(this.db);
    const tables = new Map<string, { name: string; isView: boolean; schema: string; columns: ColumnMetadata[] }>();
    for (const row of rows) {
      if (!options.withInternalKyselyTables && row.table.startsWith('kysely_migration')) continue;
      let table = tables.get(row.table);
      if (!table) {
        table = { name: row.table, isView: row.kind === 'v', schema: this.schema, columns: [] };
        tables.set(row.table, table);
      }
      if (row.column === null) continue;
      table.columns.push({
        name: row.column,
        dataType: row.type ?? 'unknown',
        ...(row.typeSchema === null ? {} : { dataTypeSchema: row.typeSchema }),
        isNullable: row.notNull !== true,
        hasDefaultValue: row.hasDefault === true,
        isAutoIncrementing: row.autoIncrementing === true,
      });
    }
    return [...tables.values()];
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}
