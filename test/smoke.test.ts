import { describe, expect, it } from 'vitest';

describe('package - smoke', () => {
  it('loads', () => {
    expect(1 + 1).toBe(2);
  });
});
