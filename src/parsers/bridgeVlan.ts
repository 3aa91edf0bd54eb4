// `bridge vlan show` (text and `bridge -j vlan show`): a VLAN-aware bridge's VLAN table, per port
// (the bridge itself appears as a port for its own `self` VLANs). iproute2 prints, per port, its name
// at the margin and the first VLAN on that line, then one indented line per further VLAN:
//
//   port              vlan-id
//   br0               1 PVID Egress Untagged
//   eth1              1 PVID Egress Untagged
//                     10
//                     20-29
//
// (bridge/vlan.c print_vlan_info: "%-16s  " for the name, print_range() "%u" or "%u-%u", then
// bridge_print_vlan_flags(): " PVID" for BRIDGE_VLAN_INFO_PVID, " Egress Untagged" for
// BRIDGE_VLAN_INFO_UNTAGGED.) iproute2 before 2018 printed `port\tvlan ids`, `eth1\t 1 PVID ...`, a
// blank line after each port and `eth1\tNone` for a port without VLANs; `bridge -d vlan show` adds a
// `state forwarding ...` line under each VLAN. JSON: `[{"ifname","vlans":[{"vlan","vlanEnd","flags"}]}]`;
// 2016-2018 printed an object keyed by port name, and for a few months `"pvid": null, "untagged": null`.
import { Collector, type Line, isObject, jsonDocument, lines, num, str, tokens } from './common';
import type { BridgeVlanRecord, ParseResult } from './types';

const RANGE = /^(\d{1,4})(?:-(\d{1,4}))?$/;
const EXPECTED = 'expected `PORT VLAN[-VLAN] [PVID] [Egress Untagged]` or an indented `VLAN[-VLAN] ...` line (bridge vlan show)';

export function parseBridgeVlan(text: string): ParseResult<BridgeVlanRecord> {
  if (/^\s*[[{]/.test(text)) return parseJson(text);
  const ls = lines(text);
  const c = new Collector<BridgeVlanRecord>(ls.length === 0 ? 'empty' : 'iproute2');
  let port: string | undefined;
  let last: BridgeVlanRecord | undefined;
  c.each(ls, (l, i) => {
    const t = tokens(l.raw);
    if (i === 0 && t[0] === 'port' && (t[1] === 'vlan-id' || (t[1] === 'vlan' && t[2] === 'ids'))) {
      if (t.includes('tunnel-id')) c.issue(l, 'this is `bridge vlan tunnelshow` (VLAN to tunnel id), not the VLAN table: capture `bridge vlan show`');
      return;
    }
    let words = t;
    if (!/^\s/.test(l.raw)) {
      port = t[0]!;
      last = undefined;
      words = t.slice(1);
      // A port without VLAN information (iproute2 before 2018); nothing to record.
      if (words.length === 1 && words[0] === 'None') return;
      if (words.length === 0) {
        c.issue(l, `${EXPECTED}: port ${port} has no VLAN on its line`);
        return;
      }
    } else if (!port) {
      c.issue(l, `${EXPECTED}: a VLAN line before any port line`);
      return;
    }
    if (words[0] === 'state') {
      // `bridge -d vlan show`: the STP state of the VLAN above (and multicast options, not used).
      if (!last) c.issue(l, 'a `state` line with no VLAN above it (bridge -d vlan show)');
      else if (words[1]) last.state = words[1];
      return;
    }
    const rec = record(port, words, l, c);
    if (rec) {
      c.records.push(rec);
      last = rec;
    }
  });
  return c.result();
}

/** One VLAN (or range) and its flags, from the words after the port name. */
function record(port: string, words: string[], l: Line, c: Collector<BridgeVlanRecord>): BridgeVlanRecord | undefined {
  const m = RANGE.exec(words[0]!);
  const range = m ? vlanRange(Number(m[1]), m[2] === undefined ? undefined : Number(m[2])) : undefined;
  if (typeof range === 'string' || !range) {
    c.issue(l, `${EXPECTED}: ${range ?? `"${words[0]}" is not a VLAN id`}`);
    return undefined;
  }
  const rec: BridgeVlanRecord = { kind: 'bridge-vlan', port, vlan: range[0], pvid: false, untagged: false, src: { line: l.line, raw: l.raw } };
  if (range[1] !== range[0]) rec.vlanEnd = range[1];
  const unknown: string[] = [];
  for (let k = 1; k < words.length; k++) {
    const w = words[k]!;
    if (w === 'PVID') rec.pvid = true;
    else if (w === 'Egress' && words[k + 1] === 'Untagged') {
      rec.untagged = true;
      k++;
    } else if (w === 'untagged') rec.untagged = true;
    else unknown.push(w);
  }
  if (unknown.length) c.issue(l, `unknown flag${unknown.length > 1 ? 's' : ''} ${unknown.join(' ')} (kept the VLAN without ${unknown.length > 1 ? 'them' : 'it'})`, { kept: true });
  return rec;
}

/** [first, last] of a VLAN range, or why it is not one (ids 1-4094; 0 and 4095 are reserved by 802.1Q). */
function vlanRange(first: number, end: number | undefined): [number, number] | string {
  const last = end ?? first;
  if (first < 1 || last > 4094) return `VLAN ${first}${end !== undefined ? `-${end}` : ''} is outside 1-4094`;
  if (last < first) return `VLAN range ${first}-${end} ends before it begins`;
  return [first, last];
}

function parseJson(text: string): ParseResult<BridgeVlanRecord> {
  const c = new Collector<BridgeVlanRecord>('json');
  const { doc, issue } = jsonDocument(text);
  if (issue) {
    c.issues.push(issue);
    return c.result();
  }
  // [{"ifname": ..., "vlans": [...]}] since 2018; {"eth0": [...]} before.
  const ports: [string | undefined, unknown, string][] = Array.isArray(doc)
    ? doc.map((p) => [isObject(p) ? str(p.ifname) : undefined, isObject(p) ? p.vlans : undefined, JSON.stringify(p)])
    : isObject(doc)
      ? Object.entries(doc).map(([name, vlans]) => [name, vlans, JSON.stringify({ [name]: vlans })])
      : [];
  if (!Array.isArray(doc) && !isObject(doc)) c.issues.push({ line: 1, raw: text.trim().slice(0, 200), message: 'JSON form must be an array of ports (bridge -j vlan show)' });
  ports.forEach(([port, vlans, raw], i) => {
    const l = { line: i + 1, raw };
    if (port === undefined || !Array.isArray(vlans)) {
      c.issue(l, 'expected a port object with "ifname" and a "vlans" list (bridge -j vlan show)');
      return;
    }
    for (const v of vlans) {
      const one = { line: l.line, raw: `${port} ${JSON.stringify(v)}` };
      const first = isObject(v) ? num(v.vlan) : undefined;
      if (!isObject(v) || first === undefined || !Number.isInteger(first)) {
        c.issue(one, 'expected a VLAN object with a numeric "vlan" (bridge -j vlan show)');
        continue;
      }
      const end = num(v.vlanEnd);
      const range = vlanRange(first, end);
      if (typeof range === 'string') {
        c.issue(one, range);
        continue;
      }
      const flags = Array.isArray(v.flags) ? v.flags : [];
      const rec: BridgeVlanRecord = {
        kind: 'bridge-vlan',
        port,
        vlan: range[0],
        pvid: flags.includes('PVID') || 'pvid' in v,
        untagged: flags.includes('Egress Untagged') || 'untagged' in v,
        src: one,
      };
      if (range[1] !== range[0]) rec.vlanEnd = range[1];
      const state = str(v.state);
      if (state !== undefined) rec.state = state;
      c.records.push(rec);
    }
  });
  return c.result();
}
