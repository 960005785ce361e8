import { defineConfig } from 'drizzle-kit';

// `pnpm --filter @alter0/store run db:generate` writes a new forward-only SQL migration into drizzle/
// after a change to src/schema.ts. The folder ships with the package and is applied at start.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/schema.ts',
  out: './drizzle',
});
