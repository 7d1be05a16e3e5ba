import { jsonDepth } from './json-body';

describe('jsonDepth', () => {
  it('measures nesting of objects and arrays without recursion', () => {
    expect(jsonDepth(1, 32)).toBe(0);
    expect(jsonDepth({}, 32)).toBe(1);
    expect(jsonDepth({ a: [1, { b: 2 }] }, 32)).toBe(3);
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepth(deep, 32)).toBe(33); // stops as soon as the limit is passed
  });
});
