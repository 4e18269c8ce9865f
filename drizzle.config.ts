// drizzle-kit configuration for SQLite: `npm run db:generate` writes its SQL migrations from
// db/sqlite/schema.ts, then PostgreSQL's (drizzle.postgres.config.ts).
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'sqlite',
  schema: './db/sqlite/schema.ts',
  out: './db/sqlite/migrations',
  casing: 'snake_case'
})
