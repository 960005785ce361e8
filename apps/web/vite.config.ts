import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Relative asset URLs so the daemon can serve dist/ at / (or under a prefix) without rewriting.
export default defineConfig({
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
});
