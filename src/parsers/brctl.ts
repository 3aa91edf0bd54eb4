// `brctl show` (bridge-utils and BusyBox): a header, then per bridge a line
// `NAME<tabs>BRIDGE-ID<tab>STP<tabs>[FIRST-PORT]` and one tab-indented line per further port.
// Pasted copies often have the tabs expanded to spaces, so lines are read by their words: a line
// with one indented word continues the bridge above, a line with three or four words starts a bridge.
import { Collector, type Line, lines, tokens } from './common';
import type { BridgePortRecord, ParseResult } from './types';

const BRIDGE_ID = /^[0-9a-fA-F]{4}\.[0-9a-fA-F]{12}$/;
const EXPECTED = 'expected `NAME BRIDGE-ID STP [PORT]` or a continuation line with one port (brctl show)';

interface Bridge {
  name: string;
  bridgeId: string;
  stp: boolean;
  /** The bridge line's record when it had no port (replaced when a continuation port follows). */
  portless?: BridgePortRecord;
}

export function parseBrctl(text: string): ParseResult<BridgePortRecord> {
  const ls = lines(text);
  const c = new Collector<BridgePortRecord>(ls.length === 0 ? 'empty' : 'bridge-utils');
  let bridge: Bridge | undefined;
  c.each(ls, (l) => {
    const t = tokens(l.raw);
    if (t[0] === 'bridge' && t[1] === 'name') return; // the header
    // A port line is indented (the tabs before the interfaces column); a lone word at the margin is not one.
    if (t.length === 1 && /^\s/.test(l.raw)) {
      if (!bridge) {
        c.issue(l, `${EXPECTED}: a port line before any bridge line`);
        return;
      }
      if (bridge.portless) {
        // bridge-utils prints a port-less bridge line and then nothing; a port below it means the
        // first port was on the next line (a wrapped paste): the bridge is not port-less after all.
        c.records.splice(c.records.indexOf(bridge.portless), 1);
        bridge.portless = undefined;
      }
      c.records.push(record(bridge, t[0]!, l));
      return;
    }
    if ((t.length === 3 || t.length === 4) && BRIDGE_ID.test(t[1]!)) {
      bridge = { name: t[0]!, bridgeId: t[1]!.toLowerCase(), stp: stp(t[2]!) };
      const rec = record(bridge, t[3] ?? null, l);
      if (t[3] === undefined) bridge.portless = rec;
      c.records.push(rec);
      return;
    }
    // The bridge above stays current: a stray line between its ports must not cost the ports below it.
    c.issue(l, EXPECTED);
  });
  return c.result();
}

/** `no`/`yes` from bridge-utils; BusyBox prints the raw stp_state when it is neither 0 nor 1 (2: user-space STP). */
function stp(s: string): boolean {
  return s !== 'no' && s !== '0';
}

function record(b: Bridge, port: string | null, l: Line): BridgePortRecord {
  return { kind: 'bridge-port', bridge: b.name, bridgeId: b.bridgeId, stp: b.stp, port, src: { line: l.line, raw: l.raw } };
}
