// `netpath trace` text shows the 802.1Q tags of each wire (issue 13): `[vlan 10]` after the device a
// hop's frame leaves by when that wire is tagged; a trace without tags prints exactly as before.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';
import { traceShort, traceText } from '../../../src/cli/traceText';
import type { Hop } from '../../../src/engine';
import { traceOf, vlanDemoHops } from '../webview/vlan-cases';

const untagged = (hops: Hop[]): Hop[] => hops.map((h) => ({ ...h, steps: h.steps.map((s) => (s.detail?.type === 'wire' ? { ...s, detail: { ...s.detail, vlans: undefined } } : s)) }));

describe('trace text with VLAN tags', () => {
  test('the long form: the tag after the out device of each tagged wire, none on the untagged ones', () => {
    const text = traceText(traceOf(vlanDemoHops()));
    const heads = text.split('\n').filter((l) => /^ \d\. /.test(l));
    assert.deepEqual(heads, [
      ' 1. host-a   in -   out eth0',
      ' 2. switch   in swp1   out swp3 [vlan 10]',
      ' 3. router   in eth0   out eth0 [vlan 20]',
      ' 4. switch   in swp3   out swp2',
      ' 5. host-b   in eth0   out -',
    ]);
  });

  test('stacked tags are printed outermost first', () => {
    const hops = vlanDemoHops();
    const sw = hops[1]!;
    hops[1] = { ...sw, steps: sw.steps.map((s) => (s.detail?.type === 'wire' ? { ...s, detail: { ...s.detail, vlans: [100, 10] } } : s)) };
    assert.match(traceText(traceOf(hops)), /out swp3 \[vlan 100\.10\]$/m);
    assert.match(traceShort(traceOf(hops)), /swp1 -> swp3 \[vlan 100\.10\]/);
  });

  test('the short form: the tags in the out column, which stays aligned', () => {
    const lines = traceShort(traceOf(vlanDemoHops())).split('\n').filter((l) => /^ \d\. /.test(l));
    assert.match(lines[1]!, /swp1 -> swp3 \[vlan 10\]/);
    assert.match(lines[2]!, /eth0 -> eth0 \[vlan 20\]/);
    // The column after the out device starts at the same place on every line that has one.
    const starts = lines.slice(0, 4).map((l) => l.search(/ {2}(fdb|underlay|route|origin) /));
    assert.equal(new Set(starts).size, 1, lines.join('\n'));
  });

  test('without tags the text has no [vlan] and no extra column', () => {
    const plainHops = untagged(vlanDemoHops());
    assert.ok(!traceText(traceOf(plainHops)).includes('[vlan'));
    const short = traceShort(traceOf(plainHops));
    assert.ok(!short.includes('[vlan'));
    assert.match(short, /^ 2\. switch {2}swp1 -> swp3 {2}fdb/m);
  });
});
