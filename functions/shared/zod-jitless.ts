// Imported first by each Lambda handler, before any module that builds a schema: zod reads the
// setting when an object schema is built. Without it, the first parse of each object schema
// generates and compiles a parser of its own (`new Function`), a cost every cold start pays for
// schemas that a warm function parses a few times per event, where the interpreted path costs
// microseconds.
import * as z from 'zod';

z.config({ jitless: true });
