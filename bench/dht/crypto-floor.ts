/**
 * The crypto floor of drogulus: the public-key and MAC work an operation
 * cannot avoid, priced with libsodium (sodium-native, what drogulus itself
 * uses) measured in the same run. Counts come from the nodes over the phase:
 * a message sealed with an Ed25519 signature costs 1 sign where it is sent
 * and 1 verify where it arrives; one sealed with a session MAC costs a keyed
 * BLAKE2b at each end; each session key derived costs an X25519 agreement.
 * Items are signed once by set(), checked by replicate(), by a local
 * replica, by each node a Store reaches, and by the lookup that finds them.
 * Everything above the floor is overhead: encoding, hashing, routing,
 * allocation, timers, sockets.
 */
import dgram from 'node:dgram';
import sodium from 'sodium-native';
import type { PhaseResult } from './phase.js';

export interface CryptoCost {
  readonly messageBytes: number;
  readonly signUs: number;
  readonly verifyUs: number;
  /** A 32-byte keyed BLAKE2b over the message (a session MAC). */
  readonly macUs: number;
  /** Ed25519 public key to X25519, X25519 agreement, BLAKE2b of the result (a session key). */
  readonly agreeUs: number;
  readonly samples: number;
}

export interface CryptoCounts {
  /** Ed25519 signatures made per operation: signed messages sent and items signed. */
  readonly signsPerOp: number;
  /** Ed25519 verifications per operation: signed messages received and items checked. */
  readonly verifiesPerOp: number;
  /** Session MACs computed per operation, at both ends. */
  readonly macsPerOp: number;
  readonly keyAgreementsPerOp: number;
  readonly meanMessageBytes: number;
}

export interface CryptoFloor extends CryptoCounts {
  readonly cost: CryptoCost;
  readonly floorMsPerOp: number;
  readonly cpuMsPerOp: number;
  /** CPU per operation ÷ floor: 1 would be nothing but cryptography. */
  readonly ratio: number;
  /** Messages (one datagram each) per operation. */
  readonly messagesPerOp?: number;
  /** CPU of one loopback datagram, sent by one node:dgram socket and received by another, in µs. */
  readonly datagramUs?: number;
  /** The floor plus messages × datagram cost: cryptography and the system calls no design on UDP avoids. */
  readonly floorWithDatagramsMsPerOp?: number;
  readonly ratioWithDatagrams?: number;
}

const ROUNDS = 5;

/**
 * Microseconds of CPU per call of `run`: the fastest of a few rounds, each
 * timed by process CPU time, so that other processes competing for the
 * cores (which stretch wall time, not CPU time) do not inflate it.
 */
const timeUs = (samples: number, run: (i: number) => void): number => {
  for (let i = 0; i < Math.min(200, samples); i++) run(i); // warm-up
  const perRound = Math.max(1, Math.ceil(samples / ROUNDS));
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < perRound; i++) run(i);
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / perRound);
  }
  return Math.round(best * 100) / 100;
};

/** Times `samples` of each operation (in all) on a `messageBytes`-byte message. */
export const measureCrypto = (messageBytes: number, samples = 2000): CryptoCost => {
  const keyPair = () => {
    const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
    const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
    sodium.crypto_sign_keypair(publicKey, secretKey);
    return { publicKey, secretKey };
  };
  const own = keyPair();
  const peer = keyPair();
  const message = Buffer.alloc(Math.max(1, Math.round(messageBytes)));
  sodium.randombytes_buf(message);
  const signature = Buffer.alloc(sodium.crypto_sign_BYTES);
  const signUs = timeUs(samples, (i) => {
    message[0] = i & 0xff;
    sodium.crypto_sign_detached(signature, message, own.secretKey);
  });
  let valid = 0;
  const verifyUs = timeUs(samples, () => {
    if (sodium.crypto_sign_verify_detached(signature, message, own.publicKey)) valid++;
  });
  if (valid === 0) throw new Error('measureCrypto: the signature does not verify');
  const key = Buffer.alloc(32, 7);
  const mac = Buffer.alloc(32);
  const macUs = timeUs(samples, () => sodium.crypto_generichash(mac, message, key));
  const curveSecret = Buffer.alloc(32);
  sodium.crypto_sign_ed25519_sk_to_curve25519(curveSecret, own.secretKey);
  const peerCurve = Buffer.alloc(32);
  const shared = Buffer.alloc(32);
  const both = Buffer.concat([shared, own.publicKey, peer.publicKey]);
  const agreeUs = timeUs(samples, () => {
    sodium.crypto_sign_ed25519_pk_to_curve25519(peerCurve, peer.publicKey);
    sodium.crypto_scalarmult(shared, curveSecret, peerCurve);
    sodium.crypto_generichash(key, both);
  });
  return { messageBytes: message.length, signUs, verifyUs, macUs, agreeUs, samples };
};

/** Cryptographic operations per operation in a drogulus phase, from its counter totals. */
export const cryptoCounts = (phase: PhaseResult): CryptoCounts => {
  const t = phase.totals;
  const ops = phase.completed;
  return {
    signsPerOp: (t.signedOut + t.itemSigns) / ops,
    verifiesPerOp: (t.signedIn + t.storesIn + t.itemChecks) / ops,
    macsPerOp: (t.macOut + t.macIn) / ops,
    keyAgreementsPerOp: t.keyAgreements / ops,
    meanMessageBytes: t.messages > 0 ? Math.round(t.bytesOut / t.messages) : 0,
  };
};

export const cryptoFloor = (phase: PhaseResult, cost: CryptoCost, datagramUs?: number): CryptoFloor => {
  const counts = cryptoCounts(phase);
  const floorMsPerOp = (counts.signsPerOp * cost.signUs + counts.verifiesPerOp * cost.verifyUs + counts.macsPerOp * cost.macUs + counts.keyAgreementsPerOp * cost.agreeUs) / 1000;
  const base = { ...counts, cost, floorMsPerOp, cpuMsPerOp: phase.cpuMsPerOp, ratio: phase.cpuMsPerOp / floorMsPerOp };
  if (datagramUs === undefined) return base;
  const messagesPerOp = phase.totals.messages / phase.completed;
  const floorWithDatagramsMsPerOp = floorMsPerOp + (messagesPerOp * datagramUs) / 1000;
  return { ...base, messagesPerOp, datagramUs, floorWithDatagramsMsPerOp, ratioWithDatagrams: phase.cpuMsPerOp / floorWithDatagramsMsPerOp };
};

/**
 * CPU per loopback datagram of `bytes` bytes, in µs: sent by one node:dgram
 * socket on 127.0.0.1 and received by another in the same process, in
 * batches of 32 (each awaited), the fastest of a few rounds timed by
 * process CPU time. This is what every message of every system here pays
 * in system calls and event-loop work before any protocol code runs.
 */
export const measureDatagramUs = async (bytes: number, samples = 2000): Promise<number> => {
  const receiver = dgram.createSocket('udp4');
  const sender = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', () => resolve()));
    await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', () => resolve()));
    const port = receiver.address().port;
    const payload = Buffer.alloc(Math.max(1, Math.round(bytes)), 7);
    let received = 0;
    let wake: (() => void) | undefined;
    let waitingFor = 0;
    receiver.on('message', () => {
      received++;
      if (wake && received >= waitingFor) wake();
    });
    const batch = async (n: number): Promise<void> => {
      waitingFor = received + n;
      const arrived = new Promise<void>((resolve) => (wake = resolve));
      for (let i = 0; i < n; i++) sender.send(payload, port, '127.0.0.1');
      // A lost datagram must not hang the benchmark.
      await Promise.race([arrived, new Promise<void>((resolve) => setTimeout(resolve, 200))]);
      wake = undefined;
    };
    await batch(64); // warm-up
    let best = Infinity;
    const perRound = Math.max(32, Math.ceil(samples / ROUNDS));
    for (let round = 0; round < ROUNDS; round++) {
      const before = process.cpuUsage();
      const start = received;
      for (let sent = 0; sent < perRound; sent += 32) await batch(32);
      const used = process.cpuUsage(before);
      const got = received - start;
      if (got > 0) best = Math.min(best, (used.user + used.system) / got);
    }
    return Math.round(best * 100) / 100;
  } finally {
    sender.close();
    receiver.close();
  }
};
