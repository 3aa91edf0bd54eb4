// The driver: runs the stages from a socket's send to every end, keeping each path's hops, the
// breadcrumbs that catch forwarding loops (batfish FlowTracer), and the forks (ECMP next hops, flood
// and VXLAN copies, candidate ports, netfilter outcomes), each explored depth first in order. Every
// path ends in a drop or a delivery that says how it ended. Deterministic: the same network and
// packet give the same paths.
import type { Addr } from '../../net/addr';
import type { Netns } from '../netns';
import { forkLabel } from '../narrate';
import type { CopyKind, Evidence, Fork, ForkChoice, Hop, StepDetail, StepKind, TracePath, Verdict } from '../trace';
import { brDevQueuePushXmit, brForward, brHandleFrame } from './bridge';
import { devQueueXmit, netifReceiveSkb, wireCross, wireXmit } from './dev';
import { ipVs, nfHook, nfVerdict } from './hooks';
import { fibResult, fibSelectPath, ipFinishOutput, ipForward, ipLocalDeliver, ipOutput, ipRcv, ipRouteInput, ipRouteOutput, netnsInferredStep, sockSendmsg } from './ip';
import { neighOutput } from './neigh';
import type { Packet, WalkTarget } from './packet';
import { linkEv, step, type Action, type Goto, type Here, type NetfilterHooks, type Stage, type Walk } from './stage';
import { ipipRcv, ipipXmit, wgRcv, wgXmit } from './tunnel';
import { vxlanEncap, vxlanXmit } from './vxlan';
import type { Network } from '../network';

const STAGES: { [S in Goto['stage']]: Stage<S> } = {
  sock_sendmsg: sockSendmsg,
  ip_route_output: ipRouteOutput,
  ip_rcv: ipRcv,
  ip_route_input: ipRouteInput,
  fib_result: fibResult,
  ip_forward: ipForward,
  fib_select_path: fibSelectPath,
  ip_output: ipOutput,
  ip_finish_output: ipFinishOutput,
  neigh_output: neighOutput,
  dev_queue_xmit: devQueueXmit,
  wire_xmit: wireXmit,
  wire_cross: wireCross,
  netif_receive_skb: netifReceiveSkb,
  br_handle_frame: brHandleFrame,
  br_forward: brForward,
  br_dev_queue_push_xmit: brDevQueuePushXmit,
  vxlan_xmit: vxlanXmit,
  vxlan_encap: vxlanEncap,
  ipip_xmit: ipipXmit,
  ipip_rcv: ipipRcv,
  wg_xmit: wgXmit,
  wg_rcv: wgRcv,
  ip_local_deliver: ipLocalDeliver,
  nf_hook: nfHook,
  nf_verdict: nfVerdict,
  ip_vs: ipVs,
};

const MAX_HOPS = 64;
/** Sends allowed once a loop is found: enough for any TTL to run out (255 hops). */
const MAX_LOOP_SENDS = 600;
/** Paths recorded at most (the walk still visits the rest, for what it needs from a collector). */
const MAX_PATHS = 256;

/** One path being walked. */
interface Cursor {
  hops: Hop[];
  crumbs: Set<string>;
  forks: Fork[];
  /** A copy whose end at a host it is not for is no failure of the path (TracePath.floodCopy). */
  floodCopy: boolean;
  copy?: CopyKind | undefined;
  probability?: number | undefined;
  endpoint?: { ip: string; port?: number } | undefined;
  /**
   * Set once the packet is caught in a forwarding loop: it keeps going round (so the TTL runs out
   * where the kernel's does) but the repeated hops are not recorded again.
   */
  loop?: { host: string; dev: string; hosts: Set<string>; sends: number; total: number; silentHop?: Hop } | undefined;
}

export class Walker implements Walk {
  readonly traces: TracePath[] = [];
  readonly needs = new Set<string>();
  readonly settles = new Set<string>();
  pickedSrc: Addr | undefined;
  readonly netfilter: NetfilterHooks | undefined;

  constructor(
    readonly net: Network,
    readonly target: WalkTarget,
  ) {
    this.netfilter = net.netfilter;
  }

  wantOwnersOf(ip: Addr | undefined): void {
    if (!ip) return;
    for (const h of this.net.reported.get(ip.toString()) ?? []) {
      // A hostNetwork pod shares its node's tables: the node is the host to read.
      if (h.role === 'pod' && h.hostNetwork) continue;
      const ns = this.net.hosts.get(h.name);
      if (ns && ns.probes.size === 0) this.needs.add(ns.name);
    }
  }

  private want(ns: Netns): void {
    if (ns.probes.size === 0) this.needs.add(ns.name);
  }

  /** A packet created by a socket in `ns`: walk it to every end. */
  originate(ns: Netns, pkt: Packet): void {
    const c: Cursor = { hops: [], crumbs: new Set(), forks: [], floodCopy: false };
    this.enter(c, ns, null);
    this.run(c, { stage: 'sock_sendmsg', ns, pkt });
  }

  private run(c0: Cursor, g0: Goto): void {
    // Depth first: a fork's branches are pushed last-first, so the first is walked to its end first.
    const stack: { c: Cursor; g: Goto }[] = [{ c: c0, g: g0 }];
    while (stack.length) {
      const { c, g: first } = stack.pop()!;
      let g: Goto | undefined = first;
      // What the stages may read of the path, one object per path kept up to date (no allocation per stage).
      const here: Here = { hops: 0, floodCopy: c.floodCopy, endpoint: c.endpoint };
      while (g) {
        const a: Action | undefined = g.stage === 'dev_queue_xmit' ? this.xmitGuard(c, g) : undefined;
        here.hops = c.hops.length;
        here.endpoint = c.endpoint;
        const action = a ?? (STAGES[g.stage] as Stage<Goto['stage']>)(this, here, g);
        g = this.apply(c, action, stack);
      }
    }
  }

  /** Applies an action to the path; returns the next stage, or undefined when the path ended or forked. */
  private apply(c: Cursor, a: Action, stack: { c: Cursor; g: Goto }[]): Goto | undefined {
    if (a.out !== undefined) this.hop(c).out = a.out;
    for (const s of a.steps ?? []) this.hop(c).steps.push(s);
    if (a.enter) this.enter(c, a.enter.ns, a.enter.dev);
    if (a.endpoint) c.endpoint = a.endpoint;
    switch (a.kind) {
      case 'continue':
        return a.next;
      case 'fork':
        for (let i = a.branches.length - 1; i >= 0; i--) {
          const b = a.branches[i]!;
          const cc = this.fork(c, b.fork, b.floodCopy, b.copy);
          if (b.probability !== undefined) cc.probability = (cc.probability ?? 1) * b.probability;
          if (b.endpoint) cc.endpoint = b.endpoint;
          for (const s of b.steps ?? []) this.hop(cc).steps.push(s);
          stack.push({ c: cc, g: b.next });
        }
        return undefined;
      case 'deliver':
        this.end(c, 'delivered', a.detail, null, 'deliver', a.records, a.inferred);
        return undefined;
      case 'drop':
        this.end(c, a.verdict, a.detail, a.dev, 'drop', a.records, a.inferred);
        return undefined;
    }
  }

  /**
   * Before dev_queue_xmit: breadcrumbs. The same packet out of the same device again is a forwarding
   * loop; the kernel does not notice and forwards until the TTL runs out, so the walk goes on quietly.
   * A loop that never lowers the TTL (bridges only) would go round for ever: it is stopped.
   */
  private xmitGuard(c: Cursor, { ns, dev, frame }: Extract<Goto, { stage: 'dev_queue_xmit' }>): Action | undefined {
    const crumb = `${ns.name}|${dev.name}|${frame.pkt.src}|${frame.pkt.dst}|${frame.pkt.vni ?? ''}|${frame.dstMac ?? (frame.dstNic ? `${frame.dstNic.ns.name}/${frame.dstNic.iface.name}` : '')}${frame.vlans?.length ? `|${frame.vlans.join('.')}` : ''}`;
    if (c.loop) {
      if (ns.name === c.loop.host && dev.name === c.loop.dev) c.loop.sends++;
      if (++c.loop.total > MAX_LOOP_SENDS) return { kind: 'drop', verdict: 'loop', detail: { type: 'l2-loop', hosts: [...c.loop.hosts] }, dev: dev.name };
    } else if (c.crumbs.has(crumb)) {
      this.hop(c).steps.push(step('forward', { type: 'loop', ns: ns.name, dev: dev.name }, [linkEv(ns, dev)]));
      c.loop = { host: ns.name, dev: dev.name, hosts: new Set([ns.name]), sends: 0, total: 0 };
    } else c.crumbs.add(crumb);
    if (c.hops.length > MAX_HOPS) return { kind: 'drop', verdict: 'loop', detail: { type: 'too-many-hops', max: MAX_HOPS }, dev: dev.name };
    return undefined;
  }

  private hop(c: Cursor): Hop {
    return c.loop?.silentHop ?? c.hops[c.hops.length - 1]!;
  }

  private enter(c: Cursor, ns: Netns, inDev: string | null): void {
    // A pod without tables that a flood copy reaches is not on the path unless it is the destination:
    // its tables would change nothing, so a collector need not read it.
    if (!(ns.inferred && c.floodCopy && ns.name !== this.target.host)) this.want(ns);
    const hop: Hop = { host: ns.host.name, in: inDev, out: null, steps: [] };
    if (c.loop) {
      // Going round the loop again: only the hop where it finally stops is recorded.
      c.loop.hosts.add(ns.name);
      c.loop.silentHop = hop;
      return;
    }
    c.hops.push(hop);
    // A packet that arrives in a namespace the capture holds no tables for: say what stands in for them.
    if (inDev !== null) {
      const s = netnsInferredStep(ns);
      if (s) hop.steps.push(s);
    }
  }

  /** A copy of the path for one alternative; it stays a copy, except that a VXLAN fork decides anew. */
  private fork(c: Cursor, fork: ForkChoice, floodCopy: boolean, copy: CopyKind | undefined): Cursor {
    return {
      hops: c.hops.map((h, i) => (i === c.hops.length - 1 ? { ...h, steps: [...h.steps] } : h)),
      crumbs: new Set(c.crumbs),
      forks: [...c.forks, { ...fork, label: forkLabel(fork) }],
      floodCopy,
      copy: floodCopy ? (c.floodCopy ? c.copy : copy) : undefined,
      probability: c.probability,
      endpoint: c.endpoint,
      loop: c.loop ? { ...c.loop, hosts: new Set(c.loop.hosts) } : undefined,
    };
  }

  private end(c: Cursor, verdict: Verdict, detail: StepDetail, dropDev: string | null, stepKind: StepKind, records: (Evidence | undefined)[] = [], inferred = false): void {
    if (this.traces.length >= MAX_PATHS) return;
    if (c.loop?.silentHop) {
      // The loop ends here: record this last hop (only its final step) after the ones already shown.
      const last = c.loop.silentHop;
      c.hops = [...c.hops, { ...last, steps: [] }];
      c.loop.silentHop = undefined;
      detail = { ...detail, loop: { hosts: [...c.loop.hosts], host: c.loop.host, dev: c.loop.dev, times: c.loop.sends + 2 } };
    }
    const h = this.hop(c);
    if (verdict === 'insufficient-data') {
      const ns = this.net.hosts.get(h.host);
      if (ns) this.want(ns);
    }
    const s = step(stepKind, detail, records, inferred ? { inferred } : {});
    h.steps.push(s);
    const discarded = c.floodCopy && verdict === 'wrong-destination';
    this.traces.push({
      verdict,
      hops: c.hops,
      dropAt: verdict === 'delivered' ? null : { host: h.host, dev: dropDev },
      reason: s.text,
      branch: c.forks.map((f) => f.label).join(' / '),
      floodCopy: c.floodCopy,
      // Fields past here were added after netpath 0.1 (the JSON grows by adding).
      ending: verdict === 'delivered' ? 'delivered' : discarded ? 'discarded' : verdict === 'insufficient-data' ? 'undecided' : 'dropped',
      forks: c.forks,
      ...(c.copy ? { copy: c.copy } : {}),
      ...(c.endpoint ? { endpoint: c.endpoint } : {}),
      ...(c.probability !== undefined ? { probability: c.probability } : {}),
    });
  }
}
