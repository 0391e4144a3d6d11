// What one RS256 JWT sign costs oidc-provider: `jose`'s SignJWT (the library it signs with) on a
// 2048-bit key, CPU time of this process per sign. The portal signs 4 JWTs per flow and
// oidc-provider, with opaque access tokens, 2: `make bench-e2e` adds 2 of these to its figure.
//
// Usage: node sign.js [COUNT]   prints {"signs": N, "cpu_us_per_sign": x}

import { generateKeyPairSync } from 'node:crypto';

import { SignJWT } from 'jose';

const count = Number(process.argv[2] ?? 2000);
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const claims = {
  iss: 'http://127.0.0.1:1', sub: 'bench-patient', aud: 'bench-client', scope: 'openid email',
  client_id: 'bench-client', jti: 'x'.repeat(22),
};

async function sign() {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: 'bench-rs256' })
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(privateKey);
}

for (let i = 0; i < 100; i += 1) await sign(); // warm-up (JIT)
const before = process.cpuUsage();
for (let i = 0; i < count; i += 1) await sign();
const used = process.cpuUsage(before);
console.log(JSON.stringify({ signs: count, cpu_us_per_sign: (used.user + used.system) / count }));
