/**
 * jest setupFiles of the "postgres" projects (jest.config.js, tests/reliability/jest.config.js):
 * every stack, harness and testStore() of the suite runs on PostgreSQL (see testStore.ts).
 */
process.env.DEALGATE_TEST_STORE = 'postgres';
