// Amplify JS v6's relationships against `modelauth serve` on a project generated from
// tests/fixtures/relations.py. Run by tests/node/test_amplify_js.py (the same environment as
// amplify.test.mjs). Amplify's lazy loaders (`post.comments()`: listComments with a filter on the
// reference, `comment.post()`: getPost) and nested selection sets (`comments.*`: the
// Post.comments field's resolver) each answer with the related model's rules.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const { Amplify } = await import('aws-amplify');
const { generateClient } = await import('aws-amplify/data');
const { signIn, signOut } = await import('aws-amplify/auth');

const outputs = JSON.parse(readFileSync(process.env.MODELAUTH_OUTPUTS, 'utf8'));
const passwords = JSON.parse(process.env.MODELAUTH_PASSWORDS);
const run = Date.now().toString(36);

Amplify.configure(outputs);
const config = Amplify.getConfig();
const root = new URL('/', outputs.data.url).href;
Amplify.configure({
  ...config,
  Auth: { Cognito: { ...config.Auth.Cognito, userPoolEndpoint: root, identityPoolEndpoint: root } },
});
const client = generateClient();

async function signedInAs(username) {
  await signOut();
  const result = await signIn({ username, password: passwords[username] });
  assert.equal(result.isSignedIn, true, JSON.stringify(result));
}

function ok(result) {
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return result.data;
}

const ids = (items) => items.map((i) => i.id).sort();

describe('relationships through the Gen 2 typed client', () => {
  const post = `p-${run}`;
  before(async () => {
    await signedInAs('alice');
    ok(await client.models.Post.create({ id: post, title: 'hello' }));
    ok(await client.models.Comment.create({ id: `c1-${run}`, postId: post, body: 'mine' }));
    await signedInAs('bob');
    ok(await client.models.Comment.create({ id: `c2-${run}`, postId: post, body: 'for alice', viewers: ['alice'] }));
    ok(await client.models.Comment.create({ id: `c3-${run}`, postId: post, body: 'private' }));
  });

  test("the lazy loader post.comments() lists what the Comment rules let the caller read", async () => {
    await signedInAs('alice');
    const found = ok(await client.models.Post.get({ id: post }));
    assert.deepEqual(ids(ok(await found.comments())), [`c1-${run}`, `c2-${run}`]);
    await signedInAs('carol'); // Admin: every comment
    const all = ok(await client.models.Post.get({ id: post }));
    assert.deepEqual(ids(ok(await all.comments())), [`c1-${run}`, `c2-${run}`, `c3-${run}`]);
  });

  test('a nested selection set resolves Post.comments with the same answer', async () => {
    await signedInAs('alice');
    const found = ok(await client.models.Post.get({ id: post }, { selectionSet: ['id', 'title', 'comments.*'] }));
    assert.deepEqual(ids(found.comments), [`c1-${run}`, `c2-${run}`]);
  });

  test("a parent the caller may not read: null with Amplify's error, lazily or nested", async () => {
    await signedInAs('bob');
    const mine = ok(await client.models.Comment.get({ id: `c2-${run}` }));
    const lazy = await mine.post();
    assert.equal(lazy.data, null);
    assert.equal(lazy.errors?.[0]?.message, 'Not Authorized to access getPost on type Query');
    const nested = await client.models.Comment.get({ id: `c2-${run}` }, { selectionSet: ['id', 'post.*'] });
    assert.equal(nested.data?.id, `c2-${run}`, JSON.stringify(nested));
    assert.equal(nested.data?.post, null);
    assert.equal(nested.errors?.[0]?.message, 'Not Authorized to access post on type Comment');
    assert.equal(nested.errors?.[0]?.errorType, 'Unauthorized');
    await signedInAs('alice');
    const readable = ok(await client.models.Comment.get({ id: `c2-${run}` }));
    assert.equal(ok(await readable.post()).title, 'hello');
  });
});
