// drizzle-kit configuration: `npm run db:generate` writes SQL migrations from db/sqlite/schema.ts.
import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'sqlite',
  schema: './db/sqlite/schema.ts',
  out: './db/sqlite/migrations',
  casing: 'snake_case'
})
