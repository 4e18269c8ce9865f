// Named schemas shared by many routes; registered once so OpenAPI shows them as components.
import { Type, type Static, type TSchema } from '@sinclair/typebox'

/**
 * `type: [T, "null"]` (OpenAPI 3.1) rather than an anyOf: the response serializer then checks the
 * type with typeof instead of running a validator for every value.
 */
export function nullable<T extends TSchema & { type: string }> (schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] })
}

/** A `$ref` to a named schema that still types as the schema it points to. */
export function ref<T extends TSchema & { $id?: string }> (schema: T) {
  if (schema.$id === undefined) throw new Error('ref() needs a schema with an $id')
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id))
}

/** What an access token looks like in examples (header, claims and signature shortened). */
export const ACCESS_TOKEN_EXAMPLE = 'eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ik5qVTMifQ.eyJzdWIiOiI3ZjFjNWY4ZSIsInRva2VuX3R5cGUiOiJhY2Nlc3MifQ.c2lnbmF0dXJl'

export const FieldError = Type.Object({
  field: Type.String({ description: 'The request field at fault, e.g. `email` or `body` for the whole body.', examples: ['email'] }),
  message: Type.String({ description: 'What is wrong with it, for people.', examples: ['must be a valid email address'] })
}, { $id: 'FieldError', additionalProperties: false })

export const Problem = Type.Object({
  type: Type.String({ description: 'Always `about:blank`: the `code` says what happened.', examples: ['about:blank'] }),
  title: Type.String({ description: 'The HTTP status text.', examples: ['Unauthorized'] }),
  status: Type.Integer({ description: 'The HTTP status code.', examples: [401] }),
  code: Type.String({ description: 'Stable, machine-readable error key.', examples: ['not_authenticated'] }),
  detail: Type.String({ description: 'What happened, for people.', examples: ['Authentication credentials were not provided.'] }),
  instance: Type.Optional(Type.String({ description: 'The request path.', examples: ['/api/auth/me'] })),
  errors: Type.Optional(Type.Array(ref(FieldError), { description: 'Per-field problems of a `validation_failed` error.' }))
}, { $id: 'Problem', description: 'An RFC 9457 problem document.' })

export const User = Type.Object({
  id: Type.String({ description: 'Opaque, stable, never reused.', examples: ['7f1c5f8e-8d8a-4f57-a8f1-0a4e1c3b7d21'] }),
  email: Type.String({ format: 'email', description: 'Login identity; unique, stored lower-cased.', examples: ['ada@example.com'] }),
  username: Type.String({ description: 'Unique, compared case-insensitively.', examples: ['ada'] }),
  email_verified: Type.Boolean({ description: 'Whether the user proved control of the email address.' }),
  is_active: Type.Boolean({ description: 'An inactive account cannot log in.' }),
  is_staff: Type.Boolean({ description: 'May use staff tools.' }),
  is_superuser: Type.Boolean({ description: 'Has every permission.' }),
  date_joined: Type.String({ format: 'date-time', description: 'When the account was created.' }),
  last_login: nullable(Type.String({ format: 'date-time', description: 'The last successful login, or null.' })),
  groups: Type.Array(Type.String(), { description: 'Names of the groups the user belongs to.', examples: [['editors']] }),
  permissions: Type.Array(Type.String(), { description: 'Effective permission codenames: the user\'s own and its groups\'.', examples: [['posts.add', 'posts.change']] }),
  providers: Type.Array(Type.String(), { description: 'Linked social login providers.', examples: [['github']] })
}, { $id: 'User', additionalProperties: false, description: 'A user account. Never contains the password or its hash.' })
export type User = Static<typeof User>

/** The user as the admin API shows it: the profile plus the ban, which the user's own view leaves out. */
export const AdminUser = Type.Object({
  ...User.properties,
  is_banned: Type.Boolean({ description: 'Whether a ban was set. It applies while `banned_until` is null or in the future.' }),
  ban_reason: nullable(Type.String({ description: 'Why the user was banned, for staff; null when not banned or no reason was given.', examples: ['Spam in the comments'] })),
  banned_until: nullable(Type.String({ format: 'date-time', description: 'When the ban ends; null for a ban without end, or when not banned.' })),
  legacy_id: nullable(Type.Integer({ description: 'The user\'s id in the Django database it was imported from (`portcullis import-django`); null for a user made here.', examples: [42] })),
  mfa: Type.Object({
    totp: Type.Boolean({ description: 'Whether a confirmed authenticator app (TOTP) is set up.' }),
    passkeys: Type.Integer({ description: 'How many passkeys are registered.', examples: [1] }),
    recovery_codes_left: Type.Integer({ description: 'How many recovery codes are unused.' })
  }, { additionalProperties: false, description: 'The user\'s second factors (never their secrets); `DELETE /api/admin/users/{id}/mfa` removes them.' })
}, { $id: 'AdminUser', additionalProperties: false, description: 'A user account as staff see it. Never contains the password or its hash.' })
export type AdminUser = Static<typeof AdminUser>

export const TokenPair = Type.Object({
  access: Type.String({ description: 'The access JWT, for `Authorization: Bearer`.', examples: [ACCESS_TOKEN_EXAMPLE] }),
  refresh: Type.Optional(Type.String({ description: 'The refresh token (also set as the `refresh_token` cookie). Absent when the deployment delivers it by cookie only.', examples: ['pK2wX9dQ4mZr7tYb1nVc6hJs3fLg8aEo5uRi0yTkWqM'] })),
  token_type: Type.Literal('Bearer', { description: 'Always `Bearer`.' }),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires.', examples: [300] })
}, { $id: 'TokenPair', additionalProperties: false })

export const LoginResponse = Type.Object({
  ...TokenPair.properties,
  user: ref(User)
}, { $id: 'LoginResponse', additionalProperties: false, description: 'The token pair and the user who logged in.' })

export const MfaRequired = Type.Object({
  mfa_required: Type.Literal(true, { description: 'Always `true`: the password was right, and the account has a second factor. No tokens, no cookie yet.' }),
  mfa_token: Type.String({ description: 'Opaque, single-use, lives 5 minutes: send it to `POST /api/auth/mfa/verify` with a code.', examples: ['Yq3vK8sN1xW5bR7tC2mZ9pL4hF6dJ0aE3uG8iO1yTkS'] }),
  methods: Type.Array(Type.Union([Type.Literal('totp'), Type.Literal('webauthn'), Type.Literal('recovery_code')]), { description: 'The second factors this account can answer with: `totp` (a code of the authenticator app), `webauthn` (a passkey: `POST /api/auth/mfa/webauthn/options` first), `recovery_code`.', examples: [['totp', 'webauthn', 'recovery_code']] })
}, { $id: 'MfaRequired', additionalProperties: false, description: 'The first factor was right; the login needs a second one.' })

export const Detail = Type.Object({
  detail: Type.String({ description: 'A short message for people.', examples: ['Done.'] })
}, { $id: 'Detail', additionalProperties: false })

export const sharedSchemas = [FieldError, Problem, User, AdminUser, TokenPair, LoginResponse, MfaRequired, Detail]
