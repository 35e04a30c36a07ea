import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import {
  consumerProjectForTests,
  describeFailure,
  runNode,
  runTsc,
  scratchDirectory,
  writeFiles,
  type Outcome,
} from './project-for-tests.js';
import { readmes, runnableExamples, type ReadmeExample } from './readme-examples.js';

// Every README block fenced ```js or ```ts, run as a user pastes it: into
// a file of a project where the tarballs are installed, from an empty
// working directory. The convention is in readme-examples.ts.

const project = consumerProjectForTests();
const examples = readmes().flatMap((readme) => runnableExamples(readme));

/** The example's file name: where it comes from, e.g. `packages-api-README.md-10.mjs`. */
function fileOf(example: ReadmeExample): string {
  const stem = `${example.readme.replaceAll('/', '-')}-${example.line}`;
  return example.language === 'js' ? `${stem}.mjs` : `${stem}.mts`;
}

/** tsc's output for the TypeScript examples, compiled together once (strict, library types checked too). */
let compiled: Outcome | undefined;
function compileTypeScriptExamples(): Outcome {
  if (compiled !== undefined) return compiled;
  const directory = join(project().directory, 'readme-examples');
  const typescript = examples.filter((example) => example.language === 'ts');
  writeFiles(directory, {
    'tsconfig.json': JSON.stringify({
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        target: 'ES2022',
        module: 'nodenext',
        types: ['node'],
        outDir: 'out',
        rootDir: '.',
      },
      files: typescript.map(fileOf),
    }),
    ...Object.fromEntries(typescript.map((example) => [fileOf(example), example.code])),
  });
  compiled = runTsc(directory);
  return compiled;
}

test('the READMEs hold runnable examples (the convention found some)', () => {
  assert.ok(
    examples.some((example) => example.readme === 'README.md'),
    'the root README has none',
  );
  assert.ok(examples.length >= 5, `only ${examples.length} runnable examples`);
});

for (const example of examples) {
  test(`${example.readme}, the ${example.language} block at line ${example.line}, runs as pasted`, () => {
    const directory = join(project().directory, 'readme-examples');
    let script: string;
    if (example.language === 'js') {
      writeFiles(directory, { [fileOf(example)]: example.code });
      script = join(directory, fileOf(example));
    } else {
      const tsc = compileTypeScriptExamples();
      // Each example answers for its own errors; one no example's file explains fails them all.
      const errors = tsc.stdout.split('\n').filter((line) => line.startsWith(fileOf(example)));
      assert.deepEqual(errors, [], `tsc:\n${tsc.stdout}`);
      const unexplained = tsc.stdout
        .split('\n')
        .filter((line) => /error TS/.test(line) && !examples.some((e) => line.startsWith(fileOf(e))));
      assert.deepEqual(unexplained, [], describeFailure('tsc', tsc));
      script = join(directory, 'out', basename(fileOf(example), '.mts') + '.mjs');
    }
    const outcome = runNode([script], scratchDirectory(project(), 'example'));
    assert.equal(outcome.status, 0, describeFailure(`${example.readme}:${example.line}`, outcome));
  });
}
