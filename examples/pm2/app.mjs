// A small HTTP key-value service on one silt index, meant to run under pm2
// (see README.md beside this file). Every instance opens the same index
// directory; with the default role the one holding the writer lock is the
// writer, the others forward their writes to it and read locally.
//
//   PUT /keys/:key   body = the value; 200 once the write is acknowledged
//   GET /keys/:key   200 with the value, 404 if absent
//   GET /role        {"pid": ..., "role": "writer" | "client" | "reader"}
//
// Environment: SILT_INDEX_DIR (required), PORT (default 3000),
// SILT_ROLE ('auto' by default, 'writer' or 'reader'), SILT_LOCK_TIMEOUT_MS.
import { createServer } from 'node:http';
import { Index, superviseIndex } from 'silt';

const MAX_VALUE_BYTES = 1024 * 1024;

const directory = process.env.SILT_INDEX_DIR;
if (directory === undefined || directory === '') {
  throw new Error('set SILT_INDEX_DIR to the index directory (every instance must get the same one)');
}
const port = Number(process.env.PORT ?? 3000);
const role = process.env.SILT_ROLE ?? 'auto';
const lockTimeoutMs = Number(process.env.SILT_LOCK_TIMEOUT_MS ?? 10_000);

const index = await Index.open(directory, { role, lockTimeoutMs, keyEncoding: 'utf8', valueEncoding: 'utf8' });
// Without a listener an 'error' event would end the process; the index goes on after one.
index.on('error', (error) => console.error(`silt: ${error.message}`));
index.on('role', (newRole) => console.log(`pid ${process.pid} is now the ${newRole}`));

const server = createServer((request, response) => {
  serve(request, response).catch((error) => reply(response, statusOf(error), { code: error.code ?? 'INTERNAL', message: error.message }));
});

async function serve(request, response) {
  const { pathname } = new URL(request.url, 'http://localhost');
  if (pathname === '/role' && request.method === 'GET') {
    return reply(response, 200, { pid: process.pid, role: index.stats().role });
  }
  const match = /^\/keys\/(.+)$/.exec(pathname);
  if (match === null) return reply(response, 404, { code: 'NOT_FOUND', message: `no route ${request.method} ${pathname}` });
  let key;
  try {
    key = decodeURIComponent(match[1]);
  } catch {
    return reply(response, 400, { code: 'BAD_KEY', message: 'the key is not valid percent-encoding' });
  }
  if (request.method === 'GET') {
    const value = index.get(key);
    if (value === undefined) return reply(response, 404, { code: 'NOT_FOUND', message: `no key ${key}` });
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', ...closingHeader() });
    return response.end(value);
  }
  if (request.method === 'PUT') {
    const value = await bodyOf(request);
    await index.set(key, value); // resolves once the writer acknowledged it, and this process reads it
    return reply(response, 200, { key });
  }
  return reply(response, 405, { code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not served` });
}

/** The HTTP status for an error a request ran into: the silt error's code says what the caller can do. */
function statusOf(error) {
  switch (error.code) {
    case 'SILT_VALIDATION':
    case 'BODY_TOO_LARGE':
      return 400;
    case 'SILT_READ_ONLY':
      return 405; // this instance opened the index as a reader: send writes to the writer app
    case 'SILT_WRITER_CHANGED':
      return 409; // may or may not be applied: read the key before writing it again
    case 'SILT_WRITER_UNREACHABLE':
    case 'SILT_CLOSED':
      return 503;
    case 'SILT_WRITER_REFUSED':
      return error.retryable ? 503 : 500;
    default:
      return 500;
  }
}

async function bodyOf(request) {
  const chunks = [];
  let bytes = 0;
  for await (const chunk of request) {
    bytes += chunk.length;
    if (bytes > MAX_VALUE_BYTES) throw Object.assign(new Error(`a value is at most ${MAX_VALUE_BYTES} bytes`), { code: 'BODY_TOO_LARGE' });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reply(response, status, body) {
  if (response.headersSent) return response.destroy();
  response.writeHead(status, { 'content-type': 'application/json', ...closingHeader() });
  response.end(JSON.stringify(body));
}

let closing = false;

/** Once the instance is stopping, each answer ends its keep-alive connection: the client's next request goes to another instance. */
function closingHeader() {
  return closing ? { connection: 'close' } : {};
}

/** Stops taking connections and resolves once every request in flight was answered (their writes acknowledged). */
function stopServing() {
  closing = true;
  return new Promise((resolve) => server.close(() => resolve()));
}

server.listen(port, () => {
  // Tells pm2 this instance is ready (wait_ready), and closes the index at SIGINT/SIGTERM
  // (pm2 stop, restart, reload) once the server answered what it had taken.
  superviseIndex(index, { beforeClose: stopServing });
});
