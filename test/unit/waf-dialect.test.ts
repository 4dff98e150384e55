import { describe, expect, it } from 'vitest';
import { formatIssue } from '../../src/config/yaml-source.js';
import { validateProductsText } from '../../src/products/products-config.js';
import { pcrePattern } from '../../src/products/waf-dialect.js';

describe('WAF regex dialect (issue 11, items 2 and 3)', () => {
  it.each([
    ['\\.php$', '\\.php\\z'],
    ['[$]x', '[$]x'],
    ['a\\$', 'a\\$'],
    ['(?:union|select)\\s+', '(?:union|select)[\\t\\n\\f\\r ]+'],
    ['[^\\s/]', '[^\\t\\n\\f\\r /]'],
    ['\\S+$', '[^\\t\\n\\f\\r ]+\\z'],
    ['^(?:sqlmap|nikto)', '^(?:sqlmap|nikto)'],
  ])('spells %s for PCRE as %s', (source, pcre) => {
    expect(pcrePattern(source)).toBe(pcre);
  });

  it('names a refused WAF pattern with FILE:LINE:COL', () => {
    const text = 'origin: { url: "http://127.0.0.1:9000" }\nwaf:\n  - { id: a, field: path, pattern: "(?<=x)y" }\n';
    expect(validateProductsText(text, 'products.yaml').map(formatIssue)).toEqual([expect.stringMatching(/^products\.yaml:3:36: waf\[0\]\.pattern: "\(\?<=x\)y": lookbehind/)]);
  });
});
