import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'packages/*/dist/**', 'coverage/**', '.tap/**', 'data/**', 'db/migrations/**', 'bench/results/**', 'test/generated/**', '.test-groups/**']
  }),
  {
    // TypeBox's idiom declares a schema and its static type under one name.
    rules: { '@typescript-eslint/no-redeclare': 'off' }
  }
]
