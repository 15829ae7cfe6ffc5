// Amplify JS v6 (aws-amplify, Gen 2 typed client) against `modelauth serve` on the fixture project.
// Run by tests/node/test_amplify_js.py, which starts the endpoint and passes:
//   MODELAUTH_OUTPUTS    the amplify_outputs.json `modelauth outputs --local` wrote
//   MODELAUTH_PASSWORDS  {"alice": <password>, "bob": <password>}: the local user pool's users
// Everything goes through Amplify's own code: signIn runs SRP against the local user pool,
// generateClient() builds the documents from the outputs' model_introspection, its auth providers
// sign (SigV4 with identity-pool credentials) or attach the user's tokens, and its real-time
// provider runs the subscriptions (credentials in the header- subprotocol).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

// node 20 has no global WebSocket; Amplify's real-time provider needs one. It also always dials
// wss:// (appsyncUrl.mjs: `http://` is rewritten to `wss://`), and `modelauth serve` has no TLS:
// the local endpoint is dialled as ws://, which is the one thing this file does that a browser
// could not (see the README's frontend guide).
globalThis.WebSocket = class LocalWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(String(url).replace(/^wss:\/\/(127\.0\.0\.1|localhost)([:/])/, 'ws://$1$2'), protocols);
  }
};

const { Amplify } = await import('aws-amplify');
const { generateClient } = await import('aws-amplify/data');
const { fetchAuthSession, getCurrentUser, signIn, signOut } = await import('aws-amplify/auth');

const outputs = JSON.parse(readFileSync(process.env.MODELAUTH_OUTPUTS, 'utf8'));
const passwords = JSON.parse(process.env.MODELAUTH_PASSWORDS);
const run = Date.now().toString(36); // the backend outlives one run of this file: unique contents

function configure() {
  Amplify.configure(outputs); // the file as a frontend ships it
  const config = Amplify.getConfig();
  // the local endpoint also answers Cognito (user pool and identity pool) on its root URL
  const root = new URL('/', outputs.data.url).href;
  Amplify.configure({
    ...config,
    Auth: { Cognito: { ...config.Auth.Cognito, userPoolEndpoint: root, identityPoolEndpoint: root } },
  });
}

async function signedInAs(username) {
  await signOut();
  const result = await signIn({ username, password: passwords[username] }); // USER_SRP_AUTH
  assert.equal(result.isSignedIn, true, JSON.stringify(result));
  assert.equal((await getCurrentUser()).username, username);
}

const client = (() => {
  configure();
  return generateClient();
})();

function deniedError(result, field, type) {
  assert.ok(result.errors?.length, `expected an error, got ${JSON.stringify(result)}`);
  const [error] = result.errors;
  assert.equal(error.errorType, 'Unauthorized', JSON.stringify(error));
  assert.equal(error.message, `Not Authorized to access ${field} on type ${type}`);
  return error;
}

function ok(result) {
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data;
}

describe('amplify_outputs.json and sign-in', () => {
  test('configures Amplify: the API, its auth modes and every model', () => {
    configure();
    const { GraphQL } = Amplify.getConfig().API;
    assert.equal(GraphQL.endpoint, outputs.data.url);
    assert.equal(GraphQL.defaultAuthMode, 'userPool');
    assert.equal(GraphQL.apiKey, outputs.data.api_key);
    const models = Object.keys(GraphQL.modelIntrospection.models).sort();
    assert.deepEqual(models, ['CatalogItem', 'Item', 'Note', 'Post', 'Profile', 'Ticket', 'Todo']);
    assert.ok(client.models.Todo.onCreate && client.models.Todo.observeQuery);
  });

  test('signIn (SRP) against the local user pool; a wrong password as Amplify reports it', async () => {
    await signedInAs('alice');
    const { tokens } = await fetchAuthSession();
    assert.equal(tokens.idToken.payload['cognito:username'], 'alice');
    assert.deepEqual(tokens.accessToken.payload['cognito:groups'], ['editors']);
    await signOut();
    await assert.rejects(signIn({ username: 'bob', password: 'Wrong-password-1' }), { name: 'NotAuthorizedException' });
  });
});

describe('client.models as owner and as another user (userPool)', () => {
  let todo;
  before(() => signedInAs('alice'));

  test('the owner creates, gets, lists, updates and deletes', async () => {
    todo = ok(await client.models.Todo.create({ content: `milk ${run}` }));
    assert.equal(todo.owner, 'alice');
    assert.equal(ok(await client.models.Todo.get({ id: todo.id })).content, `milk ${run}`);
    const mine = ok(await client.models.Todo.list({ filter: { content: { eq: `milk ${run}` } } }));
    assert.deepEqual(mine.map((t) => t.id), [todo.id]);
    const updated = ok(await client.models.Todo.update({ id: todo.id, done: true }));
    assert.equal(updated.done, true);
    const gone = ok(await client.models.Todo.create({ content: `bread ${run}` }));
    assert.equal(ok(await client.models.Todo.delete({ id: gone.id })).id, gone.id);
    assert.equal(ok(await client.models.Todo.get({ id: gone.id })), null);
  });

  test("another user neither reads nor changes the owner's item", async () => {
    await signedInAs('bob');
    const got = await client.models.Todo.get({ id: todo.id });
    assert.equal(got.data, null);
    deniedError(got, 'getTodo', 'Query');
    const listed = ok(await client.models.Todo.list({ filter: { content: { eq: `milk ${run}` } } }));
    assert.deepEqual(listed, []);
    const update = await client.models.Todo.update({ id: todo.id, content: 'mine now' });
    assert.equal(update.data, null);
    assert.ok(update.errors.length, JSON.stringify(update));
    await signedInAs('alice');
    assert.equal(ok(await client.models.Todo.get({ id: todo.id })).content, `milk ${run}`);
  });

  test('an API key reads (the rule allows it) and may not write', async () => {
    const read = ok(await client.models.Todo.get({ id: todo.id }, { authMode: 'apiKey' }));
    assert.equal(read.owner, 'alice');
    const listed = ok(await client.models.Todo.list({ authMode: 'apiKey', filter: { id: { eq: todo.id } } }));
    assert.deepEqual(listed.map((t) => t.id), [todo.id]);
    const create = await client.models.Todo.create({ content: 'key' }, { authMode: 'apiKey' });
    assert.equal(create.data, null);
    deniedError(create, 'createTodo', 'Mutation');
  });

  test('a mutation condition is judged with the write: a false one changes nothing', async () => {
    const update = (condition, content) => client.graphql({
      query: `mutation ($input: UpdateTodoInput!, $condition: ModelTodoConditionInput) {
        updateTodo(input: $input, condition: $condition) { id content } }`,
      variables: { input: { id: todo.id, content }, condition },
    }).catch((e) => e); // Amplify rejects with the GraphQL result when there are errors
    const refused = await update({ content: { eq: 'not what it holds' } }, 'refused');
    assert.equal(refused.errors?.[0]?.errorType, 'DynamoDB:ConditionalCheckFailedException', JSON.stringify(refused));
    const held = await update({ content: { attributeExists: true } }, 'conditioned');
    assert.equal(held.data?.updateTodo?.content, 'conditioned', JSON.stringify(held));
  });
});

describe('identity pool (IAM): guest and signed-in identity', () => {
  test('a guest reads the public catalogue and may not own notes', async () => {
    await signOut();
    const session = await fetchAuthSession({ forceRefresh: true });
    assert.ok(session.credentials?.accessKeyId, 'guest credentials from the local identity pool');
    ok(await client.models.CatalogItem.list({ authMode: 'identityPool' }));
    ok(await client.models.Post.list({ authMode: 'identityPool' }));
    const note = await client.models.Note.create({ text: 'guest' }, { authMode: 'identityPool' });
    assert.equal(note.data, null);
    deniedError(note, 'createNote', 'Mutation');
  });

  test("a signed-in identity owns its notes; another identity can't read them", async () => {
    await signedInAs('alice');
    const { identityId } = await fetchAuthSession();
    const note = ok(await client.models.Note.create({ text: `n ${run}` }, { authMode: 'identityPool' }));
    assert.equal(note.owner, identityId);
    const mine = ok(await client.models.Note.list({ authMode: 'identityPool' }));
    assert.ok(mine.some((n) => n.id === note.id));
    assert.equal(ok(await client.models.Note.update({ id: note.id, text: 'edited' }, { authMode: 'identityPool' })).text, 'edited');
    await signedInAs('bob');
    const got = await client.models.Note.get({ id: note.id }, { authMode: 'identityPool' });
    assert.equal(got.data, null);
    deniedError(got, 'getNote', 'Query');
    await signedInAs('alice');
    assert.equal(ok(await client.models.Note.delete({ id: note.id }, { authMode: 'identityPool' })).id, note.id);
  });
});

describe("subscriptions through Amplify's real-time provider", { timeout: 60000 }, () => {
  const subscriptions = [];
  after(() => subscriptions.forEach((s) => s.unsubscribe()));

  function collect(observable) {
    const events = [];
    const errors = [];
    let ready;
    const started = new Promise((resolve) => (ready = resolve));
    subscriptions.push(observable.subscribe({ next: (e) => events.push(e), error: (e) => errors.push(e) }));
    return { events, errors, started, ready };
  }

  async function until(predicate, what) {
    for (let i = 0; i < 100; i++) {
      if (predicate()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`timed out waiting for ${what}`);
  }

  test('the owner receives their event and not another user\'s', async () => {
    await signedInAs('alice');
    const { Hub } = await import('aws-amplify/utils');
    const connected = new Promise((resolve) => {
      const stop = Hub.listen('api', ({ payload }) => {
        if (payload.event === 'ConnectionStateChange' && payload.data.connectionState === 'Connected') {
          stop();
          resolve();
        }
      });
    });
    const mine = collect(client.models.Todo.onCreate());
    const narrowed = collect(client.models.Todo.onCreate({ filter: { content: { beginsWith: `sub-b ${run}` } } }));
    await connected;
    await new Promise((r) => setTimeout(r, 500)); // start_ack of both subscriptions
    assert.deepEqual([...mine.errors, ...narrowed.errors], []);

    await signedInAs('bob');
    ok(await client.models.Todo.create({ content: `sub-bob ${run}` }));
    await signedInAs('alice');
    const a = ok(await client.models.Todo.create({ content: `sub-alice ${run}` }));
    const b = ok(await client.models.Todo.create({ content: `sub-b ${run}` }));
    await until(() => mine.events.length >= 2 && narrowed.events.length >= 1, 'the events');
    await new Promise((r) => setTimeout(r, 300)); // anything that should not arrive has had its chance
    assert.deepEqual(mine.events.map((e) => e.id).sort(), [a.id, b.id].sort());
    assert.deepEqual(narrowed.events.map((e) => e.id), [b.id]);
    assert.ok(mine.events.every((e) => e.owner === 'alice'));
  });

  test('a subscription filter on a field the caller may not read is refused', async () => {
    await signedInAs('bob');
    const refused = collect(client.models.Profile.onCreate({ filter: { ssn: { eq: '123' } } }));
    await until(() => refused.errors.length > 0, 'the refusal');
    assert.match(JSON.stringify(refused.errors[0]), /Unauthorized/);
  });

  test('observeQuery: a snapshot, then the owner\'s new item', async () => {
    await signedInAs('alice');
    const snapshots = collect(client.models.Todo.observeQuery({ filter: { content: { beginsWith: `obs ${run}` } } }));
    await until(() => snapshots.events.some((s) => s.isSynced), 'the first synced snapshot');
    assert.deepEqual(snapshots.events.at(-1).items, []);
    const item = ok(await client.models.Todo.create({ content: `obs ${run} 1` }));
    await until(() => snapshots.events.at(-1).items.some((t) => t.id === item.id), 'the new item in a snapshot');
    assert.deepEqual(snapshots.errors, []);
  });
});
