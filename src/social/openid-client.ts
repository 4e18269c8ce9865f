// openid-client (with oauth4webapi), loaded when a provider is enabled or a flow needs it, never at start.
import type * as Oidc from 'openid-client'

export type OpenidClient = typeof Oidc

let loading: Promise<OpenidClient> | undefined

/** The module, imported once: a server with no social provider never loads it (~0.8 MiB of heap). */
export function openidClient (): Promise<OpenidClient> {
  loading ??= import('openid-client')
  return loading
}
