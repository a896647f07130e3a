// <vrf-key/> to the domain: the VRF public key its map labels are checked against (Stage 2).
import type { Element } from '../../../xml/index.ts';
import { buildVrfKey } from '../../../transparency/vrf-key.ts';
import type { MapKeys } from './map-keys.ts';

export const answerVrfKeyIq = (keys: MapKeys): Element => buildVrfKey(keys.vrf.publicKey);
