// abstract-level ships its test suite (CommonJS, `module.exports = suite`) without types.
declare module 'abstract-level/test/index.js' {
  interface SuiteOptions {
    readonly test: unknown;
    readonly factory: (options?: never) => unknown;
  }
  function suite(options: SuiteOptions): void;
  export = suite;
}
