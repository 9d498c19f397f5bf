// A real OpenID Connect provider for the portal's login tests, built on `oidc-provider`.
//
// It behaves like GitLab's OIDC for the parts the portal uses: authorization code flow, ID tokens
// signed with RS256 under a `kid`, `sub` as the stable key and the `nickname`,
// `preferred_username`, `name`, `email`, `email_verified` and `groups` claims.
//
//   node provider.mjs [--port PORT] [--config CONFIG.json]
//
// PORT (or $OIDC_PORT) defaults to 0: a free port, which the READY line tells. CONFIG (or
// $OIDC_CONFIG) is a JSON file:
//   {"client": {"client_id": "...", "client_secret": "...", "redirect_uris": ["..."],
//               "post_logout_redirect_uris": ["..."]},
//    "accounts": [{"sub": "1001", "nickname": "alice", "name": "Alice", "email": "a@x.org",
//                  "password": "pw", "groups": ["nautes"]}]}
// $OIDC_CLIENT_ID, $OIDC_CLIENT_SECRET and $OIDC_REDIRECT_URIS (space separated) override the
// client's fields. Once listening it prints the single line `READY <issuer>`; SIGTERM (or SIGINT)
// stops it with exit status 0.
//
// Interactions are our own, not oidc-provider's devInteractions: GET /interaction/<uid> renders an
// HTML login form, POST `login` (nickname or email) and `password` to it signs in. Consent is
// granted without asking for the configured client (see loadExistingGrant), like a GitLab instance
// whose admin marked the application as trusted.

import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const SCOPES = ['openid', 'profile', 'email'];
const CLAIMS = {
  openid: ['sub', 'groups'],
  profile: ['name', 'nickname', 'preferred_username'],
  email: ['email', 'email_verified'],
};

function loadConfig() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      config: { type: 'string' },
    },
  });
  const configPath = values.config ?? process.env.OIDC_CONFIG;
  const config = configPath ? JSON.parse(readFileSync(configPath, 'utf8')) : {};
  const client = { ...(config.client ?? {}) };
  if (process.env.OIDC_CLIENT_ID) client.client_id = process.env.OIDC_CLIENT_ID;
  if (process.env.OIDC_CLIENT_SECRET) client.client_secret = process.env.OIDC_CLIENT_SECRET;
  if (process.env.OIDC_REDIRECT_URIS) {
    client.redirect_uris = process.env.OIDC_REDIRECT_URIS.split(/\s+/).filter(Boolean);
  }
  for (const field of ['client_id', 'client_secret', 'redirect_uris']) {
    if (!client[field] || client[field].length === 0) {
      throw new Error(`the client's ${field} is not configured (config file or $OIDC_* variables)`);
    }
  }
  const accounts = config.accounts ?? [];
  for (const account of accounts) {
    if (!account.sub || !account.nickname || typeof account.password !== 'string') {
      throw new Error(`an account needs sub, nickname and password: ${JSON.stringify(account)}`);
    }
  }
  const port = Number.parseInt(values.port ?? process.env.OIDC_PORT ?? '0', 10);
  return { port, client, accounts };
}

// A fresh RS256 signing key with its RFC 7638 thumbprint as `kid`.
function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  const thumbprint = createHash('sha256')
    .update(JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n }))
    .digest('base64url');
  return { ...jwk, kid: thumbprint, alg: 'RS256', use: 'sig' };
}

function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>${body}</body></html>
`;
}

function loginPage(uid, clientId, { login = '', error = '' } = {}) {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  return page('Sign in', `
<h1>Sign in to ${escapeHtml(clientId)}</h1>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}" autocomplete="off">
  <input type="hidden" name="prompt" value="login">
  <label>Username or email <input type="text" name="login" value="${escapeHtml(login)}" required autofocus></label>
  <label>Password <input type="password" name="password" required></label>
  <button type="submit">Sign in</button>
</form>
<p><a href="${escapeHtml(action)}/abort">Cancel</a></p>`);
}

function sameSecret(given, expected) {
  const a = createHash('sha256').update(String(given)).digest();
  const b = createHash('sha256').update(String(expected)).digest();
  return timingSafeEqual(a, b);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(html);
}

function buildProvider(issuer, { client, accounts }) {
  const bySub = new Map(accounts.map((a) => [String(a.sub), a]));

  function findLogin(login) {
    const wanted = String(login ?? '').trim().toLowerCase();
    if (!wanted) return undefined;
    return accounts.find(
      (a) => a.nickname.toLowerCase() === wanted || (a.email ?? '').toLowerCase() === wanted,
    );
  }

  // Grant the configured client every scope and claim it asks for, without a consent screen.
  async function grantFor(ctx, grant) {
    const { provider, client: oidcClient, session } = ctx.oidc;
    const g = grant ?? new provider.Grant({
      clientId: oidcClient.clientId,
      accountId: session.accountId,
    });
    g.addOIDCScope(SCOPES.join(' '));
    const requested = ctx.oidc.claims ?? {};
    const claimNames = new Set([
      ...Object.keys(requested.id_token ?? {}),
      ...Object.keys(requested.userinfo ?? {}),
    ]);
    if (claimNames.size) g.addOIDCClaims([...claimNames]);
    await g.save();
    return g;
  }

  const provider = new Provider(issuer, {
    clients: [{
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      post_logout_redirect_uris: [],
      ...client,
    }],
    jwks: { keys: [signingKey()] },
    responseTypes: ['code'],
    scopes: SCOPES,
    claims: CLAIMS,
    // Like GitLab: the ID token carries the profile and email claims too, not only userinfo.
    conformIdTokenClaims: false,
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: { enabled: true },
      userinfo: { enabled: true },
    },
    // PKCE is allowed (mozilla-django-oidc's OIDC_USE_PKCE) but not required of this client.
    pkce: { required: () => false },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    async loadExistingGrant(ctx) {
      const { client: oidcClient, session, result } = ctx.oidc;
      const grantId = result?.consent?.grantId || session.grantIdFor(oidcClient.clientId);
      const grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (oidcClient.clientId !== client.client_id) return grant;
      return grantFor(ctx, grant);
    },
    async findAccount(_ctx, sub) {
      const account = bySub.get(String(sub));
      if (!account) return undefined;
      return {
        accountId: String(account.sub),
        async claims() {
          return {
            sub: String(account.sub),
            nickname: account.nickname,
            preferred_username: account.preferred_username ?? account.nickname,
            name: account.name ?? account.nickname,
            email: account.email,
            email_verified: account.email_verified ?? true,
            groups: account.groups ?? [],
          };
        },
      };
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', `<h1>${escapeHtml(out.error)}</h1>
<p class="error_description">${escapeHtml(out.error_description)}</p>`);
    },
  });

  async function interaction(req, res, uid, action) {
    let details;
    try {
      details = await provider.interactionDetails(req, res);
    } catch (err) {
      send(res, 400, page('Error', `<h1>interaction not found</h1><p>${escapeHtml(err.message)}</p>`));
      return;
    }
    if (details.uid !== uid) {
      send(res, 400, page('Error', '<h1>interaction mismatch</h1>'));
      return;
    }
    const { prompt, params } = details;

    if (action === 'abort') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'End-User aborted interaction',
      }, { mergeWithLastSubmission: false });
      return;
    }

    if (prompt.name === 'consent') {
      // Only reached when the client forces it (prompt=consent): grant it there and then.
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ clientId: params.client_id, accountId: details.session.accountId });
      grant.addOIDCScope(SCOPES.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, {
        mergeWithLastSubmission: true,
      });
      return;
    }

    if (prompt.name !== 'login') {
      send(res, 501, page('Error', `<h1>prompt ${escapeHtml(prompt.name)} is not implemented</h1>`));
      return;
    }

    if (req.method === 'GET') {
      send(res, 200, loginPage(uid, params.client_id));
      return;
    }
    if (req.method !== 'POST') {
      send(res, 405, page('Error', '<h1>method not allowed</h1>'));
      return;
    }
    const form = await readForm(req);
    const account = findLogin(form.get('login'));
    if (!account || !sameSecret(form.get('password') ?? '', account.password)) {
      send(res, 200, loginPage(uid, params.client_id, {
        login: form.get('login') ?? '',
        error: 'Invalid login or password.',
      }));
      return;
    }
    await provider.interactionFinished(req, res, {
      login: { accountId: String(account.sub) },
    }, { mergeWithLastSubmission: false });
  }

  const oidc = provider.callback();
  return async function handle(req, res) {
    const { pathname } = new URL(req.url, issuer);
    const match = /^\/interaction\/([^/]+)(\/abort)?$/.exec(pathname);
    if (!match) {
      oidc(req, res);
      return;
    }
    try {
      await interaction(req, res, decodeURIComponent(match[1]), match[2] ? 'abort' : 'form');
    } catch (err) {
      console.error(err);
      if (!res.headersSent) send(res, 500, page('Error', `<h1>${escapeHtml(err.message)}</h1>`));
      else res.end();
    }
  };
}

function main() {
  const config = loadConfig();
  let handle = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = http.createServer((req, res) => handle(req, res));

  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  server.listen(config.port, '127.0.0.1', () => {
    const issuer = `http://127.0.0.1:${server.address().port}`;
    handle = buildProvider(issuer, config);
    process.stdout.write(`READY ${issuer}\n`);
  });
}

main();
