// The docs treat theme components whose template root is inline (<Cost …/>) as inline HTML, so a
// paragraph line that starts with one stays in its paragraph (chapter 1 once fell into fragments).
import { describe, expect, it } from 'vitest';
import { inlineComponentTags, templateRoot } from '../../docs/.vitepress/inline-components.ts';

describe('inline components of the docs theme', () => {
  it('reads the root element of a template, comments aside', () => {
    expect(templateRoot('<script setup>x</script>\n<template>\n  <!-- a <div> in a comment -->\n  <span class="x">{{ v }}</span>\n</template>')).toBe('span');
    expect(templateRoot('<template><div class="viz"><span/></div></template>')).toBe('div');
  });
  it('finds Cost (a <span>) and none of the block components', () => {
    const tags = inlineComponentTags();
    expect(tags).toContain('Cost');
    expect(tags).toContain('cost');
    expect(tags).not.toContain('CostTable');
    expect(tags).not.toContain('WakeupViz');
  });
});
