// Field schemas reused across request bodies, each with the description OpenAPI shows.
import { Type } from '@sinclair/typebox'

export const Email = Type.String({
  format: 'email',
  maxLength: 254,
  description: 'Email address; trimmed and compared case-insensitively.',
  examples: ['ada@example.com']
})

export const Username = Type.String({
  minLength: 1,
  maxLength: 150,
  pattern: '^[\\p{L}\\p{N}_.@+-]+$',
  description: '1 to 150 letters, digits and `_ . @ + -`; unique, compared case-insensitively.',
  examples: ['ada']
})

/** The policy (length in bytes, not numeric, not the email) is checked by the domain for clear messages. */
export const NewPassword = Type.String({
  minLength: 1,
  maxLength: 1024,
  description: 'At least 8 characters, at most 72 bytes in UTF-8, not entirely numeric, not the email or username.',
  examples: ['correct horse battery']
})

export const Password = Type.String({
  minLength: 1,
  maxLength: 1024,
  description: 'The account password.',
  examples: ['correct horse battery']
})

export const OneTimeToken = Type.String({
  minLength: 1,
  maxLength: 512,
  description: 'The token from the `token=` parameter of the link in the mail.',
  examples: ['Xq3v0sM1b9Yt2kLwHc7pRf4nJd8aZe6uGi5oTy1sBxQ']
})

export const RefreshTokenField = Type.String({
  minLength: 1,
  maxLength: 512,
  description: 'A refresh token from login or refresh. Browsers send it as the `refresh_token` cookie instead.',
  examples: ['pK2wX9dQ4mZr7tYb1nVc6hJs3fLg8aEo5uRi0yTkWqM']
})

/**
 * The options of the refresh and logout bodies. The first example, the one Swagger UI pre-fills, is
 * `{}`: a `refresh` in the body is used instead of the cookie, so a pre-filled sample token would
 * shadow the browser's real cookie (and, being unknown, get it cleared).
 */
export const refreshTokenBodyOptions = {
  additionalProperties: false,
  description: 'Optional. Browsers send the `refresh_token` cookie and the empty body `{}` (the first example); other clients send `{"refresh": "…"}`. A `refresh` in the body is used instead of the cookie.',
  examples: [{}, { refresh: 'pK2wX9dQ4mZr7tYb1nVc6hJs3fLg8aEo5uRi0yTkWqM' }]
} as const
