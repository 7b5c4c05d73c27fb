/** Quoting for DuckDB SQL text, shared by every module that builds DuckDB queries. */
export const sqlIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
