import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * OAuth tokens at rest: AES-256-GCM with a random 96-bit nonce per value; the portal id is bound in
 * as associated data, so a token copied onto another account's row does not decrypt.
 * Stored as `v1.<nonce>.<tag>.<ciphertext>` (base64url parts); the version leaves room for a key rotation.
 */
export interface TokenCipher {
  encrypt(plain: string, portalId: number): string;
  decrypt(sealed: string, portalId: number): string;
}

const VERSION = 'v1';

export function createTokenCipher(key: Buffer): TokenCipher {
  if (key.length !== 32) throw new Error('the token encryption key must be 32 bytes');
  const aad = (portalId: number) => Buffer.from(`dealgate-account:${portalId}`, 'utf8');
  return {
    encrypt(plain, portalId) {
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(aad(portalId));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, nonce.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    decrypt(sealed, portalId) {
      const [version, nonce, tag, body] = sealed.split('.');
      if (version !== VERSION || nonce === undefined || tag === undefined || body === undefined) {
        throw new Error('stored token is not in a format this version can read');
      }
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64url'));
      decipher.setAAD(aad(portalId));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new Error(`stored token of account ${portalId} does not decrypt: was DEALGATE_TOKEN_ENCRYPTION_KEY changed?`);
      }
    },
  };
}
