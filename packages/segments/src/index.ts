// Both halves of @silt/segments: `./file` (the segment file) and `./catalog`
// (manifest, leases, writer lock, collector). Each is also its own subpath
// export, `@silt/segments/file` and `@silt/segments/catalog`.
// What silt's other packages share beyond that is in `./internal.ts`.
export * from './file/index.js';
export * from './catalog/index.js';
