// The opaque `cursor` of a paged list: where the previous page ended, as a position (a time or a
// sequence number) and, where positions can tie, the id of the last item. One format for every list.
import { errors } from '../errors.js'

const notACursor = () => errors.validation([{ field: 'cursor', message: 'is not a cursor from a previous page' }])

export function encodePageCursor (list: string, position: number, id?: string): string {
  return Buffer.from(id === undefined ? `${list}:${position}` : `${list}:${position}:${id}`).toString('base64url')
}

/**
 * The position (and id, when `withId`) of a cursor of `list`; 400 validation_failed for anything
 * else. Positions stay within 15 digits, so that a time past what Date holds never reaches a query.
 */
export function decodePageCursor (list: string, cursor: string, withId: true): { position: number, id: string }
export function decodePageCursor (list: string, cursor: string, withId: false): { position: number }
export function decodePageCursor (list: string, cursor: string, withId: boolean): { position: number, id?: string } {
  const match = /^([a-z]+):(\d{1,15})(?::(.+))?$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  if (match === null || match[1] !== list || (match[3] !== undefined) !== withId) throw notACursor()
  return { position: Number(match[2]), ...(withId && { id: match[3] }) }
}
