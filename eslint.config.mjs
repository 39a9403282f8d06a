// ESLint: typescript-eslint's type-aware recommended rules. Formatting is Prettier's job
// (.prettierrc.json); no stylistic rule here. `npm run lint` runs both with zero warnings allowed.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The few adapters where `any` is the honest type; everywhere else `any` is an error. */
const anyAllowed = [
  // JSON scalar values: TypeORM's partial-entity types cannot map `unknown`.
  'src/graphql/scalars.ts',
];

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'bench/peer/', 'bench/results/', '.data/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // The project service finds each file's tsconfig (one program for all): fast enough for CI.
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // Apollo plugin hooks, resolvers and async iterators are `async` by contract, with or without an await.
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a value taken only to leave it out (destructuring) or a parameter a signature requires.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `ok ? a() : b()` and `cond && f()` as statements are used on purpose in tight loops.
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
    },
  },
  { files: anyAllowed, rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  {
    // Tests read GraphQL JSON responses (`any`) and check their shape with expect(); typing every response
    // would restate the schema in each test. The promise rules and the rest stay on.
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Plain JavaScript (jest.config.js, bench/*.cjs scripts run by node as they are): no types to check.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { module: 'readonly', require: 'readonly', process: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
  },
  // CommonJS is what a .cjs file is.
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
