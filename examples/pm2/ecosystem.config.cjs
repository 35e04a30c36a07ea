// pm2 cluster mode: four instances of app.mjs share port 3000 and one silt
// index. Each opens it with the default role ('auto'): one is the writer,
// the others forward their writes to it, and one of them takes over within
// milliseconds when the writer stops or dies. See README.md.
//
//   SILT_INDEX_DIR=/var/lib/myapp/index pm2 start ecosystem.config.cjs
const path = require('node:path');

const indexDirectory = process.env.SILT_INDEX_DIR ?? path.join(__dirname, 'data', 'index');

module.exports = {
  apps: [
    {
      name: 'silt-app',
      script: 'app.mjs',
      cwd: __dirname,
      exec_mode: 'cluster',
      instances: 4,
      // app.mjs calls superviseIndex once it listens, which sends 'ready': pm2 waits for it
      // (up to listen_timeout) before it counts an instance as up, and during `pm2 reload`
      // before it stops the next old instance.
      wait_ready: true,
      listen_timeout: 10_000,
      // pm2 sends SIGINT, then SIGKILL after kill_timeout. superviseIndex closes the index
      // within 1.4 s; 1600 ms (pm2's default) leaves it room to exit by itself.
      kill_timeout: 1600,
      env: {
        SILT_INDEX_DIR: indexDirectory,
        PORT: process.env.PORT ?? '3000',
      },
    },
  ],
};
