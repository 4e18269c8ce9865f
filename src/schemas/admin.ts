// Schemas the admin API's route files share: path ids, permission codenames and group names.
import { Type } from '@sinclair/typebox'
import { AUDIT_EVENT_TYPES } from '../audit/events.js'

export const UserParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'The user id.', examples: ['7f1c5f8e-8d8a-4f57-a8f1-0a4e1c3b7d21'] })
})

export const GroupParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64, description: 'The group id.', examples: ['3b9d2c41-6f0e-4a8b-9c7d-1e2f3a4b5c6d'] })
})

export const Codename = Type.String({
  minLength: 3,
  maxLength: 100,
  pattern: '^[a-z][a-z0-9_]*\\.[a-z][a-z0-9_]*$',
  description: 'A permission codename, `<area>.<action>` in lower case: letters, digits and `_`.',
  examples: ['posts.add']
})

export const GroupName = Type.String({
  minLength: 1,
  maxLength: 150,
  // No control or format characters: names are joined with U+001F when read back from SQLite, and
  // invisible characters would let two groups look alike in a staff screen.
  pattern: '^[^\\p{C}]+$',
  description: '1 to 150 characters, no control or invisible formatting characters; unique.',
  examples: ['editors']
})

export const BAD_ID: [number, string] = [400, '`validation_failed`: the id is malformed.']

export const EventType = Type.Union(AUDIT_EVENT_TYPES.map(type => Type.Literal(type)), { description: 'An event type of the catalogue (README).', examples: ['user.login'] })
