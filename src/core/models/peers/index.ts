/** The published fusion networks that run here from their released weights, by id. */
import { ifcnn } from './ifcnn';
import { seafusion } from './seafusion';
import { tardal } from './tardal';
import type { PeerDef } from './types';

export const PEERS = { seafusion, tardal, ifcnn } as const satisfies Record<string, PeerDef>;

export type PeerId = keyof typeof PEERS;

export const PEER_IDS = Object.keys(PEERS) as PeerId[];

export function isPeerId(s: string): s is PeerId {
  return Object.hasOwn(PEERS, s);
}

export { peerFolder, peerParamSpecs, type PeerDef, type PeerInput, type PeerParams } from './types';
export { runPeer, PEER_TILE } from './run';
