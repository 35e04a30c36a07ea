// One writer process (fork mode) and a cluster of readers, on one silt index.
// The writer app opens the index with role 'writer' and takes the writes on
// its own port; the reader instances open it with role 'reader' (never
// writing: a PUT there answers 405 with SILT_READ_ONLY) and serve GETs on
// another port. Each app picks its role from SILT_ROLE in its `env` below.
// Readers see each acknowledged write within milliseconds (they tail the
// index's log). See README.md.
//
//   SILT_INDEX_DIR=/var/lib/myapp/index pm2 start ecosystem.fork-writer.config.cjs
const path = require('node:path');

const indexDirectory = process.env.SILT_INDEX_DIR ?? path.join(__dirname, 'data', 'index');

module.exports = {
  apps: [
    {
      name: 'silt-writer',
      script: 'app.mjs',
      cwd: __dirname,
      exec_mode: 'fork',
      instances: 1,
      wait_ready: true,
      listen_timeout: 10_000,
      kill_timeout: 1600,
      env: {
        SILT_INDEX_DIR: indexDirectory,
        SILT_ROLE: 'writer',
        // `pm2 restart` starts the new writer once the old one exited; the wait covers a
        // writer that another tool (a backup, `silt repair`) holds for a moment.
        SILT_LOCK_TIMEOUT_MS: '10000',
        PORT: process.env.WRITER_PORT ?? '3001',
      },
    },
    {
      name: 'silt-readers',
      script: 'app.mjs',
      cwd: __dirname,
      exec_mode: 'cluster',
      instances: 4,
      wait_ready: true,
      listen_timeout: 10_000,
      kill_timeout: 1600,
      env: {
        SILT_INDEX_DIR: indexDirectory,
        SILT_ROLE: 'reader',
        // A reader started before the writer created the index waits this long for it.
        SILT_LOCK_TIMEOUT_MS: '10000',
        PORT: process.env.READER_PORT ?? '3000',
      },
    },
  ],
};
