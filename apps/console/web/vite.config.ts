import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

// `vite` (dev) proxies the API to a console started with ./scripts/start; `vite build` writes the
// page the console's Node service serves.
export default defineConfig({
  root: here,
  plugins: [react()],
  build: { outDir: `${here}../dist/web`, emptyOutDir: true, reportCompressedSize: true },
  server: { proxy: { '/api': 'http://127.0.0.1:3005' } },
});
