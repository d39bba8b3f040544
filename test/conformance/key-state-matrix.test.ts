/**
 * The key state × operation matrix (kms-reference.md §8 and its footnotes), table-driven, through
 * @aws-sdk/client-kms against one server serving us-east-1 and eu-west-1.
 *
 * Columns: every key state that rotation, import (BYOK), multi-Region keys and deletion create,
 * and, where the footnotes depend on it ([6] [7] [8] [9]), the same state with AWS_KMS material
 * and with imported material:
 *   Enabled · Enabled (imported material) · Disabled · Disabled (imported material) ·
 *   PendingDeletion · PendingDeletion (imported material) · PendingImport (EXTERNAL key never
 *   imported) · PendingImport (after DeleteImportedKeyMaterial) · PendingReplicaDeletion
 *   (multi-Region primary with a replica in eu-west-1, scheduled for deletion).
 *
 * Not reachable, so not columns: `Unavailable` applies only to keys in a disconnected custom key
 * store, and Keyhold has no custom key stores; `Creating` and `Updating` are transient states of
 * ReplicateKey and UpdatePrimaryRegion, which Keyhold completes synchronously (the replica is
 * written with all its material, and the primary/replica swap is done, in one transaction before
 * the response), so no key is ever observed in them. The last test checks exactly that.
 *
 * Rows: every registry operation that names an existing key (a test checks the registry against
 * the table, so a new operation must be added here), plus DeleteAlias and RetireGrant (matrix
 * rows that name the key through an alias or a grant). ReEncrypt and UpdateAlias have two rows,
 * one per role of the key. ReplicateKey and UpdatePrimaryRegion run against a multi-Region
 * primary in the column's state (with a replica in eu-west-1 for UpdatePrimaryRegion where the
 * state allows one).
 *
 * Each cell is either success (with the key state afterwards when it changes) or the exact error
 * name and message. Cells whose success may change the key, and the rows that need a key built
 * for them (ReplicateKey, UpdatePrimaryRegion, ImportKeyMaterial with a genuine import token
 * fetched before the state), run on a fresh key; all others share one key per column, in table
 * order. After every call the test checks the key's state: unchanged unless the cell says
 * otherwise (so a refused call is also shown to have had no effect on the state).
 *
 * Where the expected outcome departs from the 2023 matrix, or settles one of its conditional
 * cells ("?", "[2] or [3]"), the cell follows Keyhold, because the reference marks the row
 * (inferred) or ⚠ or leaves the choice open, and Keyhold's choice is defensible:
 *  - Every "X [2] or [3]" cell (cryptographic operations, CreateGrant, ReplicateKey,
 *    UpdatePrimaryRegion on a key pending deletion): Keyhold answers [3]
 *    KMSInvalidStateException, one of the two the footnote allows and the one AWS is observed to
 *    send for Encrypt on a key pending deletion; DisabledException is kept for Disabled keys.
 *  - PendingReplicaDeletion messages: the footnotes print "<arn> is pending deletion (or pending
 *    replica deletion)."; Keyhold names the actual state: "<arn> is pending replica deletion." and
 *    "<arn> is not pending deletion." for [4].
 *  - RotateKeyOnDemand (inferred row) on keys with imported material in Disabled, PendingDeletion
 *    and PendingImport: the row says [1], [3], [5]; Keyhold answers [7]
 *    UnsupportedOperationException "<arn> origin is EXTERNAL which is not valid for this
 *    operation." in every state, as the EnableKeyRotation/DisableKeyRotation rows allow ("X [1]
 *    or [7]"): Keyhold cannot rotate imported material on demand at all (no NEW_KEY_MATERIAL
 *    import yet), and the origin check comes before the state check.
 *  - GetKeyRotationStatus and Enable/DisableKeyRotation on EXTERNAL keys ([6] ⚠ "may have
 *    changed"): Keyhold keeps UnsupportedOperationException, the published text.
 *  - ListKeyRotations (inferred) in PendingImport ("? [9]"): succeeds, as [9] refuses only keys that
 *    cannot have imported material.
 *  - ImportKeyMaterial in Enabled/Disabled with imported material ("? [9]"): re-importing the same
 *    material succeeds and leaves the state as it is (a Disabled key stays Disabled).
 *  - DeleteImportedKeyMaterial on a key pending deletion ("✓ [9]"): succeeds and the key stays
 *    PendingDeletion (AWS API reference); CancelKeyDeletion of such a key is not a column here.
 *  - RevokeGrant and RetireGrant in "PendingImport, never imported": the state does not block them
 *    (✓), but such a key can never have had a grant (CreateGrant is refused [5]), so the cell
 *    expects InvalidGrantIdException for an unknown grant id rather than a state error.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  GenerateMacCommand,
  GetPublicKeyCommand,
  SignCommand,
  VerifyCommand,
  VerifyMacCommand,
  DeriveSharedSecretCommand,
  EncapsulateCommand,
  DecapsulateCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  GetParametersForImportCommand,
  ImportKeyMaterialCommand,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyPoliciesCommand,
  ListKeyRotationsCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ReEncryptCommand,
  ReplicateKeyCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateKeyDescriptionCommand,
  UpdatePrimaryRegionCommand,
  type KMSClient,
  type KeyMetadata,
} from '@aws-sdk/client-kms';
import { encryptSymmetric } from '../../src/crypto/symmetric-ciphertext';
import { KMS_OPERATIONS } from '../../src/operations/registry';
import { opensslRandomMaterial, opensslWrap } from '../helpers/openssl-import';
import { startServer, stopAndRemove, type TestServer } from '../helpers/server';

const US = 'us-east-1';
const EU = 'eu-west-1';
const PLAINTEXT = Buffer.from('key-state matrix');
const INVALID_GRANT_ID = 'The grant ID does not identify a grant on this KMS key.';

// ---------------------------------------------------------------------------------------------
// Columns

type State = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingImport' | 'PendingReplicaDeletion';

interface Column {
  readonly name: string;
  readonly state: State;
  /** Origin EXTERNAL (else AWS_KMS). */
  readonly external: boolean;
  /** EXTERNAL only: material was imported before the key reached the state. */
  readonly imported: boolean;
}

const COLUMNS: readonly Column[] = [
  { name: 'Enabled', state: 'Enabled', external: false, imported: false },
  { name: 'Enabled, imported material', state: 'Enabled', external: true, imported: true },
  { name: 'Disabled', state: 'Disabled', external: false, imported: false },
  { name: 'Disabled, imported material', state: 'Disabled', external: true, imported: true },
  { name: 'PendingDeletion', state: 'PendingDeletion', external: false, imported: false },
  { name: 'PendingDeletion, imported material', state: 'PendingDeletion', external: true, imported: true },
  { name: 'PendingImport, never imported', state: 'PendingImport', external: true, imported: false },
  { name: 'PendingImport, after DeleteImportedKeyMaterial', state: 'PendingImport', external: true, imported: true },
  { name: 'PendingReplicaDeletion', state: 'PendingReplicaDeletion', external: false, imported: false },
];

const PHRASE: Readonly<Record<State, string>> = {
  Enabled: 'enabled',
  Disabled: 'disabled',
  PendingDeletion: 'pending deletion',
  PendingImport: 'pending import',
  PendingReplicaDeletion: 'pending replica deletion',
};

// ---------------------------------------------------------------------------------------------
// Outcomes (the cells)

type Outcome =
  /** Success; `then` is the key state afterwards when the call changes it. */
  | { readonly ok: true; readonly then?: State }
  | { readonly ok: false; readonly error: string; readonly message: (arn: string, col: Column) => string };

/** ✓ */
const OK: Outcome = { ok: true };
/** ✓, and the key moves to `state`. */
const to = (state: State): Outcome => ({ ok: true, then: state });
/** [1] */
const DIS: Outcome = { ok: false, error: 'DisabledException', message: (arn) => `${arn} is disabled.` };
/** [3] [5] [8] [10] (and [2], answered as [3]) */
const INV: Outcome = { ok: false, error: 'KMSInvalidStateException', message: (arn, col) => `${arn} is ${PHRASE[col.state]}.` };
/** The matrix's keys are symmetric: a signing or MAC operation passes the state check, then fails on usage. */
const USAGE: Outcome = {
  ok: false,
  error: 'InvalidKeyUsageException',
  message: (arn) => `${arn} key usage is ENCRYPT_DECRYPT which is not valid for this operation.`,
};
/** GetPublicKey of a symmetric key. */
const NO_PUBLIC: Outcome = {
  ok: false,
  error: 'UnsupportedOperationException',
  message: (arn) => `${arn} key spec is SYMMETRIC_DEFAULT which is not valid for this operation.`,
};
/** [4] */
const NPD: Outcome = { ok: false, error: 'KMSInvalidStateException', message: (arn) => `${arn} is not pending deletion.` };
/** [6] [7]: the key's material is imported. */
const EXT: Outcome = {
  ok: false,
  error: 'UnsupportedOperationException',
  message: (arn) => `${arn} origin is EXTERNAL which is not valid for this operation.`,
};
/** [9]: the key cannot have imported material. */
const KMS: Outcome = {
  ok: false,
  error: 'UnsupportedOperationException',
  message: (arn) => `${arn} origin is AWS_KMS which is not valid for this operation.`,
};
/** See the header: RevokeGrant/RetireGrant on a key that can never have had a grant. */
const NO_GRANT: Outcome = { ok: false, error: 'InvalidGrantIdException', message: () => INVALID_GRANT_ID };

function describeOutcome(o: Outcome): string {
  if (o.ok) return o.then === undefined ? 'succeeds' : `succeeds, key becomes ${o.then}`;
  return o.error;
}

// ---------------------------------------------------------------------------------------------
// Fixtures

interface BuildOptions {
  /** A multi-Region primary key in us-east-1 (always for PendingReplicaDeletion). */
  readonly multiRegion?: boolean;
  /** With a replica in eu-west-1, where the column's state allows one. */
  readonly replica?: boolean;
  /** EXTERNAL keys: fetch an import token and wrap the material for it before the state. */
  readonly importParams?: boolean;
}

interface Fixture {
  readonly col: Column;
  readonly keyId: string;
  readonly arn: string;
  /** Made by the key while it was Enabled, or (never imported) a well-formed blob naming the key. */
  ciphertext: Uint8Array;
  /** EXTERNAL keys: the 32 bytes imported (or, never imported, to be imported). */
  material?: Buffer;
  /** EXTERNAL keys: a genuine token and the material wrapped for it (fetched before the state). */
  importToken?: Uint8Array;
  encryptedMaterial?: Buffer;
  /** An alias of the key, for UpdateAlias with the key as the alias's current target. */
  readonly aliasToMove: string;
  /** An alias of the key, for DeleteAlias. */
  readonly aliasToDelete: string;
  /** Grants made while the key was Enabled: one to revoke, one to retire (none if never Enabled). */
  grants: string[];
  readonly replica: boolean;
}

interface Row {
  /** Registry operation name. */
  readonly op: string;
  /** Test label when the operation has several rows. */
  readonly label?: string;
  /** Success may change the key: each success cell gets a fresh key. */
  readonly mutates?: boolean;
  readonly build?: BuildOptions;
  /** One cell per column, in COLUMNS order. */
  readonly cells: readonly Outcome[];
  run(f: Fixture): Promise<unknown>;
  /** Extra checks of a successful response. */
  check?(out: any, f: Fixture): void | Promise<void>;
}

describe('key state × operation matrix (kms-reference.md §8)', () => {
  let server: TestServer;
  let us: KMSClient;
  let eu: KMSClient;
  /** An Enabled AWS_KMS key: the other key of ReEncrypt and UpdateAlias. */
  let other: KeyMetadata;
  /** A ciphertext of `other`. */
  let otherCiphertext: Uint8Array;
  let grantee: string;
  let n = 0;
  const unique = (prefix: string): string => `alias/matrix-${prefix}-${++n}`;

  before(async () => {
    server = await startServer({ args: ['--regions', `${US},${EU}`] });
    us = server.client();
    eu = server.client({ region: EU });
    grantee = `arn:aws:iam::${server.accountId}:user/matrix-grantee`;
    other = (await us.send(new CreateKeyCommand({ Description: 'matrix: the other key' }))).KeyMetadata!;
    otherCiphertext = (await us.send(new EncryptCommand({ KeyId: other.KeyId, Plaintext: PLAINTEXT }))).CiphertextBlob!;
  });
  after(async () => {
    us?.destroy();
    eu?.destroy();
    await stopAndRemove(server, { exitCode: 0 });
  });

  async function describeKey(keyId: string, client = us): Promise<KeyMetadata> {
    return (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata!;
  }

  /** GetParametersForImport + openssl, as AWS documents; returns the token and wrapped material. */
  async function wrapFor(client: KMSClient, keyId: string, material: Buffer): Promise<{ ImportToken: Uint8Array; EncryptedKeyMaterial: Buffer }> {
    const p = await client.send(
      new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }),
    );
    return { ImportToken: p.ImportToken!, EncryptedKeyMaterial: opensslWrap('RSAES_OAEP_SHA_256', p.PublicKey!, material) };
  }

  async function importInto(client: KMSClient, keyId: string, material: Buffer): Promise<void> {
    const w = await wrapFor(client, keyId, material);
    await client.send(new ImportKeyMaterialCommand({ KeyId: keyId, ...w, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));
  }

  /** A new key in the column's state (in us-east-1). */
  async function build(col: Column, opts: BuildOptions = {}): Promise<Fixture> {
    const prd = col.state === 'PendingReplicaDeletion';
    const multiRegion = prd || opts.multiRegion === true;
    // A replica is possible when the key was Enabled before reaching the state and the state is
    // not PendingDeletion (a primary with a replica goes to PendingReplicaDeletion instead).
    const replica = prd || (multiRegion && opts.replica === true && col.state !== 'PendingDeletion' && (!col.external || col.imported));
    const m = (
      await us.send(
        new CreateKeyCommand({
          Description: `matrix: ${col.name}`,
          ...(col.external ? { Origin: 'EXTERNAL' as const } : {}),
          ...(multiRegion ? { MultiRegion: true } : {}),
        }),
      )
    ).KeyMetadata!;
    const keyId = m.KeyId!;
    const f: Fixture = {
      col,
      keyId,
      arn: m.Arn!,
      ciphertext: new Uint8Array(),
      aliasToMove: unique('move'),
      aliasToDelete: unique('delete'),
      grants: [],
      replica,
    };
    // Aliases may be created in every state but PendingDeletion/PendingReplicaDeletion.
    await us.send(new CreateAliasCommand({ AliasName: f.aliasToMove, TargetKeyId: keyId }));
    await us.send(new CreateAliasCommand({ AliasName: f.aliasToDelete, TargetKeyId: keyId }));
    if (col.external) {
      f.material = opensslRandomMaterial(32);
      if (col.imported) await importInto(us, keyId, f.material);
    }
    if (!col.external || col.imported) {
      // Enabled now: make a ciphertext and the grants that RevokeGrant and RetireGrant use.
      f.ciphertext = (await us.send(new EncryptCommand({ KeyId: keyId, Plaintext: PLAINTEXT }))).CiphertextBlob!;
      for (let i = 0; i < 2; i++) {
        f.grants.push((await us.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: grantee, Operations: ['Decrypt'] }))).GrantId!);
      }
    } else {
      // Never had material: a blob in Keyhold's format naming the key's version 1, made under a
      // random key. Decrypt and ReEncrypt must refuse it for the key's state before decrypting.
      f.ciphertext = encryptSymmetric(server.accountId, keyId, 1, randomBytes(32), PLAINTEXT, undefined);
    }
    if (replica) {
      const r = await us.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: EU }));
      if (col.external) {
        assert.equal(r.ReplicaKeyMetadata!.KeyState, 'PendingImport');
        await importInto(eu, keyId, f.material!);
      }
      assert.equal((await describeKey(keyId, eu)).KeyState, 'Enabled');
    }
    if (col.external && opts.importParams === true) {
      // Fetched now: GetParametersForImport itself is refused pending deletion ([8]).
      const w = await wrapFor(us, keyId, f.material!);
      f.importToken = w.ImportToken;
      f.encryptedMaterial = w.EncryptedKeyMaterial;
    }

    switch (col.state) {
      case 'Enabled':
        break;
      case 'Disabled':
        await us.send(new DisableKeyCommand({ KeyId: keyId }));
        break;
      case 'PendingDeletion':
      case 'PendingReplicaDeletion': {
        const out = await us.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
        assert.equal(out.KeyState, col.state);
        break;
      }
      case 'PendingImport':
        if (col.imported) await us.send(new DeleteImportedKeyMaterialCommand({ KeyId: keyId }));
        break;
    }
    assert.equal((await describeKey(keyId)).KeyState, col.state, `fixture for ${col.name}`);
    return f;
  }

  // -------------------------------------------------------------------------------------------
  // The table. Column order:
  //   Enabled, Enabled(imp), Disabled, Disabled(imp), PD, PD(imp), PI(never), PI(deleted), PRD

  const USE = [OK, OK, DIS, DIS, INV, INV, INV, INV, INV] as const;
  const ANY = [OK, OK, OK, OK, OK, OK, OK, OK, OK] as const;
  const MODIFY = [OK, OK, OK, OK, INV, INV, OK, OK, INV] as const;

  const WRONG_USAGE = [USAGE, USAGE, DIS, DIS, INV, INV, INV, INV, INV] as const;
  const MESSAGE = Buffer.from('m');

  const ROWS: readonly Row[] = [
    {
      op: 'Sign',
      cells: WRONG_USAGE,
      run: (f) => us.send(new SignCommand({ KeyId: f.keyId, Message: MESSAGE, SigningAlgorithm: 'ECDSA_SHA_256' })),
    },
    {
      op: 'Verify',
      cells: WRONG_USAGE,
      run: (f) => us.send(new VerifyCommand({ KeyId: f.keyId, Message: MESSAGE, Signature: MESSAGE, SigningAlgorithm: 'ECDSA_SHA_256' })),
    },
    {
      op: 'GetPublicKey',
      cells: [NO_PUBLIC, NO_PUBLIC, DIS, DIS, INV, INV, INV, INV, INV],
      run: (f) => us.send(new GetPublicKeyCommand({ KeyId: f.keyId })),
    },
    {
      op: 'GenerateMac',
      cells: WRONG_USAGE,
      run: (f) => us.send(new GenerateMacCommand({ KeyId: f.keyId, Message: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })),
    },
    {
      op: 'VerifyMac',
      cells: WRONG_USAGE,
      run: (f) => us.send(new VerifyMacCommand({ KeyId: f.keyId, Message: MESSAGE, Mac: MESSAGE, MacAlgorithm: 'HMAC_SHA_256' })),
    },
    // Issue 10's operations check state before usage, as the other cryptographic operations do.
    {
      op: 'DeriveSharedSecret',
      cells: WRONG_USAGE,
      run: (f) => us.send(new DeriveSharedSecretCommand({ KeyId: f.keyId, KeyAgreementAlgorithm: 'ECDH', PublicKey: MESSAGE })),
    },
    {
      op: 'Encapsulate',
      cells: WRONG_USAGE,
      run: (f) => us.send(new EncapsulateCommand({ KeyId: f.keyId, EncapsulationAlgorithm: 'ML_KEM' })),
    },
    {
      op: 'Decapsulate',
      cells: WRONG_USAGE,
      run: (f) => us.send(new DecapsulateCommand({ KeyId: f.keyId, SharedSecretCiphertextBlob: MESSAGE, EncapsulationAlgorithm: 'ML_KEM' })),
    },
    {
      op: 'Encrypt',
      cells: USE,
      run: (f) => us.send(new EncryptCommand({ KeyId: f.keyId, Plaintext: PLAINTEXT })),
      check: (out, f) => assert.equal(out.KeyId, f.arn),
    },
    {
      op: 'Decrypt',
      cells: USE,
      run: (f) => us.send(new DecryptCommand({ CiphertextBlob: f.ciphertext })),
      check: (out, f) => {
        assert.equal(out.KeyId, f.arn);
        assert.deepEqual(Buffer.from(out.Plaintext), PLAINTEXT);
      },
    },
    {
      op: 'ReEncrypt',
      label: 'ReEncrypt (key as source)',
      cells: USE,
      run: (f) => us.send(new ReEncryptCommand({ CiphertextBlob: f.ciphertext, DestinationKeyId: other.KeyId })),
      check: (out, f) => assert.equal(out.SourceKeyId, f.arn),
    },
    {
      op: 'ReEncrypt',
      label: 'ReEncrypt (key as destination)',
      cells: USE,
      run: (f) => us.send(new ReEncryptCommand({ CiphertextBlob: otherCiphertext, DestinationKeyId: f.keyId })),
      check: (out, f) => assert.equal(out.KeyId, f.arn),
    },
    {
      op: 'GenerateDataKey',
      cells: USE,
      run: (f) => us.send(new GenerateDataKeyCommand({ KeyId: f.keyId, KeySpec: 'AES_256' })),
      check: (out) => assert.equal(out.Plaintext.length, 32),
    },
    {
      op: 'GenerateDataKeyWithoutPlaintext',
      cells: USE,
      run: (f) => us.send(new GenerateDataKeyWithoutPlaintextCommand({ KeyId: f.keyId, NumberOfBytes: 16 })),
      check: (out) => assert.equal(out.Plaintext, undefined),
    },
    {
      op: 'GenerateDataKeyPair',
      cells: USE,
      run: (f) => us.send(new GenerateDataKeyPairCommand({ KeyId: f.keyId, KeyPairSpec: 'ECC_NIST_P256' })),
      check: (out, f) => assert.equal(out.KeyId, f.arn),
    },
    {
      op: 'GenerateDataKeyPairWithoutPlaintext',
      cells: USE,
      run: (f) => us.send(new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: f.keyId, KeyPairSpec: 'ECC_NIST_P256' })),
      check: (out) => assert.equal(out.PrivateKeyPlaintext, undefined),
    },
    {
      op: 'DescribeKey',
      cells: ANY,
      run: (f) => us.send(new DescribeKeyCommand({ KeyId: f.keyId })),
      check: (out, f) => {
        assert.equal(out.KeyMetadata.KeyState, f.col.state);
        assert.equal(out.KeyMetadata.Enabled, f.col.state === 'Enabled');
        assert.equal(out.KeyMetadata.Origin, f.col.external ? 'EXTERNAL' : 'AWS_KMS');
      },
    },
    {
      op: 'EnableKey',
      mutates: true,
      cells: [OK, OK, to('Enabled'), to('Enabled'), INV, INV, INV, INV, INV],
      run: (f) => us.send(new EnableKeyCommand({ KeyId: f.keyId })),
    },
    {
      op: 'DisableKey',
      mutates: true,
      cells: [to('Disabled'), to('Disabled'), OK, OK, INV, INV, INV, INV, INV],
      run: (f) => us.send(new DisableKeyCommand({ KeyId: f.keyId })),
    },
    {
      op: 'UpdateKeyDescription',
      cells: MODIFY,
      run: (f) => us.send(new UpdateKeyDescriptionCommand({ KeyId: f.keyId, Description: 'updated by the matrix' })),
      check: async (_out, f) => assert.equal((await describeKey(f.keyId)).Description, 'updated by the matrix'),
    },
    {
      op: 'TagResource',
      cells: MODIFY,
      run: (f) => us.send(new TagResourceCommand({ KeyId: f.keyId, Tags: [{ TagKey: 'matrix', TagValue: f.col.name }] })),
    },
    {
      op: 'UntagResource',
      cells: MODIFY,
      run: (f) => us.send(new UntagResourceCommand({ KeyId: f.keyId, TagKeys: ['matrix'] })),
    },
    {
      op: 'ListResourceTags',
      cells: ANY,
      run: (f) => us.send(new ListResourceTagsCommand({ KeyId: f.keyId })),
    },
    {
      op: 'GetKeyPolicy',
      cells: ANY,
      run: (f) => us.send(new GetKeyPolicyCommand({ KeyId: f.keyId, PolicyName: 'default' })),
      check: (out) => assert.equal(typeof out.Policy, 'string'),
    },
    {
      op: 'PutKeyPolicy',
      cells: ANY,
      run: async (f) => {
        const { Policy } = await us.send(new GetKeyPolicyCommand({ KeyId: f.keyId, PolicyName: 'default' }));
        return us.send(new PutKeyPolicyCommand({ KeyId: f.keyId, PolicyName: 'default', Policy }));
      },
    },
    {
      op: 'ListKeyPolicies',
      cells: ANY,
      run: (f) => us.send(new ListKeyPoliciesCommand({ KeyId: f.keyId })),
      check: (out) => assert.deepEqual(out.PolicyNames, ['default']),
    },
    {
      op: 'ListAliases',
      cells: ANY,
      run: (f) => us.send(new ListAliasesCommand({ KeyId: f.keyId })),
      check: (out, f) => assert.ok(out.Aliases.some((a: { AliasName: string }) => a.AliasName === f.aliasToMove)),
    },
    {
      op: 'CreateAlias',
      cells: MODIFY,
      run: (f) => us.send(new CreateAliasCommand({ AliasName: unique('new'), TargetKeyId: f.keyId })),
    },
    {
      op: 'UpdateAlias',
      label: 'UpdateAlias (key as the new target)',
      cells: MODIFY,
      run: async (f) => {
        const alias = unique('to');
        await us.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: other.KeyId }));
        return us.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: f.keyId }));
      },
    },
    {
      // [10]: "if the source key is pending deletion the command succeeds".
      op: 'UpdateAlias',
      label: 'UpdateAlias (key as the current target)',
      cells: ANY,
      run: (f) => us.send(new UpdateAliasCommand({ AliasName: f.aliasToMove, TargetKeyId: other.KeyId })),
    },
    {
      op: 'DeleteAlias',
      cells: ANY,
      run: (f) => us.send(new DeleteAliasCommand({ AliasName: f.aliasToDelete })),
    },
    {
      op: 'ScheduleKeyDeletion',
      mutates: true,
      cells: [
        to('PendingDeletion'), to('PendingDeletion'), to('PendingDeletion'), to('PendingDeletion'), INV, INV,
        to('PendingDeletion'), to('PendingDeletion'), INV,
      ],
      run: (f) => us.send(new ScheduleKeyDeletionCommand({ KeyId: f.keyId, PendingWindowInDays: 7 })),
      check: (out, f) => {
        assert.equal(out.KeyId, f.arn);
        assert.equal(out.KeyState, 'PendingDeletion');
      },
    },
    {
      op: 'CancelKeyDeletion',
      mutates: true,
      cells: [NPD, NPD, NPD, NPD, to('Disabled'), to('Disabled'), NPD, NPD, to('Disabled')],
      run: (f) => us.send(new CancelKeyDeletionCommand({ KeyId: f.keyId })),
      check: (out, f) => assert.equal(out.KeyId, f.arn),
    },
    {
      op: 'EnableKeyRotation',
      mutates: true,
      cells: [OK, EXT, DIS, EXT, INV, EXT, EXT, EXT, INV],
      run: (f) => us.send(new EnableKeyRotationCommand({ KeyId: f.keyId, RotationPeriodInDays: 180 })),
      check: async (_out, f) => {
        const s = await us.send(new GetKeyRotationStatusCommand({ KeyId: f.keyId }));
        assert.equal(s.KeyRotationEnabled, true);
        assert.equal(s.RotationPeriodInDays, 180);
      },
    },
    {
      op: 'DisableKeyRotation',
      mutates: true,
      cells: [OK, EXT, DIS, EXT, INV, EXT, EXT, EXT, INV],
      run: (f) => us.send(new DisableKeyRotationCommand({ KeyId: f.keyId })),
    },
    {
      op: 'GetKeyRotationStatus',
      cells: [OK, EXT, OK, EXT, OK, EXT, EXT, EXT, OK],
      run: (f) => us.send(new GetKeyRotationStatusCommand({ KeyId: f.keyId })),
      check: (out, f) => {
        assert.equal(out.KeyId, f.arn);
        assert.equal(out.KeyRotationEnabled, false);
      },
    },
    {
      op: 'RotateKeyOnDemand',
      mutates: true,
      cells: [OK, EXT, DIS, EXT, INV, EXT, EXT, EXT, INV],
      run: (f) => us.send(new RotateKeyOnDemandCommand({ KeyId: f.keyId })),
      check: async (out, f) => {
        // The key ID, as AWS answers (docs/compatibility.md).
        assert.equal(out.KeyId, f.arn.split('/').pop());
        // The material the key had before still decrypts.
        const d = await us.send(new DecryptCommand({ CiphertextBlob: f.ciphertext }));
        assert.deepEqual(Buffer.from(d.Plaintext!), PLAINTEXT);
      },
    },
    {
      op: 'ListKeyRotations',
      cells: ANY,
      run: (f) => us.send(new ListKeyRotationsCommand({ KeyId: f.keyId, IncludeKeyMaterial: 'ALL_KEY_MATERIAL' })),
    },
    {
      op: 'GetParametersForImport',
      cells: [KMS, OK, KMS, OK, KMS, INV, OK, OK, KMS],
      run: (f) =>
        us.send(new GetParametersForImportCommand({ KeyId: f.keyId, WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', WrappingKeySpec: 'RSA_3072' })),
      check: (out, f) => assert.equal(out.KeyId, f.arn),
    },
    {
      op: 'ImportKeyMaterial',
      mutates: true,
      build: { importParams: true },
      cells: [KMS, OK, KMS, OK, KMS, INV, to('Enabled'), to('Enabled'), KMS],
      run: (f) =>
        us.send(
          new ImportKeyMaterialCommand({
            KeyId: f.keyId,
            // AWS_KMS keys cannot get a token; any token-shaped bytes do, the state is checked first.
            ImportToken: f.importToken ?? randomBytes(33),
            EncryptedKeyMaterial: f.encryptedMaterial ?? randomBytes(256),
            ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
          }),
        ),
      check: async (out, f) => {
        assert.equal(out.KeyId, f.arn);
        if (f.col.imported) {
          // The same material as before: the old ciphertext decrypts once the key is Enabled.
          if ((await describeKey(f.keyId)).KeyState === 'Enabled') {
            const d = await us.send(new DecryptCommand({ CiphertextBlob: f.ciphertext }));
            assert.deepEqual(Buffer.from(d.Plaintext!), PLAINTEXT);
          }
        }
      },
    },
    {
      op: 'DeleteImportedKeyMaterial',
      mutates: true,
      cells: [KMS, to('PendingImport'), KMS, to('PendingImport'), KMS, OK, OK, OK, KMS],
      run: (f) => us.send(new DeleteImportedKeyMaterialCommand({ KeyId: f.keyId })),
      check: (out, f) => assert.equal(out.KeyId, f.arn),
    },
    {
      op: 'CreateGrant',
      cells: USE,
      run: (f) => us.send(new CreateGrantCommand({ KeyId: f.keyId, GranteePrincipal: grantee, Operations: ['Encrypt'] })),
      check: (out) => assert.match(out.GrantId, /^[0-9a-f]{64}$/),
    },
    {
      op: 'ListGrants',
      cells: ANY,
      run: (f) => us.send(new ListGrantsCommand({ KeyId: f.keyId })),
    },
    {
      op: 'RevokeGrant',
      cells: [OK, OK, OK, OK, OK, OK, NO_GRANT, OK, OK],
      run: (f) => us.send(new RevokeGrantCommand({ KeyId: f.keyId, GrantId: f.grants[0] ?? 'a'.repeat(64) })),
    },
    {
      op: 'RetireGrant',
      cells: [OK, OK, OK, OK, OK, OK, NO_GRANT, OK, OK],
      run: (f) => us.send(new RetireGrantCommand({ KeyId: f.keyId, GrantId: f.grants[1] ?? 'b'.repeat(64) })),
    },
    {
      op: 'ReplicateKey',
      label: 'ReplicateKey (multi-Region primary)',
      mutates: true,
      build: { multiRegion: true },
      cells: USE,
      run: (f) => us.send(new ReplicateKeyCommand({ KeyId: f.keyId, ReplicaRegion: EU })),
      check: (out, f) => {
        assert.equal(out.ReplicaKeyMetadata.Arn, `arn:aws:kms:${EU}:${server.accountId}:key/${f.keyId}`);
        // Never Creating: the replica is complete when the call returns.
        assert.equal(out.ReplicaKeyMetadata.KeyState, f.col.external ? 'PendingImport' : 'Enabled');
      },
    },
    {
      op: 'UpdatePrimaryRegion',
      label: 'UpdatePrimaryRegion (multi-Region primary)',
      mutates: true,
      build: { multiRegion: true, replica: true },
      cells: USE,
      run: (f) => us.send(new UpdatePrimaryRegionCommand({ KeyId: f.keyId, PrimaryRegion: EU })),
      check: async (_out, f) => {
        // Never Updating: the swap is complete when the call returns.
        const here = await describeKey(f.keyId);
        const there = await describeKey(f.keyId, eu);
        assert.equal(here.MultiRegionConfiguration!.MultiRegionKeyType, 'REPLICA');
        assert.equal(there.MultiRegionConfiguration!.MultiRegionKeyType, 'PRIMARY');
        assert.equal(there.KeyState, 'Enabled');
      },
    },
  ];

  test('the table has one cell per column and covers every registry operation that names an existing key', () => {
    for (const row of ROWS) assert.equal(row.cells.length, COLUMNS.length, `${row.label ?? row.op}`);
    const keyMembers = ['KeyId', 'TargetKeyId', 'SourceKeyId', 'DestinationKeyId'];
    const namingKey = Object.entries(KMS_OPERATIONS)
      .filter(([, op]) => keyMembers.some((m) => m in op.input.members))
      .map(([name]) => name)
      .sort();
    const covered = new Set(ROWS.map((r) => r.op));
    assert.deepEqual(namingKey.filter((name) => !covered.has(name)), [], 'operations without a row in the matrix');
    for (const op of covered) assert.ok(op in KMS_OPERATIONS, `${op} is not in the registry`);
  });

  COLUMNS.forEach((col, c) => {
    describe(`state ${col.name}`, () => {
      let shared: Fixture | undefined;

      for (const row of ROWS) {
        const expected = row.cells[c]!;
        test(`${row.label ?? row.op}: ${describeOutcome(expected)}`, async () => {
          const fresh = row.build !== undefined || (row.mutates === true && expected.ok);
          const f = fresh ? await build(col, row.build) : (shared ??= await build(col));
          if (row.build?.replica === true && expected.ok) assert.ok(f.replica, 'a replica for UpdatePrimaryRegion');
          if (expected.ok) {
            const out = await row.run(f);
            if (row.check !== undefined) await row.check(out, f);
          } else {
            await assert.rejects(row.run(f), (err: Error) => {
              assert.equal(err.name, expected.error, `expected ${expected.error}, got ${err.name}: ${err.message}`);
              assert.equal(err.message, expected.message(f.arn, col));
              return true;
            });
          }
          const after = (expected.ok ? expected.then : undefined) ?? col.state;
          assert.equal((await describeKey(f.keyId)).KeyState, after, 'key state after the call');
        });
      }
    });
  });

  test('Creating and Updating are never observable: ReplicateKey and UpdatePrimaryRegion finish before answering', async () => {
    const p = (await us.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    const r = await us.send(new ReplicateKeyCommand({ KeyId: p.KeyId, ReplicaRegion: EU }));
    assert.equal(r.ReplicaKeyMetadata!.KeyState, 'Enabled');
    assert.equal((await describeKey(p.KeyId!, eu)).KeyState, 'Enabled');
    await us.send(new UpdatePrimaryRegionCommand({ KeyId: p.KeyId, PrimaryRegion: EU }));
    const [a, b] = await Promise.all([describeKey(p.KeyId!), describeKey(p.KeyId!, eu)]);
    assert.equal(a.KeyState, 'Enabled');
    assert.equal(b.KeyState, 'Enabled');
    assert.equal(b.MultiRegionConfiguration!.MultiRegionKeyType, 'PRIMARY');
    // And the new primary is usable at once.
    await eu.send(new EncryptCommand({ KeyId: p.KeyId, Plaintext: PLAINTEXT }));
  });
});
