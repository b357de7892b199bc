/**
 * The simulated network's fault model: per-message loss, duplication and delay (which also
 * reorders), occasional very late messages, and partitions (symmetric and asymmetric) that come
 * and go. It decides; the simulation carries the messages (as events in its queue).
 */
import type { NodeId } from '../core/types.ts';
import type { Prng } from './prng.ts';

/** Simulation time units per tick: messages arrive between ticks, nodes tick out of phase. */
export const UNITS_PER_TICK = 8;

/** How the network behaves during one phase of a run. */
export interface LinkQuality {
  /** Probability that a message is lost. */
  readonly lossRate: number;
  /** Probability that a message is delivered twice (each copy with its own delay). */
  readonly duplicateRate: number;
  /** Delays are drawn uniformly in [0, delayUnitsMax] units. */
  readonly delayUnitsMax: number;
  /** Probability that a message is held back for `lateTicksMax` ticks at most (a stale message). */
  readonly lateRate: number;
  readonly lateTicksMax: number;
  /**
   * Each link (from, to) delivers in send order, as the production stream transport does; only
   * late messages (a reconnect's retransmission) overtake. False: every message has its own
   * delay and any order is possible.
   */
  readonly ordered: boolean;
}

/** A perfect network, for the heal phase: no loss, no duplicates, short delays. */
export const HEALED_LINKS: LinkQuality = { lossRate: 0, duplicateRate: 0, delayUnitsMax: UNITS_PER_TICK, lateRate: 0, lateTicksMax: 0, ordered: true };

/** A cut: messages from `from` to `to` are dropped while it lasts. */
export interface Partition {
  readonly description: string;
  /** The tick at which it heals. */
  readonly endTick: number;
  /** The node it cuts off from everyone, if that is what it does. */
  readonly isolated?: NodeId;
  blocks(from: NodeId, to: NodeId): boolean;
}

/** Partitions active at once, at most. */
export const PARTITIONS_ACTIVE_MAX = 3;

export class SimNetwork {
  links: LinkQuality = HEALED_LINKS;
  private partitions: Partition[] = [];
  /** Per link `from>to`: the latest delivery time scheduled in order (ordered links only). */
  private readonly lastDelivery = new Map<string, number>();

  constructor(private readonly random: Prng) {}

  get activePartitions(): readonly Partition[] {
    return this.partitions;
  }

  blocked(from: NodeId, to: NodeId): boolean {
    for (const partition of this.partitions) if (partition.blocks(from, to)) return true;
    return false;
  }

  /**
   * The delivery times (in units) of the copies of a message sent now from `from` to `to`:
   * none when lost, two when duplicated. Events due at the same time keep their push order.
   */
  deliveryTimes(from: NodeId, to: NodeId, now: number): number[] {
    const links = this.links;
    if (links.lossRate > 0 && this.random.chance(links.lossRate)) return [];
    const copies = links.duplicateRate > 0 && this.random.chance(links.duplicateRate) ? 2 : 1;
    const times: number[] = [];
    const link = `${from}>${to}`;
    for (let i = 0; i < copies; i++) {
      if (links.lateRate > 0 && this.random.chance(links.lateRate)) {
        times.push(now + this.random.between(UNITS_PER_TICK, links.lateTicksMax * UNITS_PER_TICK));
        continue;
      }
      let time = now + this.random.between(0, links.delayUnitsMax);
      if (links.ordered) {
        time = Math.max(time, this.lastDelivery.get(link) ?? 0);
        this.lastDelivery.set(link, time);
      }
      times.push(time);
    }
    return times;
  }

  /** A new random link quality for the next phase of the chaos. */
  randomLinks(): LinkQuality {
    const r = this.random;
    return {
      lossRate: r.pick([0, 0, 0.01, 0.05, 0.1, 0.25]),
      duplicateRate: r.pick([0, 0.01, 0.05, 0.15]),
      delayUnitsMax: r.pick([2, UNITS_PER_TICK, 2 * UNITS_PER_TICK, 4 * UNITS_PER_TICK]),
      lateRate: r.pick([0, 0, 0.002, 0.01]),
      lateTicksMax: r.between(5, 40),
      ordered: r.chance(0.7),
    };
  }

  /**
   * Start a random partition among `nodes` lasting up to `ticksMax`; null when the limit of
   * active partitions is reached. `focus` (the leader, usually) is the likelier victim.
   */
  startRandomPartition(nodes: readonly NodeId[], nowTick: number, ticksMax: number, focus: NodeId | null): Partition | null {
    if (this.partitions.length >= PARTITIONS_ACTIVE_MAX || nodes.length < 2) return null;
    const r = this.random;
    const endTick = nowTick + r.between(2, ticksMax);
    const kind = r.int(5);
    const victim = (): NodeId => (focus !== null && r.chance(0.5) ? focus : r.pick(nodes));
    let partition: Partition;
    if (kind === 0) {
      const isolated = victim();
      partition = { description: `isolate ${isolated}`, endTick, isolated, blocks: (from, to) => from === isolated || to === isolated };
    } else if (kind === 1) {
      const first = victim();
      const others = r.shuffled(nodes.filter((id) => id !== first));
      const side = new Set([first, ...others.slice(0, r.between(0, Math.floor(nodes.length / 2) - 1))]);
      partition = {
        description: `split {${[...side].join(',')}} | rest`,
        endTick,
        blocks: (from, to) => side.has(from) !== side.has(to),
      };
    } else if (kind === 2) {
      const mute = victim();
      partition = { description: `${mute} cannot send`, endTick, blocks: (from) => from === mute };
    } else if (kind === 3) {
      const deaf = victim();
      partition = { description: `${deaf} cannot receive`, endTick, blocks: (_from, to) => to === deaf };
    } else {
      const cut = new Set<string>();
      const pairs = r.between(1, nodes.length);
      for (let i = 0; i < pairs; i++) {
        const from = r.pick(nodes);
        const to = r.pick(nodes);
        if (from !== to) cut.add(`${from}>${to}`);
      }
      partition = { description: `one-way cuts ${[...cut].join(' ')}`, endTick, blocks: (from, to) => cut.has(`${from}>${to}`) };
    }
    this.partitions.push(partition);
    return partition;
  }

  /** Whether some partition already cuts `id` off from everyone. */
  isIsolated(id: NodeId): boolean {
    return this.partitions.some((p) => p.isolated === id);
  }

  /** Cut `id` off from everyone until `endTick`; null when the limit of active partitions is reached or it already is. */
  isolate(id: NodeId, endTick: number): Partition | null {
    if (this.partitions.length >= PARTITIONS_ACTIVE_MAX || this.isIsolated(id)) return null;
    const partition: Partition = { description: `isolate ${id}`, endTick, isolated: id, blocks: (from, to) => from === id || to === id };
    this.partitions.push(partition);
    return partition;
  }

  /** Remove partitions due at `nowTick`; returns them. */
  healDue(nowTick: number): Partition[] {
    const due = this.partitions.filter((p) => p.endTick <= nowTick);
    if (due.length > 0) this.partitions = this.partitions.filter((p) => p.endTick > nowTick);
    return due;
  }

  /** Heal everything: no partitions, perfect links. */
  healAll(): void {
    this.partitions = [];
    this.links = HEALED_LINKS;
  }
}
