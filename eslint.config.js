// Lint rules of the house (see README "Formatting and linting"). Prettier owns layout;
// ESLint owns what layout cannot say.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Prettier wraps code at 140 columns; this holds comments to it too. Literals are exempt: a message split to fit is hard to grep.
      'max-len': ['error', { code: 140, ignoreUrls: true, ignoreRegExpLiterals: true, ignoreStrings: true, ignoreTemplateLiterals: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ExportDefaultDeclaration',
          message: 'No default exports: name what a module exports.',
        },
        {
          selector: 'PrivateIdentifier',
          message: 'One private-field style: use TypeScript `private`, not `#`.',
        },
        {
          selector:
            'PropertyDefinition[readonly!=true][static!=true][accessibility!="private"][accessibility!="protected"], TSParameterProperty[readonly!=true][accessibility="public"]',
          message: 'No public mutable class fields: make it readonly, private, or a getter.',
        },
      ],
    },
  },
);
