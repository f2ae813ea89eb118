// An OpenID provider on loopback for Skillmesh's single sign-on tests
// (tests/e2e/common/oidc.rs starts it). It is panva's oidc-provider, an
// OpenID-certified implementation, with one client and a table of people
// given by the test. The login page is ours (plain HTML, no outside
// fonts or scripts), so the browser under test reaches nothing but
// loopback; consent is given at once, as a company provider does for
// its own applications.
//
// Settings, from the environment:
//   OIDC_PORT          the port to listen on (127.0.0.1)
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI  the one client
//   OIDC_PEOPLE        JSON: { login: { password, email, email_verified,
//                      name, groups } }
// Prints "listening <issuer>" once it serves.

import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
const issuer = `http://127.0.0.1:${port}`;
const people = JSON.parse(process.env.OIDC_PEOPLE || '{}');

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID,
    client_secret: process.env.OIDC_CLIENT_SECRET,
    redirect_uris: [process.env.OIDC_REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  pkce: { required: () => true },
  cookies: { keys: ['skillmesh-test-provider-only'] },
  features: { devInteractions: { enabled: false } },
  async findAccount(ctx, id) {
    const person = people[id];
    if (!person) return undefined;
    return {
      accountId: id,
      async claims() {
        const { password, ...claims } = person;
        return { sub: id, ...claims };
      },
    };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
// Plain http on loopback: the test's own provider, never a real one.
provider.proxy = false;

function page(res, body, status = 200) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><head><title>Test provider</title></head><body>${body}</body></html>`);
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    if (req.method === 'POST') {
      const form = await readForm(req);
      const login = form.get('login') || '';
      const person = people[login];
      if (!person || person.password !== form.get('password')) {
        return page(res, `<p id="error">Wrong login or password.</p>${loginForm(uid)}`, 401);
      }
      return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    }
    return page(res, loginForm(uid));
  }
  // Consent: granted at once for what the client asked.
  const { prompt: { details: missing }, params, session, grantId } = details;
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  const saved = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId: saved } }, { mergeWithLastSubmission: true });
}

function loginForm(uid) {
  return `<h1>Test provider</h1>
<form method="post" action="/interaction/${escape(uid)}">
  <label>Login <input id="login" name="login" autofocus></label>
  <label>Password <input id="password" name="password" type="password"></label>
  <button id="provider-signin" type="submit">Sign in</button>
</form>`;
}

const handle = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = /^\/interaction\/([^/?]+)/.exec(req.url);
  if (!match) return handle(req, res);
  try {
    await interaction(req, res, match[1]);
  } catch (e) {
    page(res, `<p id="error">${escape(e.message)}</p>`, 400);
  }
});
server.listen(port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
