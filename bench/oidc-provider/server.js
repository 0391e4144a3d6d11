// The peer of `make bench-e2e`: node's oidc-provider 9 configured as closely to the portal as it
// allows, driven by the same load generator (bench/src/e2e/).
//
// Like the portal: authorization code + PKCE (S256, required), a confidential client with
// client_secret_basic, RS256 id_tokens, refresh tokens rotated on every use, 5-minute access tokens
// and id_tokens. Where it differs (docs/performance.md, "End to end"):
// - access tokens are opaque: its JWT access tokens (resource indicators) carry an `aud`, and its
//   userinfo endpoint refuses every token with an audience. So it signs 2 JWTs per flow where the
//   portal signs 4; the benchmark adds the cost of the missing 2 signs, measured in the same run
//   with sign.js (the same `jose` signing oidc-provider uses).
// - storage is its in-memory adapter (the portal writes SQLite), over a store that never evicts:
//   the stock one is an LRU of 1,000 entries, which dropped the sessions of the clients that sat
//   idle through the 1-client rounds, so their next authorization asked for a sign-in again.
// - sign-in: GET /interaction/:uid finishes login and consent at once for the bench account (the
//   portal's login and consent forms are real); after that, both reuse the session.
//
// Usage: node server.js PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
// Prints "ready <issuer>" on stdout once it listens.

import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
if (!port || !clientId || !clientSecret || !redirectUri) {
  console.error('usage: node server.js PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const ACCOUNT = 'bench-patient';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'bench-rs256' };

// Larger than every entry a run creates (about 6 per flow), so nothing is evicted; entries still
// expire with their tokens.
const store = new LRU({ maxSize: 10_000_000 });
const adapter = (model) => new MemoryAdapter(model, store);

const provider = new Provider(issuer, {
  adapter,
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }],
  jwks: { keys: [signingKey] },
  pkce: { required: () => true },
  // The portal issues a refresh token for its API scopes without `offline_access` (which
  // oidc-provider honours only with prompt=consent on every authorization request).
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  ttl: { AccessToken: 300, IdToken: 300, AuthorizationCode: 60, RefreshToken: 30 * 24 * 3600 },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, email: 'bench@example.com', email_verified: true }),
  }),
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['bench-cookie-key-not-secret'] },
});

async function finishInteraction(req, res) {
  const details = await provider.interactionDetails(req, res);
  let { grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: ACCOUNT, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: ACCOUNT }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const callback = provider.callback();
createServer((req, res) => {
  if (req.method === 'GET' && req.url.startsWith('/interaction/')) {
    finishInteraction(req, res).catch((error) => {
      res.statusCode = 500;
      res.end(String(error));
    });
    return;
  }
  callback(req, res);
}).listen(Number(port), '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
