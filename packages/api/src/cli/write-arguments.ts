import { indexOptionsSchema } from '../index.js';

/** The index's default value limit: what a CLI write is checked against before anything is opened. */
export const MAX_VALUE_BYTES = indexOptionsSchema.parse({}).maxValueBytes;
