// drizzle-kit configuration for PostgreSQL: `npm run db:generate` writes its SQL migrations from
// db/postgres/schema.ts, beside SQLite's (drizzle.config.ts).
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'postgresql',
  schema: './db/postgres/schema.ts',
  out: './db/postgres/migrations',
  casing: 'snake_case'
})
