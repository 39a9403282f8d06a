/**
 * CHECK constraints for the varchar columns that hold a GraphQL enum's values. The entities declare
 * them with `@Check(name, vocabularyCheck(column, Enum))`, so the values come from the same enum the
 * GraphQL type is built from; a row the API cannot represent is refused by the database itself.
 */
export function vocabularyCheck(column: string, values: Record<string, string>): string {
  return `"${column}" IN (${Object.values(values)
    .map((v) => `'${v.replace(/'/g, "''")}'`)
    .join(', ')})`;
}
