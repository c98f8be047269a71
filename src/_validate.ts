// Validation at the edges of the public API: zod schemas, failures turned
// into TorrentError INVALID_ARGUMENT with the path of the bad field.
import type { z } from "zod";
import { TorrentError } from "./errors.ts";

/** Parses `value` with `schema` or throws INVALID_ARGUMENT naming `where`. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ` : "") + i.message).join("; ");
  throw new TorrentError("INVALID_ARGUMENT", `${where}: ${issues}`, { cause: r.error });
}
