// A software WebAuthn authenticator for the tests: ES256 and EdDSA credentials made with node:crypto,
// `none` attestation (CBOR by @simplewebauthn/server's own encoder), assertions signed with node:crypto.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto'
import { isoCBOR } from '@simplewebauthn/server/helpers'

const UP = 0x01
const UV = 0x04
const BE = 0x08
const BS = 0x10
const AT = 0x40

export interface SoftwareCredential {
  id: Buffer
  alg: -7 | -8
  privateKey: KeyObject
  /** The user handle the options gave, base64url. */
  userHandle: string
  counter: number
}

export interface CeremonyOverrides {
  origin?: string
  rpId?: string
  challenge?: string
  userVerified?: boolean
  type?: string
}

interface CreationOptions { challenge: string, rp: { id?: string }, user: { id: string } }
interface RequestOptions { challenge: string, rpId?: string, allowCredentials: Array<{ id: string }> }

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest()

function counterBytes (counter: number): Buffer {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(counter)
  return out
}

function coseKey (alg: -7 | -8, publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' })
  const x = new Uint8Array(Buffer.from(jwk.x!, 'base64url'))
  // COSE_Key (RFC 9053): kty 1, alg 3, crv -1, x -2, y -3.
  const map = alg === -7
    ? new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, x], [-3, new Uint8Array(Buffer.from(jwk.y!, 'base64url'))]])
    : new Map<number, number | Uint8Array>([[1, 1], [3, -8], [-1, 6], [-2, x]])
  return isoCBOR.encode(map)
}

export class SoftwareAuthenticator {
  readonly credentials: SoftwareCredential[] = []

  constructor (readonly origin: string, readonly options: { userVerifying?: boolean, backupEligible?: boolean, counterStep?: number } = {}) {}

  private flags (userVerified: boolean, attested = false): number {
    let flags = UP
    if (userVerified) flags |= UV
    if (this.options.backupEligible === true) flags |= BE | BS
    if (attested) flags |= AT
    return flags
  }

  private clientData (type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8')
  }

  /** navigator.credentials.create(): a new credential for `options`, as PublicKeyCredential.toJSON() gives it. */
  create (options: CreationOptions, alg: -7 | -8 = -7, overrides: CeremonyOverrides = {}) {
    const { privateKey, publicKey } = alg === -7 ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')
    const id = randomBytes(16)
    const credential: SoftwareCredential = { id, alg, privateKey, userHandle: options.user.id, counter: 0 }
    const rpId = overrides.rpId ?? options.rp.id!
    const idLength = Buffer.alloc(2)
    idLength.writeUInt16BE(id.length)
    const authData = Buffer.concat([
      sha256(rpId), Buffer.from([this.flags(overrides.userVerified ?? this.options.userVerifying ?? true, true)]), counterBytes(0),
      Buffer.alloc(16), idLength, id, coseKey(alg, publicKey)
    ])
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', new Uint8Array(authData)]]) as never)
    this.credentials.push(credential)
    return {
      id: b64(id),
      rawId: b64(id),
      type: 'public-key',
      response: {
        clientDataJSON: b64(this.clientData(overrides.type ?? 'webauthn.create', overrides.challenge ?? options.challenge, overrides.origin ?? this.origin)),
        attestationObject: b64(attestationObject),
        transports: ['internal']
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {}
    }
  }

  /**
   * navigator.credentials.get(): an assertion by `credential` (else the first one the options allow,
   * or this authenticator's first) for `options`. Each assertion advances the counter by counterStep (default 1).
   */
  get (options: RequestOptions, overrides: CeremonyOverrides & { credential?: SoftwareCredential, counter?: number } = {}) {
    const allowed = new Set(options.allowCredentials.map(c => c.id))
    const credential = overrides.credential ?? this.credentials.find(c => allowed.size === 0 || allowed.has(b64(c.id)))
    if (credential === undefined) throw new Error('no credential of this authenticator is allowed')
    credential.counter = overrides.counter ?? credential.counter + (this.options.counterStep ?? 1)
    const authData = Buffer.concat([
      sha256(overrides.rpId ?? options.rpId!), Buffer.from([this.flags(overrides.userVerified ?? this.options.userVerifying ?? true)]), counterBytes(credential.counter)
    ])
    const clientDataJSON = this.clientData(overrides.type ?? 'webauthn.get', overrides.challenge ?? options.challenge, overrides.origin ?? this.origin)
    const signed = Buffer.concat([authData, sha256(clientDataJSON)])
    // ES256 signatures are DER (WebAuthn §6.5.6), which is what node:crypto gives by default.
    const signature = sign(credential.alg === -7 ? 'sha256' : null, signed, credential.privateKey)
    return {
      id: b64(credential.id),
      rawId: b64(credential.id),
      type: 'public-key',
      response: {
        clientDataJSON: b64(clientDataJSON),
        authenticatorData: b64(authData),
        signature: b64(signature),
        userHandle: credential.userHandle
      },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {}
    }
  }
}
